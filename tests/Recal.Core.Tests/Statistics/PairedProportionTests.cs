using System.Text.Json;
using FluentAssertions;
using Recal.Statistics;
using Xunit;

namespace Recal.Core.Tests.Statistics;

/// <summary>Checked against Newcombe's paired interval on SciPy's Wilson intervals, SciPy's binomtest and an mpmath t quantile (Fixtures/generate_paired.py).</summary>
public sealed class PairedProportionTests
{
    private static readonly JsonElement Fixture =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "paired.json"))).RootElement;

    [Fact]
    public void The_published_example_is_reproduced()
    {
        // Fagerland, Lydersen and Laake's paired table [[59, 6], [16, 80]]: p1 − p2 = −0.0621 (−0.1186 to −0.0046).
        // Read as a baseline (first measurement) and a candidate, the candidate is 0.0621 above it.
        var comparison = PairedProportion.Compare(bothPassed: 59, newlyPassing: 16, newlyFailing: 6, bothFailed: 80);
        comparison.Difference.Should().BeApproximately(0.0621, 5e-5);
        comparison.Lower.Should().BeApproximately(0.0046, 5e-5);
        comparison.Upper.Should().BeApproximately(0.1186, 5e-5);
    }

    [Fact]
    public void Newcombes_paired_interval_and_mcnemars_p_match_scipy()
    {
        var tables = Fixture.GetProperty("paired");
        tables.GetArrayLength().Should().BeGreaterThan(40);
        foreach (var t in tables.EnumerateArray())
        {
            var c = PairedProportion.Compare(t.GetProperty("both_passed").GetInt32(), t.GetProperty("newly_passing").GetInt32(), t.GetProperty("newly_failing").GetInt32(), t.GetProperty("both_failed").GetInt32());
            c.Difference.Should().BeApproximately(t.GetProperty("difference").GetDouble(), 1e-12, t.ToString());
            c.Lower.Should().BeApproximately(t.GetProperty("lower").GetDouble(), 1e-9, t.ToString());
            c.Upper.Should().BeApproximately(t.GetProperty("upper").GetDouble(), 1e-9, t.ToString());
            var p = t.GetProperty("mcnemar_p").GetDouble();
            c.PValue.Should().BeApproximately(p, Math.Max(1e-12, p * 1e-9), t.ToString());
        }
    }

    [Fact]
    public void The_paired_mean_difference_uses_the_exact_t_quantile()
    {
        foreach (var m in Fixture.GetProperty("mean_differences").EnumerateArray())
        {
            var baseline = m.GetProperty("baseline").EnumerateArray().Select(e => e.GetDouble()).ToList();
            var candidate = m.GetProperty("candidate").EnumerateArray().Select(e => e.GetDouble()).ToList();
            var d = PairedMean.Compare(baseline, candidate);
            d.Difference.Should().BeApproximately(m.GetProperty("difference").GetDouble(), 1e-12);
            d.Lower.Should().BeApproximately(m.GetProperty("lower").GetDouble(), 1e-12);
            d.Upper.Should().BeApproximately(m.GetProperty("upper").GetDouble(), 1e-12);
        }
    }

    [Fact]
    public void No_pairs_give_no_interval()
    {
        PairedProportion.Compare(0, 0, 0, 0).Difference.Should().Be(double.NaN);
        PairedProportion.Compare(0, 0, 0, 0).PValue.Should().Be(1);
    }
}
