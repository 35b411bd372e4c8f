using FluentAssertions;
using Recal.Judging;
using Xunit;

namespace Recal.Core.Tests.Judging;

public sealed class JudgeAgreementTests
{
    [Fact]
    public void Labelled_pairs_give_the_hand_computed_kappa_and_position_consistency()
    {
        // Given 10 items: humans say pass 5 times and fail 5 times; the judge agrees on 8, one error each way.
        // pₒ = 0.8, pₑ = 0.5·0.5 + 0.5·0.5 = 0.5, κ = (0.8 − 0.5) / 0.5 = 0.6
        var items = new List<LabelledJudgment>();
        for (var i = 0; i < 4; i++)
        {
            items.Add(new($"p{i}", "billing", "pass", "pass", null));
            items.Add(new($"f{i}", "travel", "fail", "fail", null));
        }

        items.Add(new("x1", "billing", "pass", "fail", null));
        items.Add(new("x2", "travel", "fail", "pass", null));

        // And four pairwise items: three keep their winner when swapped (A↔B, tie stays tie), one does not
        var pairwise = new List<LabelledJudgment>
        {
            new("w1", "pairs", "A", "A", "B"),
            new("w2", "pairs", "B", "B", "A"),
            new("w3", "pairs", "tie", "tie", "tie"),
            new("w4", "pairs", "A", "A", "A"),
        };

        // When agreement is measured
        var rows = JudgeAgreement.Measure(items).Rows;
        var pairRows = JudgeAgreement.Measure(pairwise).Rows;

        // Then overall and per segment figures are as computed by hand
        var overall = rows.Single(r => r.Segment == JudgeAgreement.Overall);
        overall.Items.Should().Be(10);
        overall.Shown.Accuracy.Should().BeApproximately(0.8, 1e-12);
        overall.Shown.Kappa.Should().BeApproximately(0.6, 1e-12);
        overall.PositionConsistency.Should().BeNull();
        overall.SmallSample.Should().BeTrue();
        rows.Single(r => r.Segment == "billing").Shown.Accuracy.Should().BeApproximately(0.8, 1e-12);
        pairRows[0].PositionConsistency.Should().BeApproximately(0.75, 1e-12);
        pairRows[0].PairwiseItems.Should().Be(4);

        // And the one inconsistent pair picked the first-shown answer both times
        pairRows[0].PositionBias!.InconsistentPairs.Should().Be(1);
        pairRows[0].PositionBias!.FirstBothTimes.Should().Be(1);
        pairRows[0].Ties.Should().Be(2);
        pairRows[0].CorrectInBothOrders.Should().Be(3);
    }
}
