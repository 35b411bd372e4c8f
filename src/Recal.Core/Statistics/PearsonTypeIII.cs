using MathNet.Numerics;

namespace Recal.Statistics;

/// <summary>
/// The Pearson type III distribution fitted by its first three moments (a gamma distribution shifted, scaled and, for a
/// negative skew, mirrored; the normal distribution at zero skew). Parametrised as <c>scipy.stats.pearson3(skew, loc =
/// mean, scale = sd)</c>, whose <c>sf</c> and <c>ppf</c> the tests check it against. The calibrated alarms use it to read
/// a tail probability far beyond what a thousand simulated draws can resolve by counting (docs/statistics.md).
/// </summary>
public sealed record PearsonTypeIII(double Mean, double StandardDeviation, double Skewness)
{
    /// <summary>Below this absolute skewness the normal distribution is used (SciPy switches at 1.6e-5 too; the fits agree there).</summary>
    private const double NormalSkew = 1.6e-5;

    /// <summary>The distribution with the sample moments of <paramref name="values"/> (bias-corrected variance and skewness).</summary>
    public static PearsonTypeIII Fit(ReadOnlySpan<double> values)
    {
        if (values.Length < 3)
        {
            throw new ArgumentException("at least three values are needed to fit three moments", nameof(values));
        }

        double n = values.Length, mean = 0;
        foreach (var v in values)
        {
            mean += v;
        }

        mean /= n;
        double m2 = 0, m3 = 0;
        foreach (var v in values)
        {
            var d = v - mean;
            m2 += d * d;
            m3 += d * d * d;
        }

        m2 /= n;
        m3 /= n;
        var sd = Math.Sqrt(m2 * n / (n - 1));
        // The adjusted Fisher–Pearson coefficient (scipy.stats.skew(bias=False)).
        var skew = m2 == 0 ? 0 : m3 / Math.Pow(m2, 1.5) * Math.Sqrt(n * (n - 1)) / (n - 2);
        return new PearsonTypeIII(mean, sd, skew);
    }

    /// <summary>P(X &gt; x).</summary>
    public double UpperTail(double x)
    {
        if (StandardDeviation == 0)
        {
            return x < Mean ? 1 : 0;
        }

        var z = (x - Mean) / StandardDeviation;
        if (Math.Abs(Skewness) < NormalSkew)
        {
            return 0.5 * SpecialFunctions.Erfc(z / Math.Sqrt(2));
        }

        // X = mean + sd·(s·(G − α)/√α) with G ~ Gamma(α, 1), α = 4/γ², s the sign of the skew.
        var alpha = 4 / (Skewness * Skewness);
        var g = alpha + (Math.Sign(Skewness) * z * Math.Sqrt(alpha));
        if (Skewness > 0)
        {
            return g <= 0 ? 1 : SpecialFunctions.GammaUpperRegularized(alpha, g);
        }

        return g <= 0 ? 0 : SpecialFunctions.GammaLowerRegularized(alpha, g);
    }

    /// <summary>The value exceeded with probability <paramref name="upperTail"/>: the (1 − p) quantile.</summary>
    public double UpperQuantile(double upperTail)
    {
        if (upperTail is <= 0 or >= 1 || double.IsNaN(upperTail))
        {
            throw new ArgumentOutOfRangeException(nameof(upperTail), upperTail, "a tail probability lies strictly between 0 and 1");
        }

        if (StandardDeviation == 0)
        {
            return Mean;
        }

        double z;
        if (Math.Abs(Skewness) < NormalSkew)
        {
            z = -Math.Sqrt(2) * SpecialFunctions.ErfcInv(2 * (1 - upperTail));
        }
        else
        {
            var alpha = 4 / (Skewness * Skewness);
            var g = Skewness > 0
                ? SpecialFunctions.GammaLowerRegularizedInv(alpha, 1 - upperTail)
                : SpecialFunctions.GammaLowerRegularizedInv(alpha, upperTail);
            z = Math.Sign(Skewness) * (g - alpha) / Math.Sqrt(alpha);
        }

        return Mean + (z * StandardDeviation);
    }
}
