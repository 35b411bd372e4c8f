using System.Runtime.CompilerServices;

namespace Recal.Statistics;

/// <summary>Divergences between two discrete distributions given as counts or weights (docs/statistics.md).</summary>
public static class Divergence
{
    /// <summary>Jensen–Shannon distance: the square root of the JS divergence; equals scipy.spatial.distance.jensenshannon.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double JensenShannonDistance(ReadOnlySpan<double> p, ReadOnlySpan<double> q, double logBase = 2)
    {
        CheckPair(p, q);
        var sp = Sum(p);
        var sq = Sum(q);
        double divergence = 0;
        for (var i = 0; i < p.Length; i++)
        {
            var pi = p[i] / sp;
            var qi = q[i] / sq;
            var mi = (pi + qi) / 2;
            if (pi > 0)
            {
                divergence += pi * Math.Log(pi / mi);
            }

            if (qi > 0)
            {
                divergence += qi * Math.Log(qi / mi);
            }
        }

        divergence = Math.Max(0, divergence / 2 / Math.Log(logBase));
        return Math.Sqrt(divergence);
    }

    /// <summary>
    /// KL(P ‖ Q) after adding <paramref name="pseudocount"/> to every cell of both count vectors; equals
    /// scipy.stats.entropy(p + c, q + c, base). Smoothing keeps a stratum the set lacks from making it infinite.
    /// </summary>
    public static double KullbackLeibler(ReadOnlySpan<double> pCounts, ReadOnlySpan<double> qCounts, double pseudocount = 0.5, double logBase = 2)
    {
        CheckPair(pCounts, qCounts, allowZeroSum: pseudocount > 0);
        ArgumentOutOfRangeException.ThrowIfNegative(pseudocount);
        var sp = Sum(pCounts) + (pseudocount * pCounts.Length);
        var sq = Sum(qCounts) + (pseudocount * qCounts.Length);
        double kl = 0;
        for (var i = 0; i < pCounts.Length; i++)
        {
            var pi = (pCounts[i] + pseudocount) / sp;
            var qi = (qCounts[i] + pseudocount) / sq;
            if (pi > 0)
            {
                kl += qi > 0 ? pi * Math.Log(pi / qi) : double.PositiveInfinity;
            }
        }

        return kl / Math.Log(logBase);
    }

    /// <summary>
    /// Population stability index Σ (a − e)·ln(a / e) over proportions, each floored at <paramref name="epsilon"/>;
    /// <paramref name="expectedCounts"/> is the reference (the eval set), <paramref name="actualCounts"/> the traffic.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double PopulationStabilityIndex(ReadOnlySpan<double> expectedCounts, ReadOnlySpan<double> actualCounts, double epsilon = 1e-4)
    {
        CheckPair(expectedCounts, actualCounts);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        var se = Sum(expectedCounts);
        var sa = Sum(actualCounts);
        double psi = 0;
        for (var i = 0; i < expectedCounts.Length; i++)
        {
            var e = Math.Max(expectedCounts[i] / se, epsilon);
            var a = Math.Max(actualCounts[i] / sa, epsilon);
            psi += (a - e) * Math.Log(a / e);
        }

        return psi;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Sum(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (var value in values)
        {
            sum += value;
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CheckPair(ReadOnlySpan<double> p, ReadOnlySpan<double> q, bool allowZeroSum = false)
    {
        if (p.Length != q.Length)
        {
            throw new ArgumentException($"the distributions have {p.Length} and {q.Length} categories; they must have the same");
        }

        foreach (var value in p)
        {
            if (value < 0 || !double.IsFinite(value))
            {
                throw new ArgumentException("counts must be finite and non-negative", nameof(p));
            }
        }

        foreach (var value in q)
        {
            if (value < 0 || !double.IsFinite(value))
            {
                throw new ArgumentException("counts must be finite and non-negative", nameof(q));
            }
        }

        if (!allowZeroSum && (Sum(p) <= 0 || Sum(q) <= 0))
        {
            throw new ArgumentException("each distribution needs a positive total");
        }
    }
}
