using System.Globalization;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Running;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>
/// The gap measures over time, next to the score (docs/drift.md#the-gap-timeline): each window's embedding coverage
/// and online signals, alarms relative to a reference window (coverage falling, overall or in one stratum; the
/// unclassifiable share growing), every stored run's pool pass rates and gaps, and offline against online across
/// releases.
/// </summary>
public static class GapTimeline
{
    public const string CoverageDrop = "coverage_drop";
    public const string StratumCoverageDrop = "stratum_coverage_drop";
    public const string UnknownShare = "unknown_share";
    public const string ReleaseDivergence = "offline_online_releases";
    public const string Novelty = "novelty";
    public const string ThumbsUpDrop = "thumbs_up_drop";
    public const string EscalationRise = "escalation_rise";

    /// <summary>A trace is novel when it is farther from every case and taxonomy example than this share of the reference's traffic.</summary>
    public const double NoveltyQuantile = 0.05;

    /// <summary>A stratum is tested for a coverage drop with at least this share of the window's traffic ...</summary>
    public const double MinStratumShare = 0.005;

    /// <summary>... and at least this many measured traces both in the window and in the reference.</summary>
    public const int MinStratumMeasured = 20;

    /// <summary>A stratum enters the releases' standardised online rate when every release has this many rated traces in it.</summary>
    public const int MinReleaseRated = 5;

    /// <summary>Finished runs the timeline plots, newest first.</summary>
    public const int MaxRuns = 100;

    /// <summary>
    /// Measures the timeline for a drift report: coverage and online signals for its current window and every window of
    /// its series, the relative alarms, the runs and the releases. The report comes back unchanged when the store holds
    /// no traffic or the pools no case.
    /// </summary>
    /// <param name="coverage">The windows' coverage measured ahead (<see cref="MeasureCoverageAsync"/>, for the report's own windows); measured here when null.</param>
    public static async ValueTask<DriftReport> ExtendAsync(
        DriftReport report,
        EvalProject project,
        IRecalStore store,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderId,
        CancellationToken cancellationToken = default,
        TrafficCells? cells = null,
        GapCoverage? coverage = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(embedder);
        IReadOnlyList<DriftWindow> windows = [.. report.Series, report.Current];
        // Coverage, feedback and the reference's counts cut the same windows into the same segments: each is read once.
        cells ??= new TrafficCells(store);
        coverage ??= await MeasureCoverageAsync(project, report.SuiteVersion, report.Pools, store, embedder, embedderId, [.. windows.Select(w => (w.From, w.To, w.Traces))], cancellationToken, cells).ConfigureAwait(false);
        if (coverage is null)
        {
            return report;
        }

        var (span, referenceTo, measured) = (coverage.Span, coverage.ReferenceTo, coverage.Measured);
        var coverages = new CoverageReport?[windows.Count];
        for (int i = 0, next = 1; i < windows.Count; i++)
        {
            coverages[i] = windows[i].Traces == 0 ? null : measured[next++].Report;
        }

        var referenceCoverage = measured[0].Report;
        if (referenceCoverage is null)
        {
            return report;
        }

        long referenceTotal = 0, referenceUnknown = 0;
        foreach (var (from, to, _) in WindowSegments.Of([(span.First, referenceTo)]))
        {
            foreach (var cell in await cells.CountAsync(from, to, cancellationToken).ConfigureAwait(false))
            {
                referenceTotal += cell.Count.Traces;
                referenceUnknown += cell.Intent == Taxonomy.UnknownIntent ? cell.Count.Traces : 0;
            }
        }

        var noveltyRadius = referenceCoverage.Novelty!.Quantile(NoveltyQuantile);
        var referenceNovel = referenceCoverage.Novelty.Below(noveltyRadius);
        var reference = new GapReference(span.First, referenceTo, referenceTotal, referenceTotal == 0 ? 0 : (double)referenceUnknown / referenceTotal, embedderId, referenceCoverage.Radius.Radius, Coverage(referenceCoverage))
        {
            NoveltyRadius = noveltyRadius,
            NoveltyShare = referenceNovel.Share,
        };
        var calibration = report.Calibration ?? throw new InvalidOperationException("the drift report carries no calibration");
        var feedback = await cells.TotalsAsync([.. windows.Select(w => (w.From, w.To)), (span.First, referenceTo)], cancellationToken).ConfigureAwait(false);
        var online = feedback[..^1].Select(Online).ToArray();
        var referenceOnline = feedback[^1];
        reference = reference with { Online = Online(referenceOnline) };
        var context = new WindowContext(project, reference, referenceCoverage, referenceNovel, referenceOnline, calibration);
        var series = new List<DriftWindow>(report.Series.Count);
        for (var i = 0; i < report.Series.Count; i++)
        {
            series.Add(Measure(report.Series[i], coverages[i], online[i], context));
        }

        var current = Measure(report.Current, coverages[^1], online[^1], context);
        // Every run's offline-online comparison reads the same window's signals: read them once, if there is a run.
        var signals = (await store.ListRunsAsync(1, cancellationToken).ConfigureAwait(false)).Count == 0
            ? null
            : await RunReportBuilder.SignalsAsync(project.Policy, store, cancellationToken).ConfigureAwait(false);
        var (runs, staleness) = await RunsAsync(project, store, signals, cancellationToken).ConfigureAwait(false);
        var releases = await CompareReleasesAsync(project, store, report.Current.From, report.Current.To, cancellationToken, signals).ConfigureAwait(false);
        if (releases is not null && ReleaseAlarm(releases, project.Policy.Alarms) is { } alarm)
        {
            current = current with { Alarms = [.. current.Alarms, alarm] };
        }

        return report with { Current = current, Series = series, Reference = reference, Runs = runs, Staleness = staleness, Releases = releases };

    }

