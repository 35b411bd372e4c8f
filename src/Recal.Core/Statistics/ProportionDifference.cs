using MathNet.Numerics;

namespace Recal.Statistics;

/// <summary>
/// The difference of two independent proportions (docs/statistics.md#difference-of-two-pass-rates): Newcombe's hybrid
/// score interval and Fisher's exact test.
/// </summary>
public static class ProportionDifference
{
    /// <summary>
    /// Newcombe's interval (his method 10) for p₁ − p₂ from the two Wilson intervals:
    /// [d − √((p₁−l₁)² + (u₂−p₂)²), d + √((u₁−p₁)² + (p₂−l₂)²)]. NaN when either sample is empty.
    /// </summary>
    public static (double Lower, double Upper) NewcombeInterval(long k1, long n1, long k2, long n2, double confidence = 0.95)
    {
        if (n1 <= 0 || n2 <= 0)
        {
            return (double.NaN, double.NaN);
        }

        var (p1, p2) = ((double)k1 / n1, (double)k2 / n2);
        var (l1, u1) = Proportion.WilsonInterval(k1, n1, confidence);
        var (l2, u2) = Proportion.WilsonInterval(k2, n2, confidence);
        var d = p1 - p2;
        return (d - Math.Sqrt(((p1 - l1) * (p1 - l1)) + ((u2 - p2) * (u2 - p2))), d + Math.Sqrt(((u1 - p1) * (u1 - p1)) + ((p2 - l2) * (p2 - l2))));
    }

    /// <summary>
    /// Two-sided p-value of Fisher's exact test on [[k₁, n₁−k₁], [k₂, n₂−k₂]]: the total probability, under the
    /// hypergeometric null with the margins fixed, of tables no more likely than the observed one (relative tolerance
    /// 1e-7, as SciPy's <c>fisher_exact</c>). 1 when either sample is empty.
    /// </summary>
    public static double FisherExactTwoSided(long k1, long n1, long k2, long n2)
    {
        if (!IsTestable(k1, n1, k2, n2))
        {
            return 1;
        }

        var successes = k1 + k2;
        var total = n1 + n2;
        var low = Math.Max(0, successes - n2);
        var high = Math.Min(successes, n1);
        double LogPmf(long x) =>
            SpecialFunctions.FactorialLn((int)n1) - SpecialFunctions.FactorialLn((int)x) - SpecialFunctions.FactorialLn((int)(n1 - x))
            + SpecialFunctions.FactorialLn((int)n2) - SpecialFunctions.FactorialLn((int)(successes - x)) - SpecialFunctions.FactorialLn((int)(n2 - successes + x))
            - SpecialFunctions.FactorialLn((int)total) + SpecialFunctions.FactorialLn((int)successes) + SpecialFunctions.FactorialLn((int)(total - successes));
        var observed = LogPmf(k1);
        var threshold = observed + Math.Log(1 + 1e-7);
        double p = 0;
        for (var x = low; x <= high; x++)
        {
            var log = LogPmf(x);
            if (log <= threshold)
            {
                p += Math.Exp(log);
            }
        }

        return Math.Min(1, p);
    }

    /// <summary>
    /// One-sided p-value of Fisher's exact test that the first proportion is the greater: the probability, under the
    /// hypergeometric null with the margins fixed, of k₁ or more successes in the first sample (SciPy's
    /// <c>fisher_exact(alternative='greater')</c>). 1 when either sample is empty.
    /// </summary>
    public static double FisherExactGreater(long k1, long n1, long k2, long n2)
    {
        if (!IsTestable(k1, n1, k2, n2))
        {
            return 1;
        }

        var successes = k1 + k2;
        var total = n1 + n2;
        var (low, high) = (Math.Max(0, successes - n2), Math.Min(successes, n1));
        if (k1 <= low)
        {
            return 1;
        }

        if (k1 > high)
        {
            return 0;
        }

        var constant = SpecialFunctions.FactorialLn((int)n1) + SpecialFunctions.FactorialLn((int)n2)
            - SpecialFunctions.FactorialLn((int)total) + SpecialFunctions.FactorialLn((int)successes) + SpecialFunctions.FactorialLn((int)(total - successes));
        double LogPmf(long x) =>
            constant - SpecialFunctions.FactorialLn((int)x) - SpecialFunctions.FactorialLn((int)(n1 - x))
            - SpecialFunctions.FactorialLn((int)(successes - x)) - SpecialFunctions.FactorialLn((int)(n2 - successes + x));

        // The pmf rises to its mode and falls after it. The shorter tail is summed: above the mode the upper tail itself,
        // at or below it one minus the lower tail (then the p-value is at least about ½, so the subtraction loses nothing
        // that matters). Each tail's terms fall away from the mode: walked outwards by the ratio of neighbouring terms
        // (re-anchored on the exact log-pmf every 32 terms), the walk stops once a term is e⁻⁴⁰ below the first.
        var mode = Math.Clamp((long)Math.Floor((n1 + 1.0) * (successes + 1.0) / (total + 2.0)), low, high);
        return k1 > mode
            ? Math.Min(1, Tail(k1, high, up: true))
            : Math.Clamp(1 - Tail(k1 - 1, low, up: false), 0, 1);

        double Tail(long first, long bound, bool up)
        {
            var start = LogPmf(first);
            var (log, sum) = (start, 1.0);
            for (long x = first, step = 1; x != bound; step++)
            {
                // log pmf(x ± 1) − log pmf(x), from the factorials' ratios.
                log += up
                    ? Math.Log((double)(n1 - x) * (successes - x) / ((x + 1.0) * (n2 - successes + x + 1.0)))
                    : Math.Log((double)x * (n2 - successes + x) / ((n1 - x + 1.0) * (successes - x + 1.0)));
                x += up ? 1 : -1;
                if (step % 32 == 0)
                {
                    log = LogPmf(x);
                }

                if (log < start - 40)
                {
                    break;
                }

                sum += Math.Exp(log - start);
            }

            return Math.Exp(start + Math.Log(sum));
        }
    }

    /// <summary>Checks a 2×2 table's counts; false when either sample is empty (the tests then give 1).</summary>
    private static bool IsTestable(long k1, long n1, long k2, long n2)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k1);
        ArgumentOutOfRangeException.ThrowIfNegative(k2);
        if (k1 > n1 || k2 > n2)
        {
            throw new ArgumentException("successes cannot exceed trials");
        }

        return n1 > 0 && n2 > 0;
    }
}
