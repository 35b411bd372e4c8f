using Recal.Domain;

namespace Recal.Drift;

/// <summary>The eval set's counts per intent and per cohort value, computed once per report.</summary>
public sealed record EvalDistribution(IReadOnlyDictionary<string, long> Intents, IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Cohorts)
{
    /// <summary>Counts the cases; a case without a value for a cohort dimension counts under the dimension's missing value.</summary>
    public static EvalDistribution From(IEnumerable<EvalCase> cases, Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(taxonomy);
        var intents = new Dictionary<string, long>(StringComparer.Ordinal);
        var cohorts = taxonomy.Cohorts.ToDictionary(d => d.Name, _ => new Dictionary<string, long>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var evalCase in cases)
        {
            intents[evalCase.Intent] = intents.GetValueOrDefault(evalCase.Intent) + 1;
            foreach (var dimension in taxonomy.Cohorts)
            {
                var value = evalCase.Cohort.TryGetValue(dimension.Name, out var v) && (dimension.Values.Count == 0 || dimension.Values.Contains(v))
                    ? v
                    : dimension.Missing;
                var counts = cohorts[dimension.Name];
                counts[value] = counts.GetValueOrDefault(value) + 1;
            }
        }

        return new EvalDistribution(
            intents,
            cohorts.ToDictionary(kv => kv.Key, kv => (IReadOnlyDictionary<string, long>)kv.Value, StringComparer.Ordinal));
    }
}
