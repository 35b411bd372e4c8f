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

            // The starter cases name the taxonomy init wrote: once the user has their own, say where the case came from.
            var starter = evalCase.Tags.Contains(ProposalWriter.StarterTag, StringComparer.Ordinal);
            string Message(string message) => starter ? message + " in a starter case written by recal init" : message;
            string Hint(string hint) => starter
                ? $"delete the starter cases you do not need (the lines tagged \"{ProposalWriter.StarterTag}\" in {Path.GetFileName(evalCase.Location.File)}), or fix this one: {hint}"
                : hint;
            if (!intents.Contains(evalCase.Intent))
            {
                diagnostics.Error("RC1203", Message($"unknown intent '{evalCase.Intent}'"), evalCase.Location, Hint(Spelling.Hint(evalCase.Intent, [.. intents])));
            }

            foreach (var (dimension, value) in evalCase.Cohort)
            {
                if (!dimensions.TryGetValue(dimension, out var definition))
                {
                    diagnostics.Error("RC1206", Message($"unknown cohort dimension '{dimension}'"), evalCase.Location, Hint(Spelling.Hint(dimension, [.. dimensions.Keys])));
                }
                else if (definition.Values.Count > 0 && !definition.Values.Contains(value) && value != definition.Missing)
                {
                    diagnostics.Error("RC1206", Message($"'{value}' is not a value of cohort dimension '{dimension}'"), evalCase.Location, Hint(Spelling.Hint(value, definition.Values)));
                }
            }
        }
    }
}
