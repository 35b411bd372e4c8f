using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Recal.Statistics;
using Xunit;

namespace Recal.Core.Tests.Statistics;

public sealed class StatisticsPropertyTests
{
    private static Arbitrary<(double[] P, double[] Q)> Pairs() =>
        Gen.Choose(2, 40).SelectMany(k =>
                Gen.Choose(0, 1000).ArrayOf(k).SelectMany(p => Gen.Choose(0, 1000).ArrayOf(k).Select(q => (P: p, Q: q))))
            .Where(x => x.P.Sum() > 0 && x.Q.Sum() > 0)
            .Select(x => (x.P.Select(v => (double)v).ToArray(), x.Q.Select(v => (double)v).ToArray()))
            .ToArbitrary();

    [Fact]
    public void Jensen_Shannon_distance_is_symmetric_and_between_zero_and_one()
    {
        Prop.ForAll(Pairs(), pair =>
        {
            var pq = Divergence.JensenShannonDistance(pair.P, pair.Q);
            var qp = Divergence.JensenShannonDistance(pair.Q, pair.P);
            return Math.Abs(pq - qp) < 1e-12 && pq >= 0 && pq <= 1 + 1e-12;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Divergences_vanish_for_proportional_distributions()
    {
        Prop.ForAll(Pairs(), pair =>
        {
            var scaled = pair.P.Select(v => v * 3).ToArray();
            return Divergence.JensenShannonDistance(pair.P, scaled) < 1e-7
                && Math.Abs(Divergence.PopulationStabilityIndex(pair.P, scaled)) < 1e-12;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Population_stability_index_is_never_negative()
    {
        Prop.ForAll(Pairs(), pair => Divergence.PopulationStabilityIndex(pair.P, pair.Q) >= -1e-12).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void Disjoint_distributions_are_at_distance_one()
    {
        Divergence.JensenShannonDistance([1, 0], [0, 1]).Should().BeApproximately(1, 1e-12);
    }

    [Fact]
    public void Homogeneity_test_does_not_apply_when_one_sample_is_empty()
    {
        var result = HomogeneityTest.Run([0, 0, 0], [5, 6, 7]);

        result.Applicable.Should().BeFalse();
        result.NotApplicableReason.Should().Contain("empty");
    }

    [Fact]
    public void Distributions_of_different_lengths_are_rejected()
    {
        var act = () => Divergence.JensenShannonDistance([1, 2], [1, 2, 3]);

        act.Should().Throw<ArgumentException>().WithMessage("*same*");
    }
}
