using System.Text.Json;
using FluentAssertions;
using Recal.Judging;
using Xunit;

namespace Recal.Core.Tests.Judging;

/// <summary>Checks every judge-agreement figure against scikit-learn, SciPy and NumPy (Fixtures/generate_judge_agreement.py).</summary>
public sealed class JudgeAgreementFixtureTests
{
    private const double Tolerance = 1e-12;

    private static readonly JsonElement Fixture = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "judge_agreement.json"))).RootElement;

    public static TheoryData<string> Datasets() => [.. Fixture.GetProperty("datasets").EnumerateArray().Select(d => d.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(Datasets))]
    public void Every_figure_matches_scikit_learn(string name)
    {
        // Given a dataset and the figures the reference libraries computed for it
        var dataset = Fixture.GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("name").GetString() == name);
        var expected = dataset.GetProperty("expected");

        // When recal measures it
        var diagnostics = new Recal.Diagnostics.DiagnosticBag();
        var report = JudgeAgreement.Measure(Items(dataset), new JudgeAgreementOptions(Confidence: Fixture.GetProperty("confidence").GetDouble(), SmallSample: Fixture.GetProperty("small_sample").GetInt32()), diagnostics);

        // Then nothing is wrong with the labels, and every figure equals the reference
        diagnostics.Items.Should().BeEmpty();
        report.Judges.Should().Equal(Strings(expected.GetProperty("judges")));
        report.Labels.Should().Equal(Strings(expected.GetProperty("labels")));
        var rows = expected.GetProperty("rows").EnumerateArray().ToList();
        report.Rows.Should().HaveCount(rows.Count);
        foreach (var (row, want) in report.Rows.Zip(rows))
        {
            row.Judge.Should().Be(want.GetProperty("judge").GetString());
            row.Segment.Should().Be(want.GetProperty("segment").GetString());
            row.Items.Should().Be(want.GetProperty("items").GetInt64());
            row.SmallSample.Should().Be(want.GetProperty("small_sample").GetBoolean());
            row.Unparsed.Should().Be(want.GetProperty("unparsed").GetInt64());
            row.PairwiseItems.Should().Be(want.GetProperty("pairwise_items").GetInt64());
            Same(row.Shown, want.GetProperty("shown"));
            if (row.PairwiseItems == 0)
            {
                row.Swapped.Should().BeNull();
                continue;
            }

            Same(row.Swapped!, want.GetProperty("swapped"));
            Same(row.BetweenOrders!, want.GetProperty("between_orders"));
            row.MeanAccuracy!.Value.Should().BeApproximately(want.GetProperty("mean_accuracy").GetDouble(), Tolerance);
            row.MeanKappa!.Value.Should().BeApproximately(want.GetProperty("mean_kappa").GetDouble(), Tolerance);
            row.CorrectInBothOrders.Should().Be(want.GetProperty("correct_in_both_orders").GetInt64());
            row.CorrectInBothOrdersShare!.Value.Should().BeApproximately(want.GetProperty("correct_in_both_orders_share").GetDouble(), Tolerance);
            row.Ties.Should().Be(want.GetProperty("ties").GetInt64());
            var bias = want.GetProperty("position_bias");
            row.PositionBias!.DecisiveVerdicts.Should().Be(bias.GetProperty("decisive_verdicts").GetInt64());
            row.PositionBias.FirstShown.Should().Be(bias.GetProperty("first_shown").GetInt64());
            row.PositionBias.Share.Should().BeApproximately(bias.GetProperty("share").GetDouble(), Tolerance);
            row.PositionBias.Lower.Should().BeApproximately(bias.GetProperty("lower").GetDouble(), Tolerance);
            row.PositionBias.Upper.Should().BeApproximately(bias.GetProperty("upper").GetDouble(), Tolerance);
            row.PositionBias.InconsistentPairs.Should().Be(bias.GetProperty("inconsistent_pairs").GetInt64());
            row.PositionBias.FirstBothTimes.Should().Be(bias.GetProperty("first_both_times").GetInt64());
            row.PositionBias.SecondBothTimes.Should().Be(bias.GetProperty("second_both_times").GetInt64());
        }

        foreach (var (confusion, want) in report.Confusion.Zip(expected.GetProperty("confusion").EnumerateArray()))
        {
            confusion.Judge.Should().Be(want.GetProperty("judge").GetString());
            confusion.Labels.Should().Equal(Strings(want.GetProperty("labels")));
            confusion.Shown.Should().BeEquivalentTo(Matrix(want.GetProperty("shown")), o => o.WithStrictOrdering());
            if (want.TryGetProperty("swapped", out var swapped))
            {
                confusion.Swapped.Should().BeEquivalentTo(Matrix(swapped), o => o.WithStrictOrdering());
            }
            else
            {
                confusion.Swapped.Should().BeNull();
            }
        }

        var between = expected.GetProperty("between_judges").EnumerateArray().ToList();
        report.BetweenJudges.Should().HaveCount(between.Count);
        foreach (var (pair, want) in report.BetweenJudges.Zip(between))
        {
            pair.First.Should().Be(want.GetProperty("first").GetString());
            pair.Second.Should().Be(want.GetProperty("second").GetString());
            Same(pair.Agreement, want.GetProperty("agreement"));
        }

        if (expected.TryGetProperty("fleiss", out var fleiss))
        {
            report.Fleiss!.Items.Should().Be(fleiss.GetProperty("items").GetInt64());
            report.Fleiss.Kappa.Should().BeApproximately(fleiss.GetProperty("kappa").GetDouble(), Tolerance);
        }
        else
        {
            report.Fleiss.Should().BeNull();
        }
    }

    private static void Same(OrderAgreement actual, JsonElement want)
    {
        actual.Items.Should().Be(want.GetProperty("items").GetInt64());
        actual.Agreeing.Should().Be(want.GetProperty("agreeing").GetInt64());
        actual.Accuracy.Should().BeApproximately(want.GetProperty("accuracy").GetDouble(), Tolerance);
        actual.AccuracyLower.Should().BeApproximately(want.GetProperty("accuracy_lower").GetDouble(), Tolerance);
        actual.AccuracyUpper.Should().BeApproximately(want.GetProperty("accuracy_upper").GetDouble(), Tolerance);
        actual.Kappa.Should().BeApproximately(want.GetProperty("kappa").GetDouble(), Tolerance);
        actual.KappaStandardError.Should().BeApproximately(want.GetProperty("kappa_standard_error").GetDouble(), Tolerance);
        actual.KappaLower.Should().BeApproximately(want.GetProperty("kappa_lower").GetDouble(), Tolerance);
        actual.KappaUpper.Should().BeApproximately(want.GetProperty("kappa_upper").GetDouble(), Tolerance);
    }

    private static List<LabelledJudgment> Items(JsonElement dataset) =>
    [
        .. dataset.GetProperty("items").EnumerateArray().Select(i => new LabelledJudgment(
            i.GetProperty("id").GetString()!,
            i.GetProperty("segment").GetString()!,
            i.GetProperty("human").GetString()!,
            i.GetProperty("judge").GetString() ?? JudgeAgreement.Unparsed,
            i.TryGetProperty("judge_swapped", out var s) ? s.GetString() ?? JudgeAgreement.Unparsed : null,
            i.GetProperty("judge_id").GetString()!)),
    ];

    private static List<string> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    private static long[][] Matrix(JsonElement array) => [.. array.EnumerateArray().Select(r => r.EnumerateArray().Select(c => c.GetInt64()).ToArray())];
}
