using System.Text.Json;
using FluentAssertions;
using Recal.Statistics;
using Xunit;

namespace Recal.Core.Tests.Statistics;

/// <summary>Checks the calibrated alarms' statistics against values NumPy and SciPy computed (Fixtures/generate_calibration.py).</summary>
public sealed class CalibrationFixtureTests
{
    private static readonly JsonElement Fixtures = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "calibration.json"))).RootElement;

    [Fact]
    public void Pearson_type_III_tail_and_quantile_match_scipy_pearson3()
    {
        foreach (var c in Fixtures.GetProperty("pearson3").EnumerateArray())
        {
            var distribution = new PearsonTypeIII(c.GetProperty("mean").GetDouble(), c.GetProperty("sd").GetDouble(), c.GetProperty("skew").GetDouble());
            var xs = Doubles(c, "x");
            var sf = Doubles(c, "sf");
            for (var i = 0; i < xs.Length; i++)
            {
                distribution.UpperTail(xs[i]).Should().BeApproximately(sf[i], 1e-9 + (1e-7 * sf[i]), $"sf({xs[i]}) of {distribution}");
            }

            var tails = Doubles(c, "tails");
            var ppf = Doubles(c, "ppf");
            for (var i = 0; i < tails.Length; i++)
            {
                distribution.UpperQuantile(tails[i]).Should().BeApproximately(ppf[i], 1e-7 * Math.Max(1, Math.Abs(ppf[i])), $"isf({tails[i]}) of {distribution}");
            }
        }
    }

    [Fact]
    public void One_sided_fisher_exact_test_matches_scipy_greater()
    {
        foreach (var c in Fixtures.GetProperty("fisher_greater").EnumerateArray())
        {
            var expected = c.GetProperty("p").GetDouble();
            ProportionDifference.FisherExactGreater(c.GetProperty("k1").GetInt64(), c.GetProperty("n1").GetInt64(), c.GetProperty("k2").GetInt64(), c.GetProperty("n2").GetInt64())
                .Should().BeApproximately(expected, 1e-9 + (1e-6 * expected), c.ToString());
        }
    }

    [Fact]
    public void Dispersion_factor_matches_the_pooled_chi_square_over_its_degrees_of_freedom()
    {
        foreach (var c in Fixtures.GetProperty("dispersion").EnumerateArray())
        {
            var table = c.GetProperty("table").EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetInt64()).ToArray()).ToList();
            var dispersion = Overdispersion.Estimate(table);
            dispersion.DegreesOfFreedom.Should().Be(c.GetProperty("df").GetInt32());
            dispersion.ChiSquare.Should().BeApproximately(c.GetProperty("chi_square").GetDouble(), 1e-8 * Math.Max(1, dispersion.ChiSquare));
            dispersion.Phi.Should().BeApproximately(c.GetProperty("phi").GetDouble(), 1e-10 * dispersion.Phi);
        }
    }

    [Theory]
    [InlineData("js")]
    [InlineData("psi")]
    public void A_thousand_draw_null_reproduces_the_median_and_upper_quantiles_of_a_200000_draw_simulation(string measure)
    {
        foreach (var c in Fixtures.GetProperty("null").EnumerateArray())
        {
            var reference = c.GetProperty("reference").EnumerateArray().Select(v => v.GetInt64()).ToArray();
            var eval = Doubles(c, "eval");
            Func<double[], double> statistic = measure == "js"
                ? w => Divergence.JensenShannonDistance(eval, w)
                : w => Divergence.PopulationStabilityIndex(eval, w);
            var expected = c.GetProperty(measure);
            var median = expected.GetProperty("median").GetDouble();
            var q999 = expected.GetProperty("q999").GetDouble();
            var spread = q999 - median;

            var null_ = ReferenceNull.Simulate(reference, c.GetProperty("window").GetInt64(), 1, statistic, seed: 7);

            // The median to within a tenth of the distance to the tail; the 99.9% point, fitted, to within a fifth of it.
            null_.Median.Should().BeApproximately(median, 0.1 * spread);
            null_.Threshold(0.01).Should().BeApproximately(expected.GetProperty("q99").GetDouble(), 0.15 * spread);
            null_.Threshold(0.001).Should().BeApproximately(q999, 0.2 * spread);
        }
    }

    private static double[] Doubles(JsonElement e, string name) => [.. e.GetProperty(name).EnumerateArray().Select(v => v.GetDouble())];
}
