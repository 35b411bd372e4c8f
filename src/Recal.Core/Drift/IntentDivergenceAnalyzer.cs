using Recal.Classification;
using Recal.Domain;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>
/// The first gap instrument: compares the stratum distributions of the eval set with those of traffic windows.
/// </summary>
public static class IntentDivergenceAnalyzer
{
    /// <summary>The dimension name used for intents.</summary>
    public const string IntentDimension = "intent";

    /// <summary>Eval share below half (or above twice) the traffic share marks a stratum under- (over-) represented.</summary>
    public const double RepresentationFactor = 2.0;

    /// <summary>A missing-strata alarm needs at least this many traces, so a lone misclassified trace cannot raise it.</summary>
    public const long MinMissingTraces = 5;

    /// <summary>Runs the comparison for the current window and, when asked, the series; null when no traffic is stored.</summary>
    public static async ValueTask<DriftReport?> AnalyzeAsync(
        EvalProject project,
        string suiteVersion,
        IRecalStore store,
        DriftRequest request,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(request);

        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is null)
        {
            return null;
        }

        var pools = request.EffectivePools;
        var cases = project.Cases.Where(c => pools.Contains(c.Pool)).ToList();
        var eval = EvalDistribution.From(cases, project.Taxonomy);

        var to = request.To ?? span.Last.AddMilliseconds(1);
        var from = request.From ?? to - project.Policy.TrafficWindow;
        var currentCounts = await store.CountTrafficAsync(new TrafficQuery(from, to), cancellationToken).ConfigureAwait(false);
        var current = Compare(project, eval, from, to, currentCounts);

        var series = new List<DriftWindow>();
        if (request.Over != Period.None)
        {
            // Buckets are whole periods unless --from or --to cuts one.
            var seriesFrom = request.From ?? PeriodMath.Start(span.First, request.Over);
            var bucketed = await store.CountTrafficAsync(new TrafficQuery(seriesFrom, to, request.Over), cancellationToken).ConfigureAwait(false);
            foreach (var bucket in bucketed.GroupBy(c => c.BucketStart!.Value).OrderBy(g => g.Key))
            {
                var bucketEnd = PeriodMath.End(bucket.Key, request.Over);
                series.Add(Compare(project, eval, Max(bucket.Key, seriesFrom), request.To is null ? bucketEnd : Min(bucketEnd, to), [.. bucket]));
            }
        }

