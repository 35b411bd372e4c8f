using MathNet.Numerics.Distributions;

namespace Recal.Statistics;

/// <summary>Intervals for a binomial proportion.</summary>
public static class Proportion
{
    /// <summary>The Wilson score interval; equals scipy.stats.binomtest(k, n).proportion_ci(confidence, method="wilson").</summary>
    public static (double Lower, double Upper) WilsonInterval(long successes, long n, double confidence = 0.95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, successes);
        if (confidence is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must lie strictly between 0 and 1");
        }

        if (n == 0)
        {
            return (0, 1);
        }

        var z = Normal.InvCDF(0, 1, 1 - ((1 - confidence) / 2));
        var p = (double)successes / n;
        var z2 = z * z;
        var denominator = 1 + (z2 / n);
        var centre = (p + (z2 / (2 * n))) / denominator;
        var half = z * Math.Sqrt((p * (1 - p) / n) + (z2 / (4.0 * n * n))) / denominator;
        return (Math.Max(0, centre - half), Math.Min(1, centre + half));
    }
}
