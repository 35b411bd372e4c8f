using Recal.Domain;
using Recal.Drift;

namespace Recal.Running;

/// <summary>
/// The rules that turn a run report's figures into a verdict, read by <c>recal check</c> and the run report's headline
/// alike, so one figure never reads healthy in one place and alarming in another.
/// </summary>
public static class ScoreVerdicts
{
    /// <summary>The expected pass rate on today's traffic lies below the set's: its 95% interval ends under the set's.</summary>
    public static bool WeightedBelow(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Weighted?.Estimate is { } weighted && double.IsFinite(weighted.Estimate) && weighted.Upper < report.Overall.Lower;
    }

    /// <summary>
    /// Gold above another pool beyond chance: against shadow by the rule drift alarms on
    /// (<see cref="GoldShadowCheck.IsStale"/>), against the sealed holdout at the policy's p-value.
    /// </summary>
    public static bool GapFlags(PoolGap gap, AlarmThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(gap);
        ArgumentNullException.ThrowIfNull(thresholds);
        return gap.Other == "holdout" ? gap.PValue < thresholds.PValue && gap.Difference > 0 : GoldShadowCheck.IsStale(gap.Difference, gap.PValue, thresholds);
    }
}