    /// <summary>
    /// The coverage the timeline reads, for the reference window and each of <paramref name="windows"/> that holds
    /// traffic: one read of the stored traffic, one embedding of the texts of all the samples. Null when no traffic is stored.
    /// </summary>
    /// <param name="windows">The report's series then its current window, with their traces (a window without any is not measured).</param>
    public static async ValueTask<GapCoverage?> MeasureCoverageAsync(
        EvalProject project,
        string suiteVersion,
        IReadOnlyList<string> poolNames,
        IRecalStore store,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderId,
        IReadOnlyList<(DateTimeOffset From, DateTimeOffset To, long Traces)> windows,
        CancellationToken cancellationToken = default,
        TrafficCells? cells = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(poolNames);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(windows);
        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is null)
        {
            return null;
        }

        var pools = poolNames.Select(p => Enum.Parse<Pool>(p, ignoreCase: true)).ToList();
        var end = span.Last.AddMilliseconds(1);
        var referenceTo = span.First + project.Policy.TrafficWindow < end ? span.First + project.Policy.TrafficWindow : end;
        // The taxonomy's examples are anchors too: traffic far from all of them and from every case is in no known intent.
        var anchors = project.Taxonomy.Intents.SelectMany(i => i.Examples).Distinct(StringComparer.Ordinal).ToList();
        var requests = new List<CoverageRequest> { Request(span.First, referenceTo) };
        requests.AddRange(windows.Where(w => w.Traces > 0).Select(w => Request(w.From, w.To)));
        var measured = await CoverageAnalyzer.AnalyzeWindowsAsync(project, suiteVersion, store, embedder, embedderId, requests, cancellationToken, cells).ConfigureAwait(false);
        return new GapCoverage(span, referenceTo, measured);

