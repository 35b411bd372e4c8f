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
    /// <param name="cells">Where the counts are read from, shared with the gap timeline that extends the report (<see cref="GapTimeline.ExtendAsync"/>); its windows are primed here, so the store is read once for all of them.</param>
    public static async ValueTask<DriftReport?> AnalyzeAsync(
        EvalProject project,
        string suiteVersion,
        IRecalStore store,
        DriftRequest request,
        CancellationToken cancellationToken = default,
        TrafficCells? cells = null) =>
        await CountAsync(project, suiteVersion, store, request, cancellationToken, cells).ConfigureAwait(false) is { } counted
            ? counted.Compare(cancellationToken)
            : null;

    /// <summary>
    /// The first half of <see cref="AnalyzeAsync"/>: every window's counts read (the store is not read after it), the
    /// reference and its calibration; <see cref="CountedDrift.Compare"/> is the second, the calibrated comparisons, which
    /// is CPU alone. Null when no traffic is stored.
    /// </summary>
    public static async ValueTask<CountedDrift?> CountAsync(
        EvalProject project,
        string suiteVersion,
        IRecalStore store,
        DriftRequest request,
        CancellationToken cancellationToken = default,
        TrafficCells? cells = null)
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
        // The series' windows: whole periods unless --from or --to cuts one; the newest runs to its period's end.
        List<(DateTimeOffset From, DateTimeOffset To)> series = request.Over == Period.None
            ? []
            : [.. TrafficCells.Windows(request.From ?? PeriodMath.Start(span.First, request.Over), to, request.Over)
                .Select(w => (w.From, request.To is null ? PeriodMath.End(PeriodMath.Start(w.From, request.Over), request.Over) : w.To))];
        cells ??= new TrafficCells(store);
        await cells.PrimeAsync(
            [.. DriftReference.Windows(project, span, request.Over), (from, to), .. series, .. series.Select(w => (w.From, w.To < to ? w.To : to))],
            cancellationToken).ConfigureAwait(false);
        var reference = await DriftReference.ReadAsync(project, cells, span, request.Over, cancellationToken).ConfigureAwait(false);
        var context = AlarmContext.For(project, eval, reference, request.Timeline);
        var current = await cells.CountTrafficAsync(from, to, Period.None, cancellationToken).ConfigureAwait(false);

        var counted = new List<(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TrafficCount> Counts)>();
        foreach (var (windowFrom, windowTo) in series)
        {
            var counts = await cells.CountTrafficAsync(windowFrom, windowTo < to ? windowTo : to, Period.None, cancellationToken).ConfigureAwait(false);
            if (counts.Count > 0)
            {
                counted.Add((windowFrom, windowTo, counts));
            }
        }

        return new CountedDrift(project, suiteVersion, request.Over, [.. pools.Select(p => p.ToString().ToLowerInvariant())], cases.Count, eval, context, (from, to, current), counted);
    }

    /// <summary>
    /// A drift analysis with every window counted (<see cref="CountAsync"/>), before its calibrated comparisons: the
    /// windows the report will hold are known, so the gap timeline can measure them meanwhile.
    /// </summary>
    public sealed class CountedDrift
    {
        private readonly EvalProject _project;
        private readonly string _suiteVersion;
        private readonly Period _over;
        private readonly IReadOnlyList<string> _pools;
        private readonly int _cases;
        private readonly EvalDistribution _eval;
        private readonly AlarmContext _context;
        private readonly (DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TrafficCount> Counts) _current;
        private readonly IReadOnlyList<(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TrafficCount> Counts)> _series;

        internal CountedDrift(
            EvalProject project, string suiteVersion, Period over, IReadOnlyList<string> pools, int cases, EvalDistribution eval, AlarmContext context,
            (DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TrafficCount> Counts) current,
            IReadOnlyList<(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<TrafficCount> Counts)> series)
        {
            (_project, _suiteVersion, _over, _pools, _cases, _eval, _context, _current, _series) = (project, suiteVersion, over, pools, cases, eval, context, current, series);
        }

        /// <summary>The pools the report compares, in its words.</summary>
        public IReadOnlyList<string> Pools => _pools;

        /// <summary>The windows of the report's series then its current window, each with its traces (as <see cref="DriftWindow.Traces"/> will say).</summary>
        public IReadOnlyList<(DateTimeOffset From, DateTimeOffset To, long Traces)> Windows =>
            [.. _series.Append(_current).Select(w => (w.From, w.To, w.Counts.Sum(c => c.Count)))];

        /// <summary>The calibrated comparisons of every window: the report.</summary>
        public DriftReport Compare(CancellationToken cancellationToken = default)
        {
            var current = IntentDivergenceAnalyzer.Compare(_project, _eval, _current.From, _current.To, _current.Counts, _context);

            // Each window's calibrated nulls are seeded by the window alone, so the windows are compared side by side.
            var windows = new DriftWindow[_series.Count];
            Parallel.For(0, _series.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
                windows[i] = IntentDivergenceAnalyzer.Compare(_project, _eval, _series[i].From, _series[i].To, _series[i].Counts, _context));

            return new DriftReport(
                DriftReport.CurrentFormatVersion,
                _project.Settings.Name,
                _suiteVersion,
                _project.Policy.Version,
                _pools,
                _cases,
                _over,
                _project.Policy.Alarms,
                current,
                windows)
            {
                Calibration = _context.Calibration,
            };
        }
    }

    /// <summary>
    /// Compares the eval distribution with one window's traffic counts; with a <paramref name="context"/>, raises the
    /// alarms calibrated against its reference window.
    /// </summary>
    public static DriftWindow Compare(EvalProject project, EvalDistribution eval, DateTimeOffset from, DateTimeOffset to, IReadOnlyList<TrafficCount> counts, AlarmContext? context = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(eval);
        ArgumentNullException.ThrowIfNull(counts);

        var taxonomy = project.Taxonomy;
        var tally = TrafficTally.Of(taxonomy, counts);
        var groups = taxonomy.Intents.ToDictionary(i => i.Name, i => i.Group, StringComparer.Ordinal);
        var intent = CompareDimension(IntentDimension, eval.Intents, tally.Intents, name => groups.GetValueOrDefault(name));
        var cohorts = taxonomy.Cohorts
            .Select(d => CompareDimension(d.Name, eval.Cohorts[d.Name], tally.Cohorts[d.Name], _ => null))
            .ToList();

        var verdicts = new WindowVerdicts();
        if (context is not null)
        {
            Test(project, context, from, to, tally, intent, cohorts, verdicts);
        }

        return new DriftWindow(from, to, tally.Total, tally.Total == 0 ? 0 : (double)tally.Unknown / tally.Total, intent, cohorts, verdicts.Alarms) { Tests = verdicts.Tests };
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

    private static void Test(EvalProject project, AlarmContext context, DateTimeOffset from, DateTimeOffset to, TrafficTally window, DimensionDrift intent, IReadOnlyList<DimensionDrift> cohorts, WindowVerdicts verdicts)
    {
        var thresholds = project.Policy.Alarms;
        var reference = context.Reference.Tally;
        if (window.Known > 0 && reference.Known > 0)
        {
            var categories = Categories(context.Eval.Intents, reference.Intents, window.Intents, project.Taxonomy.Intents.Select(i => i.Name));
            var evalCounts = Counts(categories, context.Eval.Intents);
            if (evalCounts.Sum() > 0)
            {
                var referenceCounts = Longs(categories, reference.Intents);
                var js = context.Null(IntentDimension + "/js", referenceCounts, window.Known, from, to, c => Divergence.JensenShannonDistance(evalCounts, c));
                var psi = context.Null(IntentDimension + "/psi", referenceCounts, window.Known, from, to, c => Divergence.PopulationStabilityIndex(evalCounts, c));
                var m = intent.Measures!;
                verdicts.Add("js_distance", IntentDimension, CalibratedTest.Rise(m.JsDistance, js, thresholds.JsDistance, context.Phi, context.Alpha), o =>
                    $"intent mix has moved: Jensen–Shannon distance {o.Value:0.000} > {o.Threshold:0.000} ({o.Why}; p = {DriftFormat.P(o.PValue)})");
                verdicts.Add("psi", IntentDimension, CalibratedTest.Rise(m.Psi, psi, thresholds.Psi, context.Phi, context.Alpha), o =>
                    $"intent mix has moved: PSI {o.Value:0.000} > {o.Threshold:0.000} ({o.Why}; p = {DriftFormat.P(o.PValue)})");

                // Traffic in intents the set lacks, against the reference's share in the same intents.
                var missing = intent.Missing.ToList();
                var missingTraces = missing.Sum(s => s.TrafficCount);
                var referenceMissing = reference.Intents.Where(kv => context.Eval.Intents.GetValueOrDefault(kv.Key) == 0).Sum(kv => kv.Value);
                var named = string.Join(", ", missing.Take(5).Select(s => $"{s.Stratum} ({s.TrafficShare:0.0%})"));
                var more = missing.Count > 5 ? $" and {missing.Count - 5} more" : string.Empty;
                verdicts.Add("missing_share", IntentDimension, CalibratedTest.ShareRise(missingTraces, window.Known, referenceMissing, reference.Known, thresholds.MissingShare, context.Phi, context.Alpha), o =>
                    $"{o.Value:0.0%} of traffic is in {missing.Count} intents the set lacks, against {o.Reference:0.0%} in the reference window (alarm at {o.Threshold:0.0%}: {o.Why}; p = {DriftFormat.P(o.PValue)}): {named}{more}",
                    alarms: missingTraces >= MinMissingTraces);
            }
        }

        // Out-of-scope growth: the share the classifier cannot place, against the reference window's.
        verdicts.Add(GapTimeline.UnknownShare, IntentDimension, CalibratedTest.ShareRise(window.Unknown, window.Total, reference.Unknown, reference.Total, thresholds.UnknownShare, context.Phi, context.Alpha), o =>
            $"{o.Value:0.0%} of traffic is in no known intent, against {o.Reference:0.0%} in the reference window (alarm at {o.Threshold:0.0%}: {o.Why}; p = {DriftFormat.P(o.PValue)}): out-of-scope requests are growing");

        foreach (var cohort in cohorts)
        {
            var dimension = project.Taxonomy.Cohorts.First(d => d.Name == cohort.Dimension);
            var referenceValues = reference.Cohorts[cohort.Dimension];
            var windowValues = window.Cohorts[cohort.Dimension];
            var evalValues = context.Eval.Cohorts[cohort.Dimension];
            var n = windowValues.Values.Sum();
            if (n == 0 || referenceValues.Values.Sum() == 0 || evalValues.Values.Sum() == 0 || cohort.Measures is not { } c)
            {
                continue;
            }

            var categories = Categories(evalValues, referenceValues, windowValues, [.. dimension.Values, dimension.Missing]);
            var evalCounts = Counts(categories, evalValues);
            var null_ = context.Null(cohort.Dimension + "/js", Longs(categories, referenceValues), n, from, to, x => Divergence.JensenShannonDistance(evalCounts, x));
            verdicts.Add("cohort_js_distance", cohort.Dimension, CalibratedTest.Rise(c.JsDistance, null_, thresholds.CohortJsDistance, context.Phi, context.Alpha), o =>
            {
                var referenceTotal = (double)referenceValues.Values.Sum();
                var moved = cohort.Strata.OrderByDescending(s => Math.Abs(s.TrafficShare - (referenceValues.GetValueOrDefault(s.Stratum) / referenceTotal))).First();
                var unlisted = moved.Stratum == dimension.Missing && dimension.Values.Count > 0
                    ? $" ({dimension.Missing}: a value the taxonomy does not list, or none)"
                    : string.Empty;
                return $"{cohort.Dimension} mix has moved: Jensen–Shannon distance {o.Value:0.000} > {o.Threshold:0.000} ({o.Why}); " +
                    $"{cohort.Dimension}={moved.Stratum}{unlisted} is {moved.TrafficShare:0.0%} of traffic against {referenceValues.GetValueOrDefault(moved.Stratum) / referenceTotal:0.0%} in the reference window and {moved.EvalShare:0.0%} of the set";
            });
        }
    }

    /// <summary>Every category seen in the set, the reference, the window or declared, in ordinal order.</summary>
    private static List<string> Categories(IReadOnlyDictionary<string, long> eval, IReadOnlyDictionary<string, long> reference, IReadOnlyDictionary<string, long> window, IEnumerable<string> declared) =>
        [.. eval.Keys.Concat(reference.Keys).Concat(window.Keys).Concat(declared).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    private static double[] Counts(IReadOnlyList<string> categories, IReadOnlyDictionary<string, long> counts) =>
        [.. categories.Select(c => (double)counts.GetValueOrDefault(c))];

    private static long[] Longs(IReadOnlyList<string> categories, IReadOnlyDictionary<string, long> counts) =>
        [.. categories.Select(c => counts.GetValueOrDefault(c))];

    private static void Add(Dictionary<string, long> map, string key, long count) =>
        map[key] = map.GetValueOrDefault(key) + count;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
