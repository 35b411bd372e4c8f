using System.CommandLine;
using System.Globalization;
using Recal.Domain;
using Recal.Drift;
using Recal.Project;
using Recal.Reporting.Runs;
using Recal.Running;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary>
/// <c>recal check</c>: runs every instrument that has the data it needs and says in a few lines what is healthy,
/// what is drifting and what to do next; exit code 1 when anything drifts (docs/cli.md).
/// </summary>
internal static class CheckCommand
{
    /// <summary>A stratum with at least this share of traffic ...</summary>
    private const double BlindSpotShare = 0.01;

    /// <summary>... and less than this share covered is a blind spot.</summary>
    private const double BlindSpotCoverage = 0.1;

    private enum Health
    {
        Healthy,
        Drifting,
        Unknown,
    }

    private sealed record Finding(string Instrument, Health Health, string What, string? Next = null);

    public static Command Create(CliContext context)
    {
        var command = new Command("check", "Run every instrument and say what is healthy, what is drifting and what to do next; exit code 1 when anything drifts");
        command.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
            var findings = new List<Finding>();

            // The gap: the set's intent and cohort mix against the current traffic window; the timeline reads the same counts.
            var cells = new TrafficCells(store);
            var drift = await IntentDivergenceAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, new DriftRequest(null, null, Storage.Period.None, null), cancellationToken, cells).ConfigureAwait(false);
            if (drift is null)
            {
                findings.Add(new Finding("intent mix", Health.Unknown, "no traffic in the store", "recal ingest FILE"));
            }
            else if (drift.Calibration is { } calibration && drift.Current.To <= calibration.To)
            {
                // Every stored trace is in the reference window: there is nothing after it to compare with it.
                findings.Add(new Finding("intent mix", Health.Unknown, $"all stored traffic is the reference window ({calibration.From.UtcDateTime:yyyy-MM-dd} to {calibration.To.UtcDateTime:yyyy-MM-dd}) the alarms compare with; drift needs traffic after it", "recal ingest FILE (newer traffic)"));
            }
            else
            {
                var mix = drift.Current.Alarms.Where(a => a.Instrument is "js_distance" or "psi" or "missing_share" or "cohort_js_distance").ToList();
                findings.Add(mix.Count > 0
                    ? new Finding("intent mix", Health.Drifting, $"{mix.Count} alarm(s): {string.Join("; ", mix.Select(Brief))}", "recal drift --over weekly --html drift.html; recal sample --pool shadow")
                    : new Finding("intent mix", Health.Healthy, "the set's intent and cohort mix is as far from traffic as in the reference window, within its variability"));

                // Coverage and the timeline: how much of the window has an eval case nearby, against the reference window;
                // out-of-scope and novel traffic; online signals; offline against online across releases (the project's
                // embedder, cached).
                findings.AddRange(await TimelineFindingsAsync(project, store, cells, drift, cancellationToken).ConfigureAwait(false));
            }

            // The lifecycle's clock.
            var now = DateTimeOffset.UtcNow;
            var (lastRefresh, lastRotation) = Lifecycle.LifecycleRules.Schedule(project);
            var overdue = new List<string>();
            if (lastRefresh is { } refresh && refresh + project.Policy.RefreshCadence < now)
            {
                overdue.Add("shadow refresh");
            }

            if (lastRotation is { } rotation && rotation + project.Policy.RotationCadence < now)
            {
                overdue.Add("rotation");
            }

            // A project that has never refreshed or rotated has no schedule to be behind: it is unknown, not drifting.
            findings.Add(overdue.Count > 0
                ? new Finding("lifecycle", Health.Drifting, $"{string.Join(" and ", overdue)} overdue", "recal status; recal sample --pool shadow; recal rotate")
                : lastRefresh is null && lastRotation is null
                    ? new Finding("lifecycle", Health.Unknown, "no shadow refresh or rotation recorded yet", "recal sample --pool shadow once traffic is stored")
                    : new Finding("lifecycle", Health.Healthy, lastRefresh is null || lastRotation is null ? $"{(lastRefresh is null ? "rotation" : "refresh")} on schedule; no {(lastRefresh is null ? "shadow refresh" : "rotation")} recorded yet" : "refresh and rotation are on schedule"));

