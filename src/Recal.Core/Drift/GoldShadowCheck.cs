using System.Globalization;
using Recal.Domain;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>
/// Gold against shadow as a drift alarm: the newest completed run that scored both pools passes gold by more than the
/// policy's <c>alarms.gold_shadow_gap</c> above shadow, at a Fisher p-value below <c>alarms.p_value</c>: gold no longer
/// looks like recent traffic for that target, and needs a refresh (docs/drift.md#gold-against-shadow).
/// </summary>
public static class GoldShadowCheck
{
    public const string Instrument = "gold_shadow_gap";

    /// <summary>
    /// The one rule for gold against shadow, read by drift and check alike: gold above shadow by more than
    /// <c>alarms.gold_shadow_gap</c>, at a Fisher p-value below <c>alarms.p_value</c>.
    /// </summary>
    public static bool IsStale(double gap, double p, AlarmThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        return gap > thresholds.GoldShadowGap && p < thresholds.PValue;
    }

    public static async Task<DriftAlarm?> EvaluateAsync(IRecalStore store, SamplingPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(policy);
        foreach (var run in await store.QueryRunsAsync(new RunQuery(Pools: PoolSet.Of([Pool.Gold, Pool.Shadow]), Statuses: RunQuery.Finished), cancellationToken).ConfigureAwait(false))
        {
            var results = (await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false)).Where(r => r.Error is null).ToList();
            var gold = results.Where(r => r.Pool == "gold").ToList();
            var shadow = results.Where(r => r.Pool == "shadow").ToList();
            if (gold.Count == 0 || shadow.Count == 0)
            {
                continue;
            }

            var (gp, sp) = (gold.Count(r => r.Passed), shadow.Count(r => r.Passed));
            var gap = ((double)gp / gold.Count) - ((double)sp / shadow.Count);
            var p = ProportionDifference.FisherExactTwoSided(gp, gold.Count, sp, shadow.Count);
            if (!IsStale(gap, p, policy.Alarms))
            {
                return null;
            }

            var worst = results.GroupBy(r => r.Intent, StringComparer.Ordinal)
                .Select(g => (Intent: g.Key, Gold: g.Where(r => r.Pool == "gold").ToList(), Shadow: g.Where(r => r.Pool == "shadow").ToList()))
                .Where(x => x.Shadow.Count > 0)
                .OrderBy(x => x.Gold.Count == 0 ? 0 : 1)
                .ThenBy(x => (double)x.Shadow.Count(r => r.Passed) / x.Shadow.Count)
                .Take(3)
                .Select(x => x.Gold.Count == 0 ? $"{x.Intent} (no gold case)" : string.Create(CultureInfo.InvariantCulture, $"{x.Intent} ({(double)x.Shadow.Count(r => r.Passed) / x.Shadow.Count:0%} on shadow)"));
            return new DriftAlarm(
                Instrument,
                "pool",
                gap,
                policy.Alarms.GoldShadowGap,
                string.Create(CultureInfo.InvariantCulture, $"gold needs a refresh: target {run.Target} (run {run.Id}) passes gold {(double)gp / gold.Count:0.0%} and the shadow pool drawn from recent traffic {(double)sp / shadow.Count:0.0%} (+{gap * 100:0.0} points > {policy.Alarms.GoldShadowGap * 100:0.#}, Fisher p = {p:0.##e0}); furthest behind on shadow: {string.Join(", ", worst)}"));
        }

        return null;
    }
}
