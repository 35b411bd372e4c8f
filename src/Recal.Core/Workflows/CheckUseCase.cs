using System.Globalization;
using Microsoft.Extensions.AI;
using Recal.Decisions;
using Recal.Domain;
using Recal.Drift;
using Recal.Gates;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Running;
using Recal.Storage;
using static Recal.Text.Figures;

namespace Recal.Workflows;

/// <summary>What <c>recal check</c> is asked: the project, the clock, and the host's embedder for the coverage instruments.</summary>
/// <param name="Embedder">The project's embedder, its cache id, or why there is none (coverage is then unknown).</param>
public sealed record CheckRequest(EvalProject Project, DateTimeOffset Now, (IEmbeddingGenerator<string, Embedding<float>>? Generator, string? Id, string? Error) Embedder);

/// <summary>Every instrument's finding, in the order shown, and the newest completed run the score side read.</summary>
public sealed record CheckResult(IReadOnlyList<Finding> Findings, RunInfo? Run)
{
    public bool Drifting => Findings.Any(f => f.Verdict == Verdict.Drifting);
}

/// <summary>
/// Runs every instrument that has the data it needs and gives each a <see cref="Finding"/>: the gap (intent mix,
/// coverage, out of scope, online signals, releases), the lifecycle's clock, and the score side of the newest run
/// (traffic weighting, gold vs shadow and holdout, offline vs online, errors, contamination, staleness).
/// </summary>
public static class CheckUseCase
{
    /// <summary>The draw proposed when the eval and users disagree: drafts from the traffic where users were unhappy.</summary>
    public const string FixTheBench = "draw drafts from unhappy traffic: recal sample --pool shadow --where 'thumbs = down or escalated'";

    /// <summary>A stratum with at least this share of traffic ...</summary>
    public const double BlindSpotShare = 0.01;

    /// <summary>... and less than this share covered is a blind spot.</summary>
    public const double BlindSpotCoverage = 0.1;

    /// <summary>The findings that compare the set's cases with traffic: all expected of a set nobody drew from it.</summary>
    private static readonly HashSet<string> SetAgainstTraffic = new(StringComparer.Ordinal) { "intent mix", "coverage", "out of scope", "traffic weighting", "gold vs shadow" };

    public static async Task<CheckResult> RunAsync(CheckRequest request, IRecalStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        var project = request.Project;
        var findings = new List<Finding>();

        // The gap: the set's intent and cohort mix against the current traffic window; the timeline reads the same counts.
        var cells = new TrafficCells(store);
        var drift = await IntentDivergenceAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, new DriftRequest(null, null, Period.None, null), cancellationToken, cells).ConfigureAwait(false);
        if (drift is null)
        {
            findings.Add(new Finding("intent mix", Verdict.Unknown, "no traffic in the store", "recal ingest FILE"));
        }
        else if (drift.Calibration is { } calibration && drift.Current.To <= calibration.To)
        {
            // Every stored trace is in the reference window: there is nothing after it to compare with it.
            findings.Add(new Finding("intent mix", Verdict.Unknown, $"all stored traffic is the reference window ({calibration.From.UtcDateTime:yyyy-MM-dd} to {calibration.To.UtcDateTime:yyyy-MM-dd}) the alarms compare with; drift needs traffic after it", "recal ingest FILE (newer traffic)"));
        }
        else
        {
            var mix = drift.Current.Alarms.Where(a => a.Instrument is "js_distance" or "psi" or "missing_share" or "cohort_js_distance").ToList();
            findings.Add(mix.Count > 0
                ? new Finding("intent mix", Verdict.Drifting, $"{mix.Count} alarm(s): {string.Join("; ", mix.Select(Brief))}", "recal drift --over weekly --html drift.html; recal sample --pool shadow")
                : new Finding("intent mix", Verdict.Healthy, "the set's intent and cohort mix is as far from traffic as in the reference window, within its variability"));

            // Coverage and the timeline: how much of the window has an eval case nearby, against the reference window;
            // out-of-scope and novel traffic; online signals; offline against online across releases (cached embeddings).
            findings.AddRange(await TimelineFindingsAsync(request, store, cells, drift, cancellationToken).ConfigureAwait(false));
        }

        // The lifecycle's clock, by the rule recal status shows.
        findings.Add(LifecycleClock.Of(project, request.Now).Finding);

