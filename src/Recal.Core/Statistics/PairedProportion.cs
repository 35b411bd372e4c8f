namespace Recal.Statistics;

/// <summary>
/// Two runs' verdicts on the same cases, as the paired 2×2 table (docs/statistics.md#paired-difference-of-two-pass-rates):
/// both passed, only the candidate passed (newly passing), only the baseline passed (newly failing), neither.
/// </summary>
/// <param name="Difference">Candidate pass rate − baseline pass rate over the paired cases; NaN when there are none.</param>
/// <param name="Lower">Newcombe's paired interval (his method 10) for the difference, at the given confidence.</param>
/// <param name="PValue">McNemar's exact two-sided p-value.</param>
public sealed record PairedComparison(
    int Cases,
    int BothPassed,
    int NewlyPassing,
    int NewlyFailing,
    int BothFailed,
    double BaselineRate,
    double CandidateRate,
    double Difference,
    double Lower,
    double Upper,
    double PValue);

/// <summary>The difference of two paired proportions.</summary>
public static class PairedProportion
{
    /// <summary>
    /// Compares paired verdicts: the difference with Newcombe's square-and-add interval for paired data, the Wilson
    /// intervals of the two marginal rates combined with a correction φ for their correlation, and McNemar's exact test.
    /// </summary>
    public static PairedComparison Compare(int bothPassed, int newlyPassing, int newlyFailing, int bothFailed, double confidence = 0.95)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bothPassed);
        ArgumentOutOfRangeException.ThrowIfNegative(newlyPassing);
        ArgumentOutOfRangeException.ThrowIfNegative(newlyFailing);
        ArgumentOutOfRangeException.ThrowIfNegative(bothFailed);
        var n = bothPassed + newlyPassing + newlyFailing + bothFailed;
        var p = McNemar.Exact(newlyFailing, newlyPassing).PValue;
        if (n == 0)
        {
            return new PairedComparison(0, 0, 0, 0, 0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, p);
        }

        var (lower, upper) = NewcombeInterval(bothPassed, newlyFailing, newlyPassing, bothFailed, confidence);
        var baseline = (double)(bothPassed + newlyFailing) / n;
        var candidate = (double)(bothPassed + newlyPassing) / n;
        return new PairedComparison(n, bothPassed, newlyPassing, newlyFailing, bothFailed, baseline, candidate, candidate - baseline, lower, upper, p);
    }

    /// <summary>
    /// Newcombe's interval for p₂ − p₁ from the paired table [[a, b], [c, d]] where p₁ = (a+b)/n is the first
    /// measurement's rate and p₂ = (a+c)/n the second's (Newcombe 1998, method 10). With Wilson limits l, u of each rate
    /// and φ = C / √((a+b)(c+d)(a+c)(b+d)), where C is ad − bc less n/2 when that exceeds n/2, 0 when it lies in
    /// [0, n/2] and ad − bc when negative, the interval for p₁ − p₂ is
    /// [D − √((p₁−l₁)² − 2φ(p₁−l₁)(u₂−p₂) + (u₂−p₂)²), D + √((p₂−l₂)² − 2φ(p₂−l₂)(u₁−p₁) + (u₁−p₁)²)]; this returns its
    /// mirror for p₂ − p₁.
    /// </summary>
    public static (double Lower, double Upper) NewcombeInterval(long a, long b, long c, long d, double confidence = 0.95)
    {
        var n = a + b + c + d;
        if (n <= 0)
        {
            return (double.NaN, double.NaN);
        }

        var p1 = (double)(a + b) / n;
        var p2 = (double)(a + c) / n;
        var (l1, u1) = Proportion.WilsonInterval(a + b, n, confidence);
        var (l2, u2) = Proportion.WilsonInterval(a + c, n, confidence);
        var product = (double)(a + b) * (c + d) * (a + c) * (b + d);
        double phi = 0;
        if (product > 0)
        {
            var cross = ((double)a * d) - ((double)b * c);
            var corrected = cross > n / 2.0 ? cross - (n / 2.0) : cross < 0 ? cross : 0;
            phi = corrected / Math.Sqrt(product);
        }

        var difference = p1 - p2;
        var below = ((p1 - l1) * (p1 - l1)) - (2 * phi * (p1 - l1) * (u2 - p2)) + ((u2 - p2) * (u2 - p2));
        var above = ((p2 - l2) * (p2 - l2)) - (2 * phi * (p2 - l2) * (u1 - p1)) + ((u1 - p1) * (u1 - p1));
        var lower = Math.Max(-1, difference - Math.Sqrt(Math.Max(0, below)));
        var upper = Math.Min(1, difference + Math.Sqrt(Math.Max(0, above)));
        return (-upper, -lower);
    }
}

/// <summary>The mean of paired differences (candidate − baseline) with its Student t interval.</summary>
public sealed record PairedMeanDifference(int Pairs, double BaselineMean, double CandidateMean, double Difference, double Lower, double Upper);

/// <summary>Paired means, for scores such as a judge's dimension medians on the same cases in two runs.</summary>
public static class PairedMean
{
    /// <summary>
    /// The mean difference d̄ with d̄ ± t(1−α/2, n−1)·s/√n; equals scipy.stats.ttest_rel(candidate, baseline)'s
    /// confidence interval. No interval below two pairs; a zero spread gives a zero-width interval.
    /// </summary>
    public static PairedMeanDifference Compare(IReadOnlyList<double> baseline, IReadOnlyList<double> candidate, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(candidate);
        if (baseline.Count != candidate.Count)
        {
            throw new ArgumentException("the two lists must pair up", nameof(candidate));
        }

        var n = baseline.Count;
        if (n == 0)
        {
            return new PairedMeanDifference(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var differences = candidate.Zip(baseline, (c, b) => c - b).ToList();
        var mean = differences.Average();
        if (n < 2)
        {
            return new PairedMeanDifference(n, baseline.Average(), candidate.Average(), mean, double.NaN, double.NaN);
        }

        var variance = differences.Sum(d => (d - mean) * (d - mean)) / (n - 1);
        var half = TQuantile(n - 1, 1 - ((1 - confidence) / 2)) * Math.Sqrt(variance / n);
        return new PairedMeanDifference(n, baseline.Average(), candidate.Average(), mean, mean - half, mean + half);
    }

    /// <summary>Student's t quantile: MathNet's estimate polished by Newton steps on its (accurate) CDF.</summary>
    private static double TQuantile(double freedom, double probability)
    {
        var t = MathNet.Numerics.Distributions.StudentT.InvCDF(0, 1, freedom, probability);
        for (var i = 0; i < 3; i++)
        {
            var density = MathNet.Numerics.Distributions.StudentT.PDF(0, 1, freedom, t);
            if (density <= 0)
            {
                break;
            }

            t -= (MathNet.Numerics.Distributions.StudentT.CDF(0, 1, freedom, t) - probability) / density;
        }

        return t;
    }
}