        CoverageRequest Request(DateTimeOffset from, DateTimeOffset to) => new(from, to, pools, BlindSpots: false, Anchors: anchors);
    }

    /// <summary>
    /// Offline against online across releases: for every target that names its release, its newest run with gold
    /// verdicts, against the online signals of the traces that release answered; oldest release (by first trace) first.
    /// Null below two such releases.
    /// </summary>
    /// <param name="windowSignals">The latest window's online signals (<see cref="RunReportBuilder.SignalsAsync"/>), when already read.</param>
    public static async ValueTask<ReleaseComparison?> CompareReleasesAsync(EvalProject project, IRecalStore store, DateTimeOffset mixFrom, DateTimeOffset mixTo, CancellationToken cancellationToken = default, TrafficSignals? windowSignals = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        var targets = project.Settings.Targets.Where(t => !string.IsNullOrEmpty(t.Release)).ToDictionary(t => t.Name, t => t.Release!, StringComparer.Ordinal);
        if (targets.Count < 2)
        {
            return null;
        }

        // The newest run of each release's target with gold verdicts.
        var runs = new Dictionary<string, (RunInfo Run, IReadOnlyList<RunCaseRecord> Results)>(StringComparer.Ordinal);
        foreach (var run in await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished), cancellationToken).ConfigureAwait(false))
        {
            if (!targets.TryGetValue(run.Target, out var release) || runs.ContainsKey(release))
            {
                continue;
            }

            var results = await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false);
            if (results.Any(r => r.Error is null && r.Pool == "gold"))
            {
                runs[release] = (run, results);
            }
        }

        if (runs.Count < 2)
        {
            return null;
        }

        // Each release's traces, thumbs per stratum (counted by the store); and the mix of the given window.
        var by = project.Policy.Strata.By.Count == 0 ? ["intent"] : project.Policy.Strata.By;
        var signals = runs.Keys.ToDictionary(r => r, _ => new ReleaseSignals(), StringComparer.Ordinal);
        foreach (var cell in await store.CountFeedbackByModelAsync(signals.Keys, cancellationToken).ConfigureAwait(false))
        {
            signals[cell.Model].Add(Sampler.StratumOf(by, cell.Intent, cell.CohortKey), cell);
        }

        var mix = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var count in await store.CountTrafficAsync(new TrafficQuery(mixFrom, mixTo), cancellationToken).ConfigureAwait(false))
        {
            var stratum = Sampler.StratumOf(by, count.Intent, count.CohortKey);
            mix[stratum] = mix.GetValueOrDefault(stratum) + count.Count;
        }

        var rated = signals.Where(kv => kv.Value.Rated > 0).Select(kv => kv.Key).ToList();
        if (rated.Count < 2)
        {
            return null;
        }

        var common = mix.Keys.Where(stratum => rated.All(r => signals[r].RatedIn(stratum) >= MinReleaseRated)).Order(StringComparer.Ordinal).ToList();
        var points = new List<ReleasePoint>();
        foreach (var release in rated)
        {
            var s = signals[release];
            var (run, results) = runs[release];
            var gold = results.Where(r => r.Error is null && r.Pool == "gold").ToList();
            var online = common.Count == 0
                ? null
                : PostStratification.Estimate([.. common.Select(stratum => new StratumResult(s.UpIn(stratum), s.RatedIn(stratum), mix[stratum]))]);
            var weighted = (await RunReportBuilder.BuildAsync(run, results, project.Policy, store, cancellationToken, signals: windowSignals).ConfigureAwait(false)).Weighted?.Estimate.Estimate;
            points.Add(new ReleasePoint(
                release,
                run.Target,
                run.Id,
                s.First,
                s.Last,
                s.Traces,
                s.Rated,
                gold.Count,
                gold.Count(r => r.Passed),
                (double)gold.Count(r => r.Passed) / gold.Count,
                weighted is { } w && double.IsFinite(w) ? w : null,
                online?.Estimate ?? (double)s.Up / s.Rated,
                online?.Lower ?? double.NaN,
                online?.Upper ?? double.NaN,
                (double)s.Up / s.Rated));
        }

        points.Sort((a, b) => a.FirstSeen != b.FirstSeen ? a.FirstSeen.CompareTo(b.FirstSeen) : string.CompareOrdinal(a.Release, b.Release));
        double? rho = points.Count >= 3 ? RankCorrelation.Spearman([.. points.Select(p => p.GoldPassRate)], [.. points.Select(p => p.OnlineRate)]).Rho : null;
        return new ReleaseComparison(mixFrom, mixTo, common.Count, points, rho is { } r && double.IsFinite(r) ? r : null);
    }

    /// <summary>
    /// The newest two releases disagree: gold says the newer is better (or worse), significantly, and users'
    /// mix-standardised thumbs-up rate says the opposite, significantly and by more than <c>alarms.release_divergence</c>.
    /// </summary>
    public static DriftAlarm? ReleaseAlarm(ReleaseComparison releases, AlarmThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(releases);
        ArgumentNullException.ThrowIfNull(thresholds);
        if (releases.Releases.Count < 2 || releases.Strata == 0)
        {
            return null;
        }

        var older = releases.Releases[^2];
        var newer = releases.Releases[^1];
        var offline = newer.GoldPassRate - older.GoldPassRate;
        var offlineP = ProportionDifference.FisherExactTwoSided(newer.GoldPassed, newer.GoldCases, older.GoldPassed, older.GoldCases);
        var online = newer.OnlineRate - older.OnlineRate;
        var onlineP = TwoSidedP(online, StandardError(newer), StandardError(older));
        if (Math.Sign(offline) * Math.Sign(online) >= 0 || offlineP >= thresholds.PValue || onlineP >= thresholds.PValue || Math.Abs(online) <= thresholds.ReleaseDivergence)
        {
            return null;
        }

        var weighted = newer.TrafficWeighted is { } nw && older.TrafficWeighted is { } ow
            ? string.Create(CultureInfo.InvariantCulture, $"; the traffic-weighted estimate moved {Points(nw - ow)} ({(Math.Sign(nw - ow) == Math.Sign(online) ? "with the users" : "with gold")})")
            : string.Empty;
        return new DriftAlarm(
            ReleaseDivergence,
            "release",
            online,
            thresholds.ReleaseDivergence,
            string.Create(CultureInfo.InvariantCulture,
                $"offline and online disagree: gold says release {newer.Release} (target {newer.Target}) is {(offline > 0 ? "better" : "worse")} than {older.Release} (target {older.Target}), {newer.GoldPassRate:0.0%} vs {older.GoldPassRate:0.0%} ({Points(offline)}, Fisher p = {offlineP:0.##e0}); " +
                $"users say {(online > 0 ? "better" : "worse")}: thumbs up {newer.OnlineRate:0.0%} vs {older.OnlineRate:0.0%} ({Points(online)}, standardised to the current mix over {releases.Strata} strata, p = {onlineP:0.##e0}){weighted}. The gold set no longer ranks releases the way users do."));
    }

    private static WindowOnline Online(FeedbackCount f) =>
        new(f.Traces, f.Rated, f.Rated == 0 ? null : (double)f.Up / f.Rated, f.EscalationKnown == 0 ? null : (double)f.Escalated / f.EscalationKnown, f.EscalationKnown);

    private static DriftWindow Measure(DriftWindow window, CoverageReport? coverage, WindowOnline online, WindowContext context)
    {
        var verdicts = new WindowVerdicts();
        verdicts.Alarms.AddRange(window.Alarms);
        verdicts.Tests.AddRange(window.Tests);
        var thresholds = context.Project.Policy.Alarms;
        var (phi, alpha) = (context.Calibration.Phi, context.Calibration.Alpha);
        double? novelShare = null;
        if (coverage is not null)
        {
            TestCoverage(coverage, context.ReferenceCoverage, thresholds, phi, alpha, verdicts);

            // Novelty: traffic farther from every case and taxonomy example than the reference's 5th percentile.
            var novel = coverage.Novelty!.Below(context.Reference.NoveltyRadius!.Value);
            var referenceNovel = context.ReferenceNovel;
            novelShare = novel.Share;
            var outcome = CalibratedTest.ShareRise(novel.Below, novel.Measured, referenceNovel.Below, referenceNovel.Measured, thresholds.Novelty, phi, alpha);
            verdicts.Add(Novelty, "text", outcome with { Value = novel.Share, Reference = referenceNovel.Share }, o =>
                string.Create(CultureInfo.InvariantCulture, $"{o.Value:0.0%} of traffic is farther from every case and taxonomy example than the reference's {NoveltyQuantile:0%} (similarity below {context.Reference.NoveltyRadius:0.000}), against {o.Reference:0.0%} in the reference window (alarm at {o.Threshold:0.0%}: {o.Why}; p = {DriftFormat.P(o.PValue)}): requests of a kind the taxonomy does not know are arriving"));
        }

        // What users did: fewer thumbs up among rated traces, more escalations, against the reference window.
        var referenceOnline = context.ReferenceOnline;
        var (traces, rated) = (online.Traces, online.Rated);
        if (rated > 0 && referenceOnline.Rated > 0)
        {
            var up = online.ThumbsUpRate is { } rate ? (long)Math.Round(rate * rated) : 0;
            verdicts.Add(ThumbsUpDrop, "online", CalibratedTest.ShareFall(up, rated, referenceOnline.Up, referenceOnline.Rated, thresholds.ThumbsUpDrop, phi, alpha), o =>
                string.Create(CultureInfo.InvariantCulture, $"thumbs up fell to {o.Value:0.0%} of {rated:N0} rated traces, against {o.Reference:0.0%} in the reference window (alarm below {o.Threshold:0.0%}: {o.Why}; p = {DriftFormat.P(o.PValue)}): users are less happy"));
        }

        // Escalation among the traces that say whether they were escalated; untested where no trace says.
        if (online.EscalationRate is { } escalation && referenceOnline.EscalationKnown > 0)
        {
            var known = online.EscalationKnown;
            var escalated = (long)Math.Round(escalation * known);
            verdicts.Add(EscalationRise, "online", CalibratedTest.ShareRise(escalated, known, referenceOnline.Escalated, referenceOnline.EscalationKnown, thresholds.EscalationRise, phi, alpha), o =>
                string.Create(CultureInfo.InvariantCulture, $"{o.Value:0.0%} of traces were escalated to a human, against {o.Reference:0.0%} in the reference window (alarm at {o.Threshold:0.0%}: {o.Why}; p = {DriftFormat.P(o.PValue)})"));
        }

        return window with
        {
            Alarms = verdicts.Alarms,
            Tests = verdicts.Tests,
            Coverage = coverage is null ? null : Coverage(coverage) with { NoveltyShare = novelShare },
            CoverageDetail = coverage,
            Online = online,
        };
    }

    /// <summary>
    /// Coverage below the reference's by at least <c>alarms.coverage_drop</c>, significantly (one-sided Fisher at the
    /// test's level, counts divided by φ); and, per stratum tested (enough traffic and measured traces in both windows), a
    /// drop of at least <c>alarms.stratum_coverage_drop</c> at the level divided by the strata tested (Bonferroni).
    /// </summary>
    public static IEnumerable<DriftAlarm> CoverageAlarms(CoverageReport window, CoverageReport reference, AlarmThresholds thresholds, double phi, double alpha)
    {
        var verdicts = new WindowVerdicts();
        TestCoverage(window, reference, thresholds, phi, alpha, verdicts);
        return verdicts.Alarms;
    }

    private static void TestCoverage(CoverageReport window, CoverageReport reference, AlarmThresholds thresholds, double phi, double alpha, WindowVerdicts verdicts)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(thresholds);

        // A sampled window's share is post-stratified; the test reads the sample's counts, the effect the estimates.
        var overall = CalibratedTest.ShareFall(window.Overall.Covered, window.Overall.Measured, reference.Overall.Covered, reference.Overall.Measured, thresholds.CoverageDrop, phi, alpha);
        overall = overall with
        {
            Value = window.Overall.Share,
            Reference = reference.Overall.Share,
            Alarm = overall.Alarm && reference.Overall.Share - window.Overall.Share >= thresholds.CoverageDrop,
        };
        verdicts.Add(CoverageDrop, "coverage", overall, o =>
            string.Create(CultureInfo.InvariantCulture, $"{o.Value:0.0%} of traffic has an eval case within r = {window.Radius.Radius:0.000}, against {o.Reference:0.0%} in the reference window (alarm below {o.Threshold:0.0%}: {o.Why}; p = {DriftFormat.P(o.PValue)}): traffic is moving away from the set"));

        var referenceStrata = reference.Strata.ToDictionary(s => s.Stratum, StringComparer.Ordinal);
        var tested = window.Strata
            .Where(s => s.TrafficShare >= MinStratumShare && s.Measured >= MinStratumMeasured && referenceStrata.TryGetValue(s.Stratum, out var r) && r.Measured >= MinStratumMeasured)
            .Select(s => (Now: s, Then: referenceStrata[s.Stratum]))
            .ToList();
        foreach (var (now, then) in tested.OrderByDescending(x => x.Then.CoveredShare - x.Now.CoveredShare).ThenBy(x => x.Now.Stratum, StringComparer.Ordinal))
        {
            if (then.CoveredShare - now.CoveredShare < thresholds.StratumCoverageDrop)
            {
                break;
            }

            verdicts.Add(StratumCoverageDrop, now.Stratum, CalibratedTest.ShareFall(now.Covered, now.Measured, then.Covered, then.Measured, thresholds.StratumCoverageDrop, phi, alpha / tested.Count), o =>
                string.Create(CultureInfo.InvariantCulture, $"{now.Stratum}: {o.Value:0.0%} covered against {o.Reference:0.0%} in the reference window (alarm below {o.Threshold:0.0%}: {o.Why}, {tested.Count} strata tested; p = {DriftFormat.P(o.PValue)}): its traffic now asks what its cases do not"));
        }
    }

    private static async ValueTask<(List<RunPoint> Runs, List<StalenessPoint> Staleness)> RunsAsync(EvalProject project, IRecalStore store, TrafficSignals? signals, CancellationToken cancellationToken)
    {
        var releases = project.Settings.Targets.ToDictionary(t => t.Name, t => t.Release, StringComparer.Ordinal);
        var points = new List<RunPoint>();
        var bySuite = new Dictionary<string, Dictionary<string, (RunInfo Run, IReadOnlyList<RunCaseRecord> Results)>>(StringComparer.Ordinal);
        var previous = new Dictionary<string, (string Suite, List<RunCaseRecord> Gold)>(StringComparer.Ordinal);
        foreach (var run in (await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished, Limit: MaxRuns), cancellationToken).ConfigureAwait(false)).Reverse())
        {
            var results = await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false);
            var built = await RunReportBuilder.BuildAsync(run, results, project.Policy, store, cancellationToken, signals: signals).ConfigureAwait(false);
            double? Pool(string name) => built.Segments.FirstOrDefault(s => s.Dimension == "pool" && s.Value == name) is { } s && double.IsFinite(s.PassRate) ? s.PassRate : null;
            var shadow = built.PoolGaps.FirstOrDefault(g => g.Other == "shadow");
            var holdout = built.PoolGaps.FirstOrDefault(g => g.Other == "holdout");
            var weighted = built.Weighted?.Estimate.Estimate;
            var rho = built.Online?.ThumbsRho;
            var gold = results.Where(r => r.Error is null && r.Pool == "gold").ToList();
            var labelled = gold.Where(r => r.Difficulty is not null).ToList();
            (double Change, double Mix, double Within)? decomposed = previous.TryGetValue(run.Target, out var before) && before.Suite != run.SuiteVersion && before.Gold.Count > 0 && gold.Count > 0
                ? RunReportBuilder.Decompose(before.Gold, gold, r => r.Difficulty ?? "unrated")
                : null;
            if (gold.Count > 0)
            {
                previous[run.Target] = (run.SuiteVersion, gold);
            }

            // Oldest first, so the newest run of each target on a suite is the one kept.
            if (!bySuite.TryGetValue(run.SuiteVersion, out var targets))
            {
                bySuite[run.SuiteVersion] = targets = new(StringComparer.Ordinal);
            }

            targets[run.Target] = (run, results);

            points.Add(new RunPoint(
                run.Id,
                run.Target,
                releases.GetValueOrDefault(run.Target),
                run.Started,
                Pool("gold"),
                Pool("shadow"),
                Pool("holdout"),
                weighted is { } w && double.IsFinite(w) ? w : null,
                shadow?.Difference,
                shadow?.PValue,
                holdout?.Difference,
                holdout?.PValue,
                rho is { } r && double.IsFinite(r) ? r : null)
            {
                SuiteVersion = run.SuiteVersion,
                EasyShare = labelled.Count == 0 ? null : (double)labelled.Count(r => r.Difficulty == "easy") / labelled.Count,
                MixEffect = decomposed?.Mix,
                WithinEffect = decomposed?.Within,
            });
        }

        var staleness = bySuite.Where(kv => kv.Value.Count >= 2)
            .Select(kv => (Suite: kv.Key, Runs: kv.Value.Values.OrderBy(r => r.Run.Started).ToList()))
            .OrderBy(x => x.Runs[0].Run.Started)
            .Select(x =>
            {
                var analysed = StalenessAnalyzer.Analyze(x.Suite, x.Runs);
                return new StalenessPoint(x.Suite, x.Runs[0].Run.Started, x.Runs.Count, analysed.Spread, analysed.MeanJaccard, analysed.Stale);
            })
            .ToList();
        return (points, staleness);
    }

    private static WindowCoverage Coverage(CoverageReport report) =>
        new(report.Overall.Share, report.Overall.Lower, report.Overall.Upper, report.Overall.Measured, report.Overall.Covered);

    private static double StandardError(ReleasePoint point) =>
        double.IsFinite(point.OnlineLower) ? (point.OnlineUpper - point.OnlineLower) / (2 * 1.959963984540054) : Math.Sqrt(point.OnlineRate * (1 - point.OnlineRate) / point.Rated);

    /// <summary>The two-sided normal p-value of a difference of two independent estimates.</summary>
    private static double TwoSidedP(double difference, double se1, double se2)
    {
        var se = Math.Sqrt((se1 * se1) + (se2 * se2));
        return se == 0 ? (difference == 0 ? 1 : 0) : 2 * MathNet.Numerics.Distributions.Normal.CDF(0, 1, -Math.Abs(difference) / se);
    }

    private static string Points(double difference) => string.Create(CultureInfo.InvariantCulture, $"{(difference >= 0 ? "+" : "−")}{Math.Abs(difference) * 100:0.0} points");

    private sealed record WindowContext(
        EvalProject Project,
        GapReference Reference,
        CoverageReport ReferenceCoverage,
        (double Share, long Measured, long Below) ReferenceNovel,
        FeedbackCount ReferenceOnline,
        DriftCalibration Calibration);

    /// <summary>One release's traffic: its span, and thumbs per stratum.</summary>
    private sealed class ReleaseSignals
    {
        private readonly Dictionary<string, (long Rated, long Up)> _strata = new(StringComparer.Ordinal);

        public DateTimeOffset First { get; private set; } = DateTimeOffset.MaxValue;

        public DateTimeOffset Last { get; private set; } = DateTimeOffset.MinValue;

        public long Traces { get; private set; }

        public long Rated { get; private set; }

        public long Up { get; private set; }

        public void Add(string stratum, ModelFeedbackCell cell)
        {
            Traces += cell.Count.Traces;
            First = cell.First < First ? cell.First : First;
            Last = cell.Last > Last ? cell.Last : Last;
            if (cell.Count.Rated == 0)
            {
                return;
            }

            Rated += cell.Count.Rated;
            Up += cell.Count.Up;
            var (rated, up) = _strata.GetValueOrDefault(stratum);
            _strata[stratum] = (rated + cell.Count.Rated, up + cell.Count.Up);
        }

        public long RatedIn(string stratum) => _strata.GetValueOrDefault(stratum).Rated;

        public long UpIn(string stratum) => _strata.GetValueOrDefault(stratum).Up;
    }
}

/// <summary>
/// The coverage of a drift report's windows (<see cref="GapTimeline.MeasureCoverageAsync"/>): the traffic's span, the end
/// of the reference window, then the reference's outcome and each window with traffic's, in the report's order.
/// </summary>
public sealed record GapCoverage(TrafficSpan Span, DateTimeOffset ReferenceTo, IReadOnlyList<CoverageOutcome> Measured);