        // The score side: the newest completed run, with its gaps.
        var run = (await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished, Limit: 1), cancellationToken).ConfigureAwait(false)).FirstOrDefault();
        if (run is null)
        {
            findings.Add(new Finding("score", Verdict.Unknown, "no completed run", "recal run --target NAME --pool gold shadow holdout"));
        }
        else
        {
            findings.AddRange(await ScoreFindingsAsync(project, store, run, cancellationToken).ConfigureAwait(false));
        }

        if (StarterCases.OnlyStarters(project))
        {
            // recal init's starter cases were never drawn from this traffic: their gaps to it are expected, not news.
            findings = [.. findings.Select(f => f.Verdict == Verdict.Drifting && SetAgainstTraffic.Contains(f.Instrument)
                ? f with { Verdict = Verdict.Unknown, Evidence = f.Evidence + " (expected of starter cases)", Next = null }
                : f)];
            findings.Insert(1, new Finding("eval set", Verdict.Unknown, $"the gold set is the {StarterCases.InGold(project)} starter case(s) recal init wrote, not a set drawn from your traffic: the gaps between it and traffic say nothing yet", StarterCases.FirstDraw));
        }

        return new CheckResult(findings, run);
    }

    private static async Task<IReadOnlyList<Finding>> ScoreFindingsAsync(EvalProject project, IRecalStore store, RunInfo run, CancellationToken cancellationToken)
    {
        var report = await RunReportBuilder.BuildAsync(run, await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false), project.Policy, store, cancellationToken).ConfigureAwait(false);
        report = await Contamination.AttachAsync(report, project, store, cancellationToken).ConfigureAwait(false);
        var findings = ReportFindings(report, project.Policy.Alarms).ToList();
        if (report.Contamination is { Runs: > 0 } exposure)
        {
            // Selection among configurations alone can move gold by the bias: at the gates' margin, gold no longer tells.
            var line = Contamination.Describe(exposure, report.PoolGaps.FirstOrDefault(g => g.Other == "holdout"));
            findings.Add(exposure.SelectionBias >= project.Policy.Gates.MaxRegression
                ? new Finding("contamination", Verdict.Drifting, line + $": as large as the gates' margin of {Points(project.Policy.Gates.MaxRegression)}", "recal rotate at the next cadence; trust the holdout and shadow over gold (recal gate)")
                : new Finding("contamination", Verdict.Healthy, line));
        }

        var targets = (await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished, SuiteVersion: run.SuiteVersion), cancellationToken).ConfigureAwait(false))
            .GroupBy(r => r.Target).Select(g => g.First()).Take(10).ToList();
        if (targets.Count < 3)
        {
            findings.Add(new Finding("staleness", Verdict.Unknown, $"runs of {targets.Count} target(s) on suite {run.SuiteVersion}; three are needed"));
            return findings;
        }

        var loaded = new List<(RunInfo, IReadOnlyList<RunCaseRecord>)>();
        foreach (var target in targets)
        {
            loaded.Add((target, await store.GetRunCasesAsync(target.Id, cancellationToken).ConfigureAwait(false)));
        }

        var staleness = StalenessAnalyzer.Analyze(run.SuiteVersion, loaded);
        findings.Add(staleness.Stale
            ? new Finding("staleness", Verdict.Drifting, $"{targets.Count} targets within {Points(staleness.Spread)}, the same cases failing (Jaccard {staleness.MeanJaccard:0.00})", "recal staleness; recal retire --dry-run")
            : new Finding("staleness", Verdict.Healthy, "the set still tells the targets apart"));
        return findings;
    }

    /// <summary>The findings a run report carries: traffic weighting, the pool gaps, offline vs online, errors.</summary>
    public static IEnumerable<Finding> ReportFindings(RunReport report, AlarmThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(thresholds);
        var overall = report.Overall;
        if (report.Weighted?.Estimate is { Estimate: var estimate } weighted && double.IsFinite(estimate))
        {
            yield return ScoreVerdicts.WeightedBelow(report)
                ? new Finding("traffic weighting", Verdict.Drifting, $"expected pass rate on today's traffic {Percent(estimate)} ({Interval(weighted.Lower, weighted.Upper)}) lies below the set's {Percent(overall.PassRate)} ({Interval(overall.Lower, overall.Upper)}); {Percent(weighted.UnmeasuredWeight)} of traffic unmeasured", "recal report --html report.html; recal promote --dry-run")
                : new Finding("traffic weighting", Verdict.Healthy, $"expected pass rate on today's traffic {Percent(estimate)} agrees with the set's {Percent(overall.PassRate)}; {Percent(weighted.UnmeasuredWeight)} of traffic unmeasured");
        }

        foreach (var gap in report.PoolGaps)
        {
            var holdout = gap.Other == "holdout";
            var label = holdout ? "gold vs holdout" : "gold vs shadow";

            // Gold against shadow by the rule drift alarms on; gold against the holdout at the policy's level.
            var drifting = ScoreVerdicts.GapFlags(gap, thresholds);
            var meaning = holdout ? "the target is tuned to gold: its gold score overstates it" : "gold no longer looks like recent traffic for this target";
            var figures = $"{Points(gap.Difference)} ({Points(gap.Lower)} to {Points(gap.Upper)}, p {PValue(gap.PValue)})";
            yield return drifting
                ? new Finding(label, Verdict.Drifting, $"{figures}: {meaning}", holdout ? "trust the holdout's score; recal rotate at the next cadence" : "recal promote --dry-run; recal sample --pool shadow")
                : new Finding(label, Verdict.Healthy, $"{figures}, " + (holdout ? $"not significant at {thresholds.PValue}" : $"within the policy's {Points(thresholds.GoldShadowGap)} at p below {thresholds.PValue}"));
        }

        if (report.Online is { Strata: >= 5 } online)
        {
            var rho = string.Create(CultureInfo.InvariantCulture, $"ρ {online.ThumbsRho:0.00} between pass rate and thumbs-up rate over {online.Strata} strata");
            yield return online.Diverges
                ? new Finding("offline vs online", Verdict.Drifting, double.IsNaN(online.ThumbsRho) ? "the pass rate is the same in every stratum while users' thumbs-up rates differ" : rho, $"{FixTheBench}; recal report (offline vs online)")
                : new Finding("offline vs online", Verdict.Healthy, rho);
        }

        if (overall.Errors > 0)
        {
            yield return new Finding("errors", Verdict.Drifting, $"{overall.Errors} case(s) of the run had no verdict", "recal report (errors); recal run --resume or a new run");
        }
    }

    private static async Task<List<Finding>> TimelineFindingsAsync(CheckRequest request, IRecalStore store, TrafficCells cells, DriftReport drift, CancellationToken cancellationToken)
    {
        var (inner, id, error) = request.Embedder;
        if (inner is null)
        {
            return [new Finding("coverage", Verdict.Unknown, error!, "fix embeddings: in recal.yaml")];
        }

        using var embedder = new Embeddings.CachedEmbeddingGenerator(inner, store, id!);
        DriftReport timeline;
        try
        {
            timeline = await GapTimeline.ExtendAsync(drift, request.Project, store, embedder, id!, cancellationToken, cells).ConfigureAwait(false);
        }
        catch (TargetCallException e)
        {
            return [new Finding("coverage", Verdict.Unknown, $"the embedding endpoint failed: {e.Message}", "recal coverage")];
        }

        var findings = new List<Finding> { CoverageFinding(timeline) };
        if (timeline.Reference is { } reference)
        {
            var outOfScope = timeline.Current.Alarms.Where(a => a.Instrument is GapTimeline.UnknownShare or GapTimeline.Novelty).ToList();
            findings.Add(outOfScope.Count == 0
                ? new Finding("out of scope", Verdict.Healthy, $"{Percent(timeline.Current.UnknownShare)} of the window in no known intent" + (timeline.Current.Coverage?.NoveltyShare is { } novel ? $" and {Percent(novel)} unlike every case and example" : string.Empty) + ", as in the reference window")
                : new Finding("out of scope", Verdict.Drifting, string.Join("; ", outOfScope.Select(Brief)), "recal coverage (blind spots); add the new requests to the taxonomy or the set's out-of-scope cases"));

            var online = timeline.Current.Alarms.Where(a => a.Instrument is GapTimeline.ThumbsUpDrop or GapTimeline.EscalationRise).ToList();
            if (timeline.Current.Online is { Traces: > 0 } signals)
            {
                var what = $"thumbs up {(signals.ThumbsUpRate is { } up ? Percent(up) : "n/a")}, escalated {Percent(signals.EscalationRate)}" + (reference.Online is { } then ? $", against {(then.ThumbsUpRate is { } u ? Percent(u) : "n/a")} and {Percent(then.EscalationRate)} in the reference window" : string.Empty);
                findings.Add(online.Count == 0
                    ? new Finding("online signals", Verdict.Healthy, what)
                    : new Finding("online signals", Verdict.Drifting, what + ": users are less happy than when the set was drawn", $"{FixTheBench}; recal report --html report.html (offline vs online); recal coverage"));
            }
        }

        if (timeline.Releases is { } releases)
        {
            var alarm = timeline.Current.Alarms.FirstOrDefault(a => a.Instrument == GapTimeline.ReleaseDivergence);
            var (older, newer) = (releases.Releases[^2], releases.Releases[^1]);
            var what = $"{newer.Release}: gold {Percent(newer.GoldPassRate)}, thumbs up {Percent(newer.OnlineRate)}; {older.Release}: gold {Percent(older.GoldPassRate)}, thumbs up {Percent(older.OnlineRate)}";
            findings.Add(alarm is null
                ? new Finding("releases", Verdict.Healthy, what + ": gold and users agree")
                : new Finding("releases", Verdict.Drifting, what + ": gold ranks the releases the other way from users", $"{FixTheBench}; recal drift --over weekly --html drift.html; gate on the traffic-weighted estimate and the holdout, not gold alone"));
        }

        return findings;
    }

    private static Finding CoverageFinding(DriftReport timeline)
    {
        if (timeline.Current.CoverageDetail is not { } coverage)
        {
            return new Finding("coverage", Verdict.Unknown, "no coverage: the window or the gold pool is empty", "recal coverage");
        }

        var blind = coverage.Strata.Where(s => s.TrafficShare >= BlindSpotShare && s.CoveredShare < BlindSpotCoverage).OrderByDescending(s => s.TrafficShare).ToList();
        var what = $"{Percent(coverage.Overall.Share)} ({Interval(coverage.Overall.Lower, coverage.Overall.Upper)}) of the window has an eval case within r = {coverage.Radius.Radius:0.000}";
        if (timeline.Reference is { } reference)
        {
            what += $", against {Percent(reference.Coverage.Share)} in the reference window from {reference.From.UtcDateTime:yyyy-MM-dd}";
        }

        // Judged against the reference window only: a stratum the set covers poorly from the start is a note, not drift.
        var dropped = timeline.Current.Alarms.Where(a => a.Instrument is GapTimeline.CoverageDrop or GapTimeline.StratumCoverageDrop).ToList();
        var blindNote = blind.Count == 0 ? string.Empty : $"; {blind.Count} stratum/strata of at least {Percent(BlindSpotShare)} of traffic are below {Percent(BlindSpotCoverage)} covered: {string.Join(", ", blind.Take(4).Select(b => $"{b.Stratum} ({Percent(b.TrafficShare)})"))}";
        return dropped.Count == 0
            ? new Finding("coverage", Verdict.Healthy, what + ", within its variability" + blindNote)
            : new Finding("coverage", Verdict.Drifting, what + blindNote + (dropped.Count(a => a.Instrument == GapTimeline.StratumCoverageDrop) is > 0 and var n ? $"; coverage fell within {n} known stratum/strata" : string.Empty), "recal coverage; recal sample --pool shadow");
    }

    /// <summary>An alarm in a few words, its value against its threshold (recal drift has the whole message): never cut mid-number.</summary>
    private static string Brief(DriftAlarm alarm) => alarm.Instrument switch
    {
        "js_distance" => string.Create(CultureInfo.InvariantCulture, $"{alarm.Dimension} JS distance {alarm.Value:0.000} > {alarm.Threshold:0.000}"),
        "psi" => string.Create(CultureInfo.InvariantCulture, $"{alarm.Dimension} PSI {alarm.Value:0.000} > {alarm.Threshold:0.000}"),
        "cohort_js_distance" => string.Create(CultureInfo.InvariantCulture, $"{alarm.Dimension} mix JS distance {alarm.Value:0.000} > {alarm.Threshold:0.000}"),
        "missing_share" => $"{Percent(alarm.Value)} of traffic in intents the set lacks (alarm at {Percent(alarm.Threshold)})",
        GapTimeline.UnknownShare => $"{Percent(alarm.Value)} of traffic in no known intent (alarm at {Percent(alarm.Threshold)})",
        GapTimeline.Novelty => $"{Percent(alarm.Value)} unlike every case and example (alarm at {Percent(alarm.Threshold)})",
        _ => alarm.Message,
    };
}
