using System.Text.Json;
using FluentAssertions;
using Recal.Statistics;
using Xunit;

namespace Recal.Core.Tests.Statistics;

/// <summary>Checked against SciPy's fisher_exact and Newcombe's interval on SciPy's Wilson intervals (Fixtures/generate_pool_gap.py).</summary>
public sealed class ProportionDifferenceTests
{
    private static readonly JsonElement Cases =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pool_gap.json"))).RootElement.GetProperty("cases");

    [Fact]
    public void Fishers_exact_test_matches_scipy()
    {
        foreach (var c in Cases.EnumerateArray())
        {
            var p = ProportionDifference.FisherExactTwoSided(c.GetProperty("k1").GetInt64(), c.GetProperty("n1").GetInt64(), c.GetProperty("k2").GetInt64(), c.GetProperty("n2").GetInt64());
            var expected = c.GetProperty("fisher_p").GetDouble();
            p.Should().BeApproximately(expected, Math.Max(1e-12, expected * 1e-9), c.ToString());
        }
    }

    [Fact]
    public void Newcombes_interval_matches_the_definition_on_scipys_wilson_intervals()
    {
        foreach (var c in Cases.EnumerateArray())
        {
            var (lower, upper) = ProportionDifference.NewcombeInterval(c.GetProperty("k1").GetInt64(), c.GetProperty("n1").GetInt64(), c.GetProperty("k2").GetInt64(), c.GetProperty("n2").GetInt64());
            lower.Should().BeApproximately(c.GetProperty("lower").GetDouble(), 1e-9, c.ToString());
            upper.Should().BeApproximately(c.GetProperty("upper").GetDouble(), 1e-9, c.ToString());
        }
    }

    [Fact]
    public void Empty_samples_give_no_interval_and_no_evidence()
    {
        ProportionDifference.NewcombeInterval(0, 0, 3, 5).Lower.Should().Be(double.NaN);
        ProportionDifference.FisherExactTwoSided(0, 0, 3, 5).Should().Be(1);
    }
}

/// <summary>Checked against SciPy's spearmanr (Fixtures/generate_pool_gap.py).</summary>
public sealed class RankCorrelationTests
{
    [Fact]
    public void Spearman_matches_scipy_with_ties()
    {
        var cases = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pool_gap.json"))).RootElement.GetProperty("spearman");
        cases.GetArrayLength().Should().BeGreaterThan(10);
        foreach (var c in cases.EnumerateArray())
        {
            var x = c.GetProperty("x").EnumerateArray().Select(e => e.GetDouble()).ToList();
            var y = c.GetProperty("y").EnumerateArray().Select(e => e.GetDouble()).ToList();
            var (rho, p) = RankCorrelation.Spearman(x, y);
            rho.Should().BeApproximately(c.GetProperty("rho").GetDouble(), 1e-12);
            p.Should().BeApproximately(c.GetProperty("p_value").GetDouble(), Math.Max(1e-14, c.GetProperty("p_value").GetDouble() * 1e-9));
        }
    }

    [Fact]
    public void Too_few_points_or_a_constant_side_give_no_correlation()
    {
        RankCorrelation.Spearman([1, 2], [2, 1]).Rho.Should().Be(double.NaN);
        RankCorrelation.Spearman([1, 1, 1], [1, 2, 3]).Rho.Should().Be(double.NaN);
        RankCorrelation.Ranks([3, 1, 3, 2]).Should().Equal(3.5, 1, 3.5, 2);
    }
}
