using System.Text.Json;
using FluentAssertions;
using Recal.Statistics;
using Xunit;

namespace Recal.Core.Tests.Statistics;

/// <summary>Checks every statistic against values SciPy computed (Fixtures/generate_statistics.py).</summary>
public sealed class StatisticsFixtureTests
{
    private static readonly JsonElement Fixtures = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "statistics.json"))).RootElement;

    [Fact]
    public void Jensen_Shannon_distance_matches_scipy()
    {
        foreach (var c in Fixtures.GetProperty("js").EnumerateArray())
        {
            Divergence.JensenShannonDistance(Doubles(c, "p"), Doubles(c, "q")).Should().BeApproximately(c.GetProperty("distance").GetDouble(), 1e-9);
        }
    }

    [Fact]
    public void Smoothed_Kullback_Leibler_divergence_matches_scipy_entropy()
    {
        foreach (var c in Fixtures.GetProperty("kl").EnumerateArray())
        {
            var expected = c.GetProperty("kl").GetDouble();
            Divergence.KullbackLeibler(Doubles(c, "p"), Doubles(c, "q"), c.GetProperty("pseudocount").GetDouble())
                .Should().BeApproximately(expected, 1e-9 * Math.Max(1, expected));
        }
    }

    [Fact]
    public void Population_stability_index_matches_numpy()
    {
        foreach (var c in Fixtures.GetProperty("psi").EnumerateArray())
        {
            var expected = c.GetProperty("psi").GetDouble();
            Divergence.PopulationStabilityIndex(Doubles(c, "expected"), Doubles(c, "actual"), c.GetProperty("epsilon").GetDouble())
                .Should().BeApproximately(expected, 1e-9 * Math.Max(1, expected));
        }
    }

    [Theory]
    [InlineData(HomogeneityStatistic.PearsonChiSquare, "pearson")]
    [InlineData(HomogeneityStatistic.GTest, "g")]
    public void Homogeneity_test_after_pooling_matches_scipy_chi2_contingency(HomogeneityStatistic statistic, string name)
    {
        var checkedTables = 0;
        foreach (var c in Fixtures.GetProperty("homogeneity").EnumerateArray())
        {
            var result = HomogeneityTest.Run(Longs(c, "a"), Longs(c, "b"), statistic);
            result.CategoriesTested.Should().Be(c.GetProperty("categories_tested").GetInt32());
            result.CategoriesPooled.Should().Be(c.GetProperty("categories_pooled").GetInt32());
            if (!c.TryGetProperty(name, out var expected))
            {
                result.Applicable.Should().BeFalse();
                double.IsNaN(result.PValue).Should().BeTrue();
                continue;
            }

            checkedTables++;
            result.Applicable.Should().BeTrue();
            result.DegreesOfFreedom.Should().Be(expected.GetProperty("dof").GetInt32());
            var stat = expected.GetProperty("statistic").GetDouble();
            result.Statistic.Should().BeApproximately(stat, 1e-9 * Math.Max(1, stat));
            var p = expected.GetProperty("p_value").GetDouble();
            if (p > 1e-300)
            {
                // Tiny p-values are compared on the log scale: what matters is the order of magnitude.
                Math.Log10(result.PValue).Should().BeApproximately(Math.Log10(p), 1e-6);
            }
            else
            {
                result.PValue.Should().BeLessThan(1e-290);
            }
        }

        checkedTables.Should().BeGreaterThan(30);
    }

    [Fact]
    public void Wilson_interval_matches_scipy_binomtest()
    {
        foreach (var c in Fixtures.GetProperty("wilson").EnumerateArray())
        {
            var (lower, upper) = Proportion.WilsonInterval(c.GetProperty("k").GetInt64(), c.GetProperty("n").GetInt64(), c.GetProperty("confidence").GetDouble());
            lower.Should().BeApproximately(c.GetProperty("lower").GetDouble(), 1e-9);
            upper.Should().BeApproximately(c.GetProperty("upper").GetDouble(), 1e-9);
        }
    }

    [Fact]
    public void Post_stratified_estimate_matches_numpy()
    {
        foreach (var c in Fixtures.GetProperty("post_stratified").EnumerateArray())
        {
            var passes = Longs(c, "passes");
            var cases = Longs(c, "cases");
            var weights = Doubles(c, "weights");
            var strata = passes.Select((p, i) => new StratumResult(p, cases[i], weights[i])).ToList();

            var result = PostStratification.Estimate(strata, c.GetProperty("confidence").GetDouble());

            if (!c.TryGetProperty("estimate", out var estimate))
            {
                double.IsNaN(result.Estimate).Should().BeTrue();
                result.UnmeasuredWeight.Should().Be(1);
                continue;
            }

            result.Estimate.Should().BeApproximately(estimate.GetDouble(), 1e-12);
            result.StandardError.Should().BeApproximately(c.GetProperty("se").GetDouble(), 1e-12);
            result.Lower.Should().BeApproximately(c.GetProperty("lower").GetDouble(), 1e-12);
            result.Upper.Should().BeApproximately(c.GetProperty("upper").GetDouble(), 1e-12);
            result.UnmeasuredWeight.Should().BeApproximately(c.GetProperty("unmeasured").GetDouble(), 1e-12);
        }
    }

    [Fact]
    public void Cohen_kappa_matches_scikit_learn()
    {
        var checkedPairs = 0;
        foreach (var c in Fixtures.GetProperty("kappa").EnumerateArray())
        {
            var a = c.GetProperty("a").EnumerateArray().Select(e => e.GetString()!).ToList();
            var b = c.GetProperty("b").EnumerateArray().Select(e => e.GetString()!).ToList();

            var result = Agreement.CohenKappa(a, b);

            result.Kappa.Should().BeApproximately(c.GetProperty("kappa").GetDouble(), 1e-12);
            result.Accuracy.Should().BeApproximately(c.GetProperty("accuracy").GetDouble(), 1e-12);
            checkedPairs++;
        }

        checkedPairs.Should().BeGreaterThan(20);
    }

    [Fact]
    public void Exact_mcnemar_test_matches_scipy_binomtest()
    {
        foreach (var c in Fixtures.GetProperty("mcnemar").EnumerateArray())
        {
            var result = McNemar.Exact(c.GetProperty("b").GetInt64(), c.GetProperty("c").GetInt64());

            var expected = c.GetProperty("p_value").GetDouble();
            result.PValue.Should().BeApproximately(expected, 1e-9 * Math.Max(1e-3, expected));
        }
    }

    private static double[] Doubles(JsonElement element, string name) => [.. element.GetProperty(name).EnumerateArray().Select(e => e.GetDouble())];

    private static long[] Longs(JsonElement element, string name) => [.. element.GetProperty(name).EnumerateArray().Select(e => e.GetInt64())];
}
