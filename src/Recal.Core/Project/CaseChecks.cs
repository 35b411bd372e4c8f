using Recal.Diagnostics;
using Recal.Domain;
using Recal.Text;

namespace Recal.Project;

/// <summary>Checks that span cases: unique ids, intents and cohort values the taxonomy knows.</summary>
internal static class CaseChecks
{
    public static void Run(IReadOnlyList<EvalCase> cases, Taxonomy taxonomy, DiagnosticBag diagnostics)
    {
        var intents = taxonomy.Intents.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var dimensions = taxonomy.Cohorts.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var seen = new Dictionary<string, EvalCase>(StringComparer.Ordinal);
        foreach (var evalCase in cases)
        {
            if (!seen.TryAdd(evalCase.Id, evalCase))
            {
                diagnostics.Error("RC1202", $"duplicate case id '{evalCase.Id}'", evalCase.Location, $"also used at {seen[evalCase.Id].Location}");
            }

            if (!intents.Contains(evalCase.Intent))
            {
                diagnostics.Error("RC1203", $"unknown intent '{evalCase.Intent}'", evalCase.Location, Spelling.Hint(evalCase.Intent, [.. intents]));
            }

            foreach (var (dimension, value) in evalCase.Cohort)
            {
                if (!dimensions.TryGetValue(dimension, out var definition))
                {
                    diagnostics.Error("RC1206", $"unknown cohort dimension '{dimension}'", evalCase.Location, Spelling.Hint(dimension, [.. dimensions.Keys]));
                }
                else if (definition.Values.Count > 0 && !definition.Values.Contains(value) && value != definition.Missing)
                {
                    diagnostics.Error("RC1206", $"'{value}' is not a value of cohort dimension '{dimension}'", evalCase.Location, Spelling.Hint(value, definition.Values));
                }
            }
        }
    }
}