        return new DriftReport(
            DriftReport.CurrentFormatVersion,
            project.Settings.Name,
            suiteVersion,
            project.Policy.Version,
            [.. pools.Select(p => p.ToString().ToLowerInvariant())],
            cases.Count,
            request.Over,
            project.Policy.Alarms,
            current,
            series);
    }

    /// <summary>Compares the eval distribution with one window's traffic counts.</summary>
    public static DriftWindow Compare(EvalProject project, EvalDistribution eval, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<TrafficCount> counts)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(eval);
        ArgumentNullException.ThrowIfNull(counts);

        var taxonomy = project.Taxonomy;
        long total = 0, unknown = 0;
        var intentTraffic = new Dictionary<string, long>(StringComparer.Ordinal);
        var cohortTraffic = taxonomy.Cohorts.ToDictionary(d => d.Name, _ => new Dictionary<string, long>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var count in counts)
        {
            total += count.Count;
            if (count.Intent == Taxonomy.UnknownIntent)
            {
                unknown += count.Count;
            }
            else
            {
                Add(intentTraffic, count.Intent, count.Count);
            }

            foreach (var (dimension, value) in CohortResolver.ParseKey(count.CohortKey))
            {
                if (cohortTraffic.TryGetValue(dimension, out var values))
                {
                    Add(values, value, count.Count);
                }
            }
        }

        var groups = taxonomy.Intents.ToDictionary(i => i.Name, i => i.Group, StringComparer.Ordinal);
        var intent = CompareDimension(IntentDimension, eval.Intents, intentTraffic, name => groups.GetValueOrDefault(name));
        var cohorts = taxonomy.Cohorts
            .Select(d => CompareDimension(d.Name, eval.Cohorts[d.Name], cohortTraffic[d.Name], _ => null))
            .ToList();

        var alarms = Alarms(project.Policy.Alarms, intent, cohorts);
        return new DriftWindow(from, to, total, total == 0 ? 0 : (double)unknown / total, intent, cohorts, alarms);
    }

    private static DimensionDrift CompareDimension(string dimension, IReadOnlyDictionary<string, long> eval, IReadOnlyDictionary<string, long> traffic, Func<string, string?> group)
    {
        var strata = eval.Keys.Union(traffic.Keys).ToList();
        var evalTotal = eval.Values.Sum();
        var trafficTotal = traffic.Values.Sum();
        var rows = new List<StratumRow>(strata.Count);
        var evalCounts = new double[strata.Count];
        var trafficCounts = new double[strata.Count];
        var evalLongs = new long[strata.Count];
        var trafficLongs = new long[strata.Count];
        double missingShare = 0;
        for (var i = 0; i < strata.Count; i++)
        {
            var e = eval.GetValueOrDefault(strata[i]);
            var t = traffic.GetValueOrDefault(strata[i]);
            evalCounts[i] = evalLongs[i] = e;
            trafficCounts[i] = trafficLongs[i] = t;
            var eShare = evalTotal == 0 ? 0 : (double)e / evalTotal;
            var tShare = trafficTotal == 0 ? 0 : (double)t / trafficTotal;
            double? ratio = t == 0 ? null : eShare / tShare;
            var status = t == 0 ? StratumStatus.NoTraffic
                : e == 0 ? StratumStatus.Missing
                : ratio > RepresentationFactor ? StratumStatus.Over
                : ratio < 1 / RepresentationFactor ? StratumStatus.Under
                : StratumStatus.Ok;
            if (status == StratumStatus.Missing)
            {
                missingShare += tShare;
            }

            rows.Add(new StratumRow(strata[i], group(strata[i]), t, tShare, e, eShare, ratio, status));
        }

        DivergenceMeasures? measures = null;
        if (evalTotal > 0 && trafficTotal > 0)
        {
            measures = new DivergenceMeasures(
                Divergence.JensenShannonDistance(evalCounts, trafficCounts),
                Divergence.KullbackLeibler(trafficCounts, evalCounts),
                Divergence.PopulationStabilityIndex(evalCounts, trafficCounts),
                HomogeneityTest.Run(evalLongs, trafficLongs, HomogeneityStatistic.GTest));
        }

        rows.Sort((a, b) => b.TrafficCount != a.TrafficCount ? b.TrafficCount.CompareTo(a.TrafficCount)
            : b.EvalCount != a.EvalCount ? b.EvalCount.CompareTo(a.EvalCount)
            : string.CompareOrdinal(a.Stratum, b.Stratum));
        return new DimensionDrift(dimension, trafficTotal, evalTotal, measures, rows, missingShare);
    }

    private static List<DriftAlarm> Alarms(AlarmThresholds thresholds, DimensionDrift intent, IReadOnlyList<DimensionDrift> cohorts)
    {
        var alarms = new List<DriftAlarm>();
        if (intent.Measures is { } m && IsSignificant(m, thresholds))
        {
            if (m.JsDistance > thresholds.JsDistance)
            {
                alarms.Add(new DriftAlarm("js_distance", IntentDimension, m.JsDistance, thresholds.JsDistance,
                    $"intent mix has moved: Jensen–Shannon distance {m.JsDistance:0.000} > {thresholds.JsDistance:0.###} (G-test p = {DriftFormat.P(m.Test.PValue)})"));
            }

            if (m.Psi > thresholds.Psi)
            {
                alarms.Add(new DriftAlarm("psi", IntentDimension, m.Psi, thresholds.Psi,
                    $"intent mix has moved: PSI {m.Psi:0.000} > {thresholds.Psi:0.###}"));
            }
        }

        var missing = intent.Missing.ToList();
        var missingTraces = missing.Sum(s => s.TrafficCount);
        if (intent.MissingShare > thresholds.MissingShare && missingTraces >= MinMissingTraces)
        {
            var named = string.Join(", ", missing.Take(5).Select(s => $"{s.Stratum} ({s.TrafficShare:0.0%})"));
            var more = missing.Count > 5 ? $" and {missing.Count - 5} more" : string.Empty;
            alarms.Add(new DriftAlarm("missing_share", IntentDimension, intent.MissingShare, thresholds.MissingShare,
                $"{intent.MissingShare:0.0%} of traffic is in {missing.Count} intents the set lacks: {named}{more}"));
        }

        foreach (var cohort in cohorts)
        {
            if (cohort.Measures is { } c && IsSignificant(c, thresholds) && c.JsDistance > thresholds.CohortJsDistance)
            {
                var moved = cohort.Strata.OrderByDescending(s => Math.Abs(s.TrafficShare - s.EvalShare)).First();
                alarms.Add(new DriftAlarm("cohort_js_distance", cohort.Dimension, c.JsDistance, thresholds.CohortJsDistance,
                    $"{cohort.Dimension} mix has moved: Jensen–Shannon distance {c.JsDistance:0.000} > {thresholds.CohortJsDistance:0.###}; " +
                    $"{cohort.Dimension}={moved.Stratum} is {moved.TrafficShare:0.0%} of traffic but {moved.EvalShare:0.0%} of the set"));
            }
        }

        return alarms;
    }

    /// <summary>
    /// An effect-size alarm also needs the homogeneity test to reject: a large distance on a handful of traces is noise.
    /// </summary>
    private static bool IsSignificant(DivergenceMeasures measures, AlarmThresholds thresholds) =>
        measures.Test.Applicable && measures.Test.PValue < thresholds.PValue;

    private static void Add(Dictionary<string, long> map, string key, long count) =>
        map[key] = map.GetValueOrDefault(key) + count;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
