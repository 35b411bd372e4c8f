using MathNet.Numerics.Distributions;

namespace Recal.Statistics;

/// <summary>One stratum's eval results and its share of traffic.</summary>
/// <param name="Weight">The stratum's traffic share (any non-negative scale; weights are renormalised).</param>
public readonly record struct StratumResult(long Passes, long Cases, double Weight);

/// <summary>A post-stratified pass rate: per-stratum pass rates re-weighted by traffic shares.</summary>
/// <param name="Estimate">Σ W'ₕ p̂ₕ over measured strata, W' the traffic weights renormalised over them; NaN when none is measured.</param>
/// <param name="MeasuredWeight">The traffic share of strata that have cases: the part of traffic the estimate speaks for.</param>
/// <param name="UnmeasuredWeight">The traffic share of strata with no case: shown as unmeasured, never guessed.</param>
public sealed record PostStratifiedEstimate(double Estimate, double Lower, double Upper, double StandardError, double MeasuredWeight, double UnmeasuredWeight, long Cases);

/// <summary>The traffic-weighted ("expected production") pass rate with a confidence interval (docs/statistics.md).</summary>
public static class PostStratification
{
    public static PostStratifiedEstimate Estimate(IReadOnlyList<StratumResult> strata, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(strata);
        if (confidence is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must lie strictly between 0 and 1");
        }

        var total = strata.Sum(s => s.Weight);
        if (total <= 0 || strata.Any(s => s.Weight < 0 || s.Cases < 0 || s.Passes < 0 || s.Passes > s.Cases))
        {
            throw new ArgumentException("weights must be non-negative with a positive sum, and 0 ≤ passes ≤ cases in every stratum", nameof(strata));
        }

        var measured = strata.Where(s => s.Cases > 0).Sum(s => s.Weight);
        var cases = strata.Sum(s => s.Cases);
        if (measured <= 0)
        {
            return new PostStratifiedEstimate(double.NaN, double.NaN, double.NaN, double.NaN, 0, 1, cases);
        }

        var z = Normal.InvCDF(0, 1, 1 - ((1 - confidence) / 2));
        double estimate = 0, variance = 0;
        foreach (var stratum in strata.Where(s => s.Cases > 0))
        {
            var w = stratum.Weight / measured;
            var p = (double)stratum.Passes / stratum.Cases;
            estimate += w * p;

            // Agresti–Coull-adjusted rate in the variance, so a stratum at 0% or 100% still carries uncertainty.
            var adjusted = (stratum.Passes + (z * z / 2)) / (stratum.Cases + (z * z));
            variance += w * w * adjusted * (1 - adjusted) / stratum.Cases;
        }

        var se = Math.Sqrt(variance);
        return new PostStratifiedEstimate(
            estimate,
            Math.Max(0, estimate - (z * se)),
            Math.Min(1, estimate + (z * se)),
            se,
            measured / total,
            1 - (measured / total),
            cases);
    }
}