            // The score side: the newest completed run, with its gaps.
            var run = (await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished, Limit: 1), cancellationToken).ConfigureAwait(false)).FirstOrDefault();
            if (run is null)
            {
                findings.Add(new Finding("score", Health.Unknown, "no completed run", "recal run --target NAME --pool gold shadow holdout"));
            }
            else
            {
                var report = await RunReportBuilder.BuildAsync(run, await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false), project.Policy, store, cancellationToken).ConfigureAwait(false);
                report = await ReportCommand.WithContaminationAsync(report, project, store, cancellationToken).ConfigureAwait(false);
                findings.AddRange(ScoreFindings(report, project.Policy.Alarms));
                if (report.Contamination is { Runs: > 0 } exposure)
                {
                    // Selection among configurations alone can move gold by the bias: at the gates' margin, gold no longer tells.
                    var line = RunReportTables.ContaminationLine(exposure, report.PoolGaps.FirstOrDefault(g => g.Other == "holdout"));
                    findings.Add(exposure.SelectionBias >= project.Policy.Gates.MaxRegression
                        ? new Finding("contamination", Health.Drifting, line + $": as large as the gates' margin of {RunReportTables.Points(project.Policy.Gates.MaxRegression)}", "recal rotate at the next cadence; trust the holdout and shadow over gold (recal gate)")
                        : new Finding("contamination", Health.Healthy, line));
                }
                var targets = (await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished, SuiteVersion: run.SuiteVersion), cancellationToken).ConfigureAwait(false))
                    .GroupBy(r => r.Target).Select(g => g.First()).Take(10).ToList();
                if (targets.Count >= 3)
                {
                    var loaded = new List<(RunInfo, IReadOnlyList<RunCaseRecord>)>();
                    foreach (var target in targets)
                    {
                        loaded.Add((target, await store.GetRunCasesAsync(target.Id, cancellationToken).ConfigureAwait(false)));
                    }

                    var staleness = StalenessAnalyzer.Analyze(run.SuiteVersion, loaded);
                    findings.Add(staleness.Stale
                        ? new Finding("staleness", Health.Drifting, $"{targets.Count} targets within {RunReportTables.Points(staleness.Spread)}, the same cases failing (Jaccard {staleness.MeanJaccard:0.00})", "recal staleness; recal retire --dry-run")
                        : new Finding("staleness", Health.Healthy, "the set still tells the targets apart"));
                }
                else
                {
                    findings.Add(new Finding("staleness", Health.Unknown, $"runs of {targets.Count} target(s) on suite {run.SuiteVersion}; three are needed"));
                }
            }

            if (StarterCases.OnlyStarters(project))
            {
                // recal init's starter cases were never drawn from this traffic: their gaps to it are expected, not news.
                findings = [.. findings.Select(f => f.Health == Health.Drifting && SetAgainstTraffic.Contains(f.Instrument)
                    ? f with { Health = Health.Unknown, What = f.What + " (expected of starter cases)", Next = null }
                    : f)];
                findings.Insert(1, new Finding("eval set", Health.Unknown, $"the gold set is the {StarterCases.InGold(project)} starter case(s) recal init wrote, not a set drawn from your traffic: the gaps between it and traffic say nothing yet", StarterCases.FirstDraw));
            }

            Render(context, findings, run);
            return findings.Any(f => f.Health == Health.Drifting) ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

    private static IEnumerable<Finding> ScoreFindings(RunReport report, AlarmThresholds thresholds)
    {
        var overall = report.Overall;
        if (report.Weighted?.Estimate is { Estimate: var estimate } weighted && double.IsFinite(estimate))
        {
            yield return ScoreVerdicts.WeightedBelow(report)
                ? new Finding("traffic weighting", Health.Drifting, $"expected pass rate on today's traffic {RunReportTables.Percent(estimate)} ({RunReportTables.Interval(weighted.Lower, weighted.Upper)}) lies below the set's {RunReportTables.Percent(overall.PassRate)} ({RunReportTables.Interval(overall.Lower, overall.Upper)}); {RunReportTables.Percent(weighted.UnmeasuredWeight)} of traffic unmeasured", "recal report --html report.html; recal promote --dry-run")
                : new Finding("traffic weighting", Health.Healthy, $"expected pass rate on today's traffic {RunReportTables.Percent(estimate)} agrees with the set's {RunReportTables.Percent(overall.PassRate)}; {RunReportTables.Percent(weighted.UnmeasuredWeight)} of traffic unmeasured");
        }

        foreach (var gap in report.PoolGaps)
        {
            var label = gap.Other == "holdout" ? "gold vs holdout" : "gold vs shadow";
            var drifting = ScoreVerdicts.GapFlags(gap, thresholds);
            var meaning = gap.Other == "holdout" ? "the target is tuned to gold: its gold score overstates it" : "gold no longer looks like recent traffic for this target";
            yield return drifting
                ? new Finding(label, Health.Drifting, $"{RunReportTables.Points(gap.Difference)} ({RunReportTables.Points(gap.Lower)} to {RunReportTables.Points(gap.Upper)}, p {RunReportTables.PValue(gap.PValue)}): {meaning}", gap.Other == "holdout" ? "trust the holdout's score; recal rotate at the next cadence" : "recal promote --dry-run; recal sample --pool shadow")
                : new Finding(label, Health.Healthy, $"{RunReportTables.Points(gap.Difference)} ({RunReportTables.Points(gap.Lower)} to {RunReportTables.Points(gap.Upper)}, p {RunReportTables.PValue(gap.PValue)}), " + (gap.Other == "holdout" ? $"not significant at {thresholds.PValue}" : $"within the policy's {RunReportTables.Points(thresholds.GoldShadowGap)} at p below {thresholds.PValue}"));
        }

        if (report.Online is { Strata: >= 5 } online)
        {
            yield return online.Diverges
                ? new Finding("offline vs online", Health.Drifting, double.IsNaN(online.ThumbsRho) ? "the pass rate is the same in every stratum while users' thumbs-up rates differ" : string.Create(CultureInfo.InvariantCulture, $"ρ {online.ThumbsRho:0.00} between pass rate and thumbs-up rate over {online.Strata} strata"), $"{SampleCommand.FixTheBench}; recal report (offline vs online)")
                : new Finding("offline vs online", Health.Healthy, string.Create(CultureInfo.InvariantCulture, $"ρ {online.ThumbsRho:0.00} between pass rate and thumbs-up rate over {online.Strata} strata"));
        }

        if (overall.Errors > 0)
        {
            yield return new Finding("errors", Health.Drifting, $"{overall.Errors} case(s) of the run had no verdict", "recal report (errors); recal run --resume or a new run");
        }
    }

    private static async Task<List<Finding>> TimelineFindingsAsync(EvalProject project, IRecalStore store, TrafficCells cells, DriftReport drift, CancellationToken cancellationToken)
    {
        var (inner, id, error) = EmbedderOptions.Create(project.Settings.Embeddings, project.Settings.Run);
        if (inner is null)
        {
            return [new Finding("coverage", Health.Unknown, error!, "fix embeddings: in recal.yaml")];
        }

        using var embedder = new Embeddings.CachedEmbeddingGenerator(inner, store, id!);
        DriftReport timeline;
        try
        {
            timeline = await GapTimeline.ExtendAsync(drift, project, store, embedder, id!, cancellationToken, cells).ConfigureAwait(false);
        }
        catch (TargetCallException e)
        {
            return [new Finding("coverage", Health.Unknown, $"the embedding endpoint failed: {e.Message}", "recal coverage")];
        }

        var findings = new List<Finding>();
        var coverage = timeline.Current.CoverageDetail;
        if (coverage is null)
        {
            findings.Add(new Finding("coverage", Health.Unknown, "no coverage: the window or the gold pool is empty", "recal coverage"));
        }
        else
        {
            var blind = coverage.Strata.Where(s => s.TrafficShare >= BlindSpotShare && s.CoveredShare < BlindSpotCoverage).OrderByDescending(s => s.TrafficShare).ToList();
            var what = $"{RunReportTables.Percent(coverage.Overall.Share)} ({RunReportTables.Interval(coverage.Overall.Lower, coverage.Overall.Upper)}) of the window has an eval case within r = {coverage.Radius.Radius:0.000}";
            if (timeline.Reference is { } reference)
            {
                what += $", against {RunReportTables.Percent(reference.Coverage.Share)} in the reference window from {reference.From.UtcDateTime:yyyy-MM-dd}";
            }

            // Judged against the reference window only: a stratum the set covers poorly from the start is a note, not drift.
            var dropped = timeline.Current.Alarms.Where(a => a.Instrument is GapTimeline.CoverageDrop or GapTimeline.StratumCoverageDrop).ToList();
            var blindNote = blind.Count == 0 ? string.Empty : $"; {blind.Count} stratum/strata of at least {RunReportTables.Percent(BlindSpotShare)} of traffic are below {RunReportTables.Percent(BlindSpotCoverage)} covered: {string.Join(", ", blind.Take(4).Select(b => $"{b.Stratum} ({RunReportTables.Percent(b.TrafficShare)})"))}";
            findings.Add(dropped.Count == 0
                ? new Finding("coverage", Health.Healthy, what + ", within its variability" + blindNote)
                : new Finding("coverage", Health.Drifting, what + blindNote + (dropped.Count(a => a.Instrument == GapTimeline.StratumCoverageDrop) is > 0 and var n ? $"; coverage fell within {n} known stratum/strata" : string.Empty), "recal coverage; recal sample --pool shadow"));
        }

        if (timeline.Reference is not null)
        {
            var outOfScope = timeline.Current.Alarms.Where(a => a.Instrument is GapTimeline.UnknownShare or GapTimeline.Novelty).ToList();
            findings.Add(outOfScope.Count == 0
                ? new Finding("out of scope", Health.Healthy, $"{RunReportTables.Percent(timeline.Current.UnknownShare)} of the window in no known intent" + (timeline.Current.Coverage?.NoveltyShare is { } novel ? $" and {RunReportTables.Percent(novel)} unlike every case and example" : string.Empty) + ", as in the reference window")
                : new Finding("out of scope", Health.Drifting, string.Join("; ", outOfScope.Select(Brief)), "recal coverage (blind spots); add the new requests to the taxonomy or the set's out-of-scope cases"));

            var online = timeline.Current.Alarms.Where(a => a.Instrument is GapTimeline.ThumbsUpDrop or GapTimeline.EscalationRise).ToList();
            if (timeline.Current.Online is { Traces: > 0 } signals)
            {
                var what = $"thumbs up {(signals.ThumbsUpRate is { } up ? RunReportTables.Percent(up) : "n/a")}, escalated {RunReportTables.Percent(signals.EscalationRate)}" + (timeline.Reference.Online is { } then ? $", against {(then.ThumbsUpRate is { } u ? RunReportTables.Percent(u) : "n/a")} and {RunReportTables.Percent(then.EscalationRate)} in the reference window" : string.Empty);
                findings.Add(online.Count == 0
                    ? new Finding("online signals", Health.Healthy, what)
                    : new Finding("online signals", Health.Drifting, what + ": users are less happy than when the set was drawn", $"{SampleCommand.FixTheBench}; recal report --html report.html (offline vs online); recal coverage"));
            }
        }

        if (timeline.Releases is { } releases)
        {
            var alarm = timeline.Current.Alarms.FirstOrDefault(a => a.Instrument == GapTimeline.ReleaseDivergence);
            var (older, newer) = (releases.Releases[^2], releases.Releases[^1]);
            var what = $"{newer.Release}: gold {RunReportTables.Percent(newer.GoldPassRate)}, thumbs up {RunReportTables.Percent(newer.OnlineRate)}; {older.Release}: gold {RunReportTables.Percent(older.GoldPassRate)}, thumbs up {RunReportTables.Percent(older.OnlineRate)}";
            findings.Add(alarm is null
                ? new Finding("releases", Health.Healthy, what + ": gold and users agree")
                : new Finding("releases", Health.Drifting, what + ": gold ranks the releases the other way from users", $"{SampleCommand.FixTheBench}; recal drift --over weekly --html drift.html; gate on the traffic-weighted estimate and the holdout, not gold alone"));
        }

        return findings;
    }

    /// <summary>The findings that compare the set's cases with traffic: all expected of a set nobody drew from it.</summary>
    private static readonly HashSet<string> SetAgainstTraffic = new(StringComparer.Ordinal) { "intent mix", "coverage", "out of scope", "traffic weighting", "gold vs shadow" };

    /// <summary>An alarm in a few words, its value against its threshold (recal drift has the whole message): never cut mid-number.</summary>
    private static string Brief(DriftAlarm alarm) => alarm.Instrument switch
    {
        "js_distance" => string.Create(CultureInfo.InvariantCulture, $"{alarm.Dimension} JS distance {alarm.Value:0.000} > {alarm.Threshold:0.000}"),
        "psi" => string.Create(CultureInfo.InvariantCulture, $"{alarm.Dimension} PSI {alarm.Value:0.000} > {alarm.Threshold:0.000}"),
        "cohort_js_distance" => string.Create(CultureInfo.InvariantCulture, $"{alarm.Dimension} mix JS distance {alarm.Value:0.000} > {alarm.Threshold:0.000}"),
        "missing_share" => $"{RunReportTables.Percent(alarm.Value)} of traffic in intents the set lacks (alarm at {RunReportTables.Percent(alarm.Threshold)})",
        GapTimeline.UnknownShare => $"{RunReportTables.Percent(alarm.Value)} of traffic in no known intent (alarm at {RunReportTables.Percent(alarm.Threshold)})",
        GapTimeline.Novelty => $"{RunReportTables.Percent(alarm.Value)} unlike every case and example (alarm at {RunReportTables.Percent(alarm.Threshold)})",
        _ => alarm.Message,
    };

    private static void Render(CliContext context, List<Finding> findings, RunInfo? run)
    {
        context.Out.MarkupLine(run is null ? "recal check" : $"recal check — newest run {Markup.Escape(run.Id)} (target {Markup.Escape(run.Target)}, suite {run.SuiteVersion})");
        foreach (var finding in findings)
        {
            var mark = finding.Health switch
            {
                Health.Healthy => "[green]healthy [/]",
                Health.Drifting => "[red]drifting[/]",
                _ => "[grey]unknown [/]",
            };
            // Wrapped between words under the text's own column, so a number or a name is never cut at the edge.
            var width = Math.Max(60, context.Out.Profile.Width - 1);
            var what = Reporting.Terminal.TerminalText.Wrap(new string(' ', 31) + finding.What, width, 31);
            context.Out.MarkupLine($"  {mark}  [bold]{Markup.Escape(finding.Instrument),-18}[/] {Markup.Escape(what[0].TrimStart())}");
            foreach (var line in what.Skip(1))
            {
                context.Out.MarkupLine(Markup.Escape(line));
            }

            if (finding.Next is not null && finding.Health != Health.Healthy)
            {
                var next = Reporting.Terminal.TerminalText.Wrap(new string(' ', 37) + finding.Next, width, 37);
                context.Out.MarkupLine($"            {new string(' ', 18)} [grey]next:[/] [blue]{Markup.Escape(next[0].TrimStart())}[/]");
                foreach (var line in next.Skip(1))
                {
                    context.Out.MarkupLine($"[blue]{Markup.Escape(line)}[/]");
                }
            }
        }

        var drifting = findings.Count(f => f.Health == Health.Drifting);
        var unknown = findings.Where(f => f.Health == Health.Unknown).ToList();
        if (drifting > 0)
        {
            context.Out.MarkupLine($"[red]{drifting} instrument(s) drifting.[/] The score is not to be read without the gaps above.");
        }
        else if (unknown.Count == 0)
        {
            context.Out.MarkupLine("[green]The instrument is calibrated.[/]");
        }
        else
        {
            // Nothing drifts, but not everything is measured: not "all is well".
            context.Out.MarkupLine($"No instrument drifts; {unknown.Count} instrument(s) have nothing to measure yet.");
        }

        // What the unmeasured instruments need, in order: a new project's first run ends with its next steps.
        var steps = unknown.Where(f => f.Next is not null).SelectMany(f => f.Next!.Split("; ", StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToList();
        if (steps.Count > 0)
        {
            context.Out.MarkupLine("What next:");
            for (var i = 0; i < steps.Count; i++)
            {
                Reporting.Terminal.TerminalText.WriteHanging(context.Out, $"  {i + 1}. {steps[i]}", 5);
            }
        }
    }
}
