using System.Text.Json;
using FluentAssertions;
using Recal.Classification;
using Recal.Domain;
using Xunit;

namespace Recal.Core.Tests.Classification;

/// <summary>
/// The calibrated unknown threshold (docs/classifier.md#the-unknown-threshold), on two datasets: CLINC150 and HWU64,
/// whose intents, wording and size differ; the rule (5% of held-out examples) was fixed before either was measured.
/// </summary>
public sealed class UnknownCalibrationTests(ITestOutputHelper output)
{
    [Fact]
    public void On_clinc150_a_calibrated_threshold_labels_about_its_rate_of_unseen_in_scope_queries_unknown_and_most_out_of_scope()
    {
        // Given the 150 in-scope intents with 20 examples each, the threshold calibrated, out-of-scope left out of the taxonomy
        var data = Clinc150.Data;
        var taxonomy = data.Taxonomy(20) with { Classifier = ClassifierSettings.Auto };
        taxonomy = taxonomy with { Intents = [.. taxonomy.Intents.Where(i => i.Name != Clinc150.OutOfScope)] };

        // When it labels the held-out test queries
        var (threshold, inScopeUnknown, outOfScopeUnknown) = Measure(taxonomy, data.Test);

        // Then it labels unknown roughly the share it was calibrated for, and far more of the queries no intent covers
        output.WriteLine($"clinc150: threshold {threshold:0.000}; in-scope unknown {inScopeUnknown:0.000}; out-of-scope unknown {outOfScopeUnknown:0.000}");
        inScopeUnknown.Should().BeInRange(0.02, 0.12);
        outOfScopeUnknown.Should().BeGreaterThan(3 * inScopeUnknown);
    }

    [Fact]
    public void On_hwu64_with_withheld_scenarios_a_calibrated_threshold_separates_known_from_unknown_intents()
    {
        // Given HWU64's intents outside three withheld scenarios, 10 examples each, the threshold calibrated
        var train = Read("train.jsonl");
        var test = Read("test.jsonl");
        string[] withheld = ["music", "cooking", "transport"];
        var known = train.Where(r => !withheld.Contains(r.Scenario)).GroupBy(r => r.Intent).ToList();
        var taxonomy = new Taxonomy(1, [.. known.Select(g => new IntentDefinition(g.Key, null, [.. g.Take(10).Select(r => r.Text)], [], null))], [], ClassifierSettings.Auto);

        // When it labels the test queries, the withheld scenarios' as out of scope
        var (threshold, inScopeUnknown, outOfScopeUnknown) = Measure(taxonomy, [.. test.Select(r => (r.Text, withheld.Contains(r.Scenario) ? Clinc150.OutOfScope : r.Intent))]);

        // Then the unseen in-scope queries go unknown near the calibrated rate, the withheld intents' far more often
        output.WriteLine($"hwu64: threshold {threshold:0.000}; in-scope unknown {inScopeUnknown:0.000}; withheld-scenario unknown {outOfScopeUnknown:0.000}");
        inScopeUnknown.Should().BeInRange(0.02, 0.15);
        outOfScopeUnknown.Should().BeGreaterThan(2 * inScopeUnknown);
    }

    [Fact]
    public void A_fixed_threshold_is_kept_and_an_intent_with_one_example_is_never_held_out()
    {
        var taxonomy = new Taxonomy(1, [new IntentDefinition("a", null, ["alpha one", "alpha two", "alpha three"], [], null), new IntentDefinition("b", null, ["beta"], [], null)], [], new ClassifierSettings(0.42));

        LinearIntentClassifier.Train(taxonomy).UnknownBelow.Should().Be(0.42);
        var calibrated = LinearIntentClassifier.Train(taxonomy with { Classifier = ClassifierSettings.Auto });
        calibrated.UnknownBelow.Should().Be(LinearIntentClassifier.CalibrateUnknownBelow(taxonomy with { Classifier = ClassifierSettings.Auto })).And.BeInRange(0, 1);
        LinearIntentClassifier.TaxonomyFingerprint(taxonomy).Should().NotBe(LinearIntentClassifier.TaxonomyFingerprint(taxonomy with { Classifier = ClassifierSettings.Auto }));
    }

    private static (double Threshold, double InScopeUnknown, double OutOfScopeUnknown) Measure(Taxonomy taxonomy, IReadOnlyList<(string Text, string Intent)> test)
    {
        var classifier = LinearIntentClassifier.Train(taxonomy);
        var predictions = test.Select(r => (r.Intent, Predicted: classifier.Classify(r.Text))).ToList();
        var inScope = predictions.Where(p => p.Intent != Clinc150.OutOfScope).ToList();
        var outOfScope = predictions.Where(p => p.Intent == Clinc150.OutOfScope).ToList();
        return (classifier.UnknownBelow, inScope.Count(p => p.Predicted.IsUnknown) / (double)inScope.Count, outOfScope.Count(p => p.Predicted.IsUnknown) / (double)outOfScope.Count);
    }

    private static List<(string Text, string Intent, string Scenario)> Read(string file) =>
        [.. File.ReadLines(Path.Combine(RepositoryPaths.Hwu64, file)).Select(line =>
        {
            using var row = JsonDocument.Parse(line);
            var root = row.RootElement;
            return (root.GetProperty("text").GetString()!, root.GetProperty("intent").GetString()!, root.GetProperty("scenario").GetString()!);
        })];
}
