using MathNet.Numerics;

namespace Recal.Statistics;

/// <summary>McNemar's test on paired pass/fail outcomes of two runs over the same cases.</summary>
/// <param name="NewlyFailing">Cases that passed in the baseline and fail in the candidate (b).</param>
/// <param name="NewlyPassing">Cases that failed in the baseline and pass in the candidate (c).</param>
/// <param name="PValue">Two-sided exact p-value: the binomial test of b against Bin(b + c, ½); 1 when b + c = 0.</param>
public sealed record McNemarResult(long NewlyFailing, long NewlyPassing, double PValue);

/// <summary>Paired significance for run comparison (docs/statistics.md).</summary>
public static class McNemar
{
    /// <summary>The exact test; equals scipy.stats.binomtest(b, b + c, 0.5).pvalue.</summary>
    public static McNemarResult Exact(long newlyFailing, long newlyPassing)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(newlyFailing);
        ArgumentOutOfRangeException.ThrowIfNegative(newlyPassing);
        var n = newlyFailing + newlyPassing;
        if (n == 0)
        {
            return new McNemarResult(0, 0, 1);
        }

        // Two-sided: twice the smaller tail, capped at 1 (the binomial is symmetric at p = ½).
        var k = Math.Min(newlyFailing, newlyPassing);
        double tail = 0;
        for (long i = 0; i <= k; i++)
        {
            tail += Math.Exp(SpecialFunctions.BinomialLn((int)n, (int)i) - (n * Math.Log(2)));
        }

        return new McNemarResult(newlyFailing, newlyPassing, Math.Min(1, 2 * tail));
    }
}
