using System.Globalization;
using Recal.Drift;
using Spectre.Console;

namespace Recal.Reporting.Terminal;

/// <summary>Renders a drift report for the terminal.</summary>
public static class DriftConsoleRenderer
{
    /// <summary>How many strata the current-window table lists (missing strata are always listed).</summary>
    public const int TopStrata = 15;

    public static void Render(IAnsiConsole console, DriftReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        var current = report.Current;
        console.MarkupLine(
            $"[bold]{Markup.Escape(report.Project)}[/] · suite [blue]{Markup.Escape(report.SuiteVersion)}[/] · policy v{report.PolicyVersion} · " +
            $"{report.EvalCases:N0} eval cases ({Markup.Escape(string.Join(", ", report.Pools))})");

        if (report.Series.Count > 0)
        {
            RenderSeries(console, report);
        }

        if (report.Calibration is { } calibration)
        {
            console.MarkupLine(
                $"Alarms compare each window with the reference window {Day(calibration.From)} → {Day(calibration.To)} ({calibration.Traces:N0} traces" +
                (calibration.Periods >= 2 ? $", dispersion φ = {calibration.Phi:0.00} over {calibration.Periods} {(report.Period == Storage.Period.Day || calibration.To - calibration.From < TimeSpan.FromDays(14) ? "days" : "weeks")}" : string.Empty) +
                $"): a window drawn like it raises any alarm with probability {calibration.FalseAlarmRate:0.##%}, shared by {calibration.Instruments} tests at α = {DriftFormat.P(calibration.Alpha)} each, and each alarm also needs its minimum effect.");
        }

        if (report.Reference is { } reference)
        {
            console.MarkupLine(
                $"Reference coverage {reference.Coverage.Share:0.0%} within r = {reference.Radius:0.000} ({Markup.Escape(reference.Embedder)}), {reference.UnknownShare:0.0%} unclassified" +
                (reference.NoveltyRadius is { } novelty ? $"; novel below similarity {novelty:0.000} to every case and taxonomy example ({reference.NoveltyShare:0.0%} of the reference)" : string.Empty) + ".");
        }

        RenderRuns(console, report);
        RenderReleases(console, report);
        console.WriteLine();
        console.MarkupLine($"[bold]Current window[/] {Day(current.From)} → {Day(current.To)}: {current.Traces:N0} traces" +
            (current.UnknownShare > 0 ? $", {current.UnknownShare:0.0%} unclassified" : string.Empty));
        RenderMeasures(console, current);
        RenderUnlisted(console, current);
        RenderStrata(console, current.Intent);
        RenderVerdict(console, current);
    }

    private static void RenderSeries(IAnsiConsole console, DriftReport report)
    {
        var table = new FitTable($"Eval set vs traffic, {report.Period.ToString().ToLowerInvariant()}", TableBorder.Rounded)
            .Column("period")
            .Column("traces", rightAligned: true, priority: 2)
            .Column("JS dist", "JS", rightAligned: true, priority: 2)
            .Column("PSI", rightAligned: true, priority: 5)
            .Column("G-test p", "p", rightAligned: true, priority: 4)
            .Column("missing", "miss", rightAligned: true, priority: 2)
            .Column("unknown", "unkn", rightAligned: true, priority: 3);
        foreach (var dimension in report.Series.FirstOrDefault()?.Cohorts ?? [])
        {
            table.Column($"JS {dimension.Dimension}", dimension.Dimension, rightAligned: true, priority: 3);
        }

        var timeline = report.Reference is not null;
        if (timeline)
        {
            table.Column("coverage", "cov", rightAligned: true, priority: 2)
                .Column("novel", "nov", rightAligned: true, priority: 3)
                .Column("thumbs up", "up", rightAligned: true, priority: 2)
                .Column("escalated", "esc", rightAligned: true, priority: 3);
        }

        table.Column("alarms", priority: 1, wraps: true);
        foreach (var window in report.Series)
        {
            var m = window.Intent.Measures;
            var cells = new List<string>
            {
                Day(window.From),
                window.Traces.ToString("N0", CultureInfo.InvariantCulture),
                Colour(m?.JsDistance, Alarmed(window, "js_distance"), "0.000"),
                Colour(m?.Psi, Alarmed(window, "psi"), "0.000"),
                m is null ? "n/a" : DriftFormat.P(m.Test.PValue),
                Colour(window.Intent.MissingShare, Alarmed(window, "missing_share"), "0.0%"),
                Colour(window.UnknownShare, Alarmed(window, GapTimeline.UnknownShare), "0.0%"),
            };
            cells.AddRange(window.Cohorts.Select(c => Colour(c.Measures?.JsDistance, Alarmed(window, "cohort_js_distance", c.Dimension), "0.000")));
            if (timeline)
            {
                cells.Add(Colour(window.Coverage?.Share, Alarmed(window, GapTimeline.CoverageDrop), "0.0%"));
                cells.Add(Colour(window.Coverage?.NoveltyShare, Alarmed(window, GapTimeline.Novelty), "0.0%"));
                cells.Add(Colour(window.Online?.ThumbsUpRate, Alarmed(window, GapTimeline.ThumbsUpDrop), "0.0%"));
                cells.Add(Colour(window.Online?.EscalationRate, Alarmed(window, GapTimeline.EscalationRise), "0.0%", window.Online is null ? "n/a" : "no data"));
            }

            cells.Add(window.Alarms.Count == 0 ? "[green]none[/]" : "[red]" + Markup.Escape(DriftFormat.AlarmCodes(window.Alarms)) + "[/]");
            table.Row([.. cells]);
        }

        table.Render(console);
    }

    private static void RenderRuns(IAnsiConsole console, DriftReport report)
    {
        if (report.Runs.Count == 0)
        {
            return;
        }

        var table = new FitTable("The score over time: stored runs, oldest first", TableBorder.Rounded)
            .Column("run")
            .Column("target", priority: 3, wraps: true)
            .Column("started", priority: 4)
            .Column("gold", rightAligned: true, priority: 1)
            .Column("shadow", rightAligned: true, priority: 2)
            .Column("holdout", rightAligned: true, priority: 2)
            .Column("traffic-weighted", "weighted", rightAligned: true, priority: 1)
            .Column("gold − shadow", "g−s", rightAligned: true, priority: 3)
            .Column("gold − holdout", "g−h", rightAligned: true, priority: 3)
            .Column("ρ online", "ρ", rightAligned: true, priority: 4)
            .Column("Δ gold mix / within", "Δ mix/within", rightAligned: true, priority: 5);
        foreach (var run in report.Runs)
        {
            table.Row(
                Markup.Escape(run.RunId),
                Markup.Escape(run.Target + (run.Release is null ? string.Empty : $" ({run.Release})")),
                run.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                Percent(run.Gold),
                Percent(run.Shadow),
                Percent(run.Holdout),
                Percent(run.TrafficWeighted),
                DriftFormat.Gap(run.GoldShadowGap, run.GoldShadowP),
                DriftFormat.Gap(run.GoldHoldoutGap, run.GoldHoldoutP),
                run.OnlineRho is { } rho ? rho.ToString("0.00", CultureInfo.InvariantCulture) : "n/a",
                DriftFormat.MixWithin(run.MixEffect, run.WithinEffect));
        }

        table.Render(console);
        foreach (var suite in report.Staleness)
        {
            console.MarkupLine(string.Create(CultureInfo.InvariantCulture,
                $"Suite {Markup.Escape(suite.SuiteVersion)}: {suite.Targets} targets within {Percent(suite.Spread)}, failing-set Jaccard {suite.MeanJaccard:0.00}: {(suite.Stale ? "[red]stale[/]" : suite.Targets < 3 ? "three targets are needed to call it" : "tells them apart")}"));
        }
    }

    private static void RenderReleases(IAnsiConsole console, DriftReport report)
    {
        if (report.Releases is not { } releases)
        {
            return;
        }

        var table = new FitTable($"Offline vs online across releases (thumbs up standardised to the {Day(releases.MixFrom)} → {Day(releases.MixTo)} mix over {releases.Strata} strata)", TableBorder.Rounded)
            .Column("release")
            .Column("target", priority: 3, wraps: true)
            .Column("live", priority: 4)
            .Column("traces", rightAligned: true, priority: 3)
            .Column("rated", rightAligned: true, priority: 4)
            .Column("gold", rightAligned: true, priority: 1)
            .Column("traffic-weighted", "weighted", rightAligned: true, priority: 2)
            .Column("thumbs up", "up", rightAligned: true, priority: 1)
            .Column("95% interval", "95% CI", rightAligned: true, priority: 2)
            .Column("raw thumbs up", "raw up", rightAligned: true, priority: 3);
        foreach (var r in releases.Releases)
        {
            table.Row(
                Markup.Escape(r.Release),
                Markup.Escape(r.Target),
                $"{Day(r.FirstSeen)} → {Day(r.LastSeen)}",
                r.Traces.ToString("N0", CultureInfo.InvariantCulture),
                r.Rated.ToString("N0", CultureInfo.InvariantCulture),
                Percent(r.GoldPassRate),
                Percent(r.TrafficWeighted),
                Percent(r.OnlineRate),
                double.IsFinite(r.OnlineLower) ? $"{r.OnlineLower:0.0%}–{r.OnlineUpper:0.0%}" : "n/a",
                Percent(r.RawThumbsUpRate));
        }

        table.Render(console);
        if (releases.Rho is { } rho)
        {
            console.MarkupLine($"Spearman's ρ between gold pass rate and thumbs up across {releases.Releases.Count} releases: {rho:0.00}");
        }
    }

    private static string Percent(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.0%", CultureInfo.InvariantCulture) : "n/a";

    private static void RenderMeasures(IAnsiConsole console, DriftWindow window)
    {
        var table = new FitTable()
            .Column("dimension")
            .Column("n traffic", "traffic", rightAligned: true, priority: 2)
            .Column("n eval", "eval", rightAligned: true, priority: 2)
            .Column("JS dist", "JS", rightAligned: true, priority: 1)
            .Column("KL (bits)", "KL", rightAligned: true, priority: 3)
            .Column("PSI", rightAligned: true, priority: 3)
            .Column("G-test p", "p", rightAligned: true, priority: 2)
            .Column("missing share", "missing", rightAligned: true, priority: 1);
        foreach (var dimension in window.Cohorts.Prepend(window.Intent))
        {
            var m = dimension.Measures;
            table.Row(
                Markup.Escape(dimension.Dimension),
                dimension.TrafficTotal.ToString("N0", CultureInfo.InvariantCulture),
                dimension.EvalTotal.ToString("N0", CultureInfo.InvariantCulture),
                Num(m?.JsDistance),
                Num(m?.KlDivergence),
                Num(m?.Psi),
                m is null ? "n/a" : $"{DriftFormat.P(m.Test.PValue)} (df {m.Test.DegreesOfFreedom})",
                dimension.MissingShare.ToString("0.0%", CultureInfo.InvariantCulture));
        }

        table.Render(console);
    }

    /// <summary>What a cohort's missing value is made of: the metadata values taxonomy.yaml does not list.</summary>
    private static void RenderUnlisted(IAnsiConsole console, DriftWindow window)
    {
        foreach (var u in window.UnlistedCohorts)
        {
            var values = string.Join(", ", u.Values.Select(v => $"{v.Value} ({v.Traces.ToString("N0", CultureInfo.InvariantCulture)})"));
            var rest = u.Distinct > u.Values.Count ? $" and {u.Distinct - u.Values.Count:N0} other value(s)" : string.Empty;
            console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{u.Dimension}={u.Missing} holds {u.Traces:N0} trace(s) ({u.Share:0.0%} of the window) whose '{u.Field}' taxonomy.yaml does not list: {values}{rest}. ")) +
                $"Add them to cohort '{Markup.Escape(u.Dimension)}' and ingest into a fresh store to measure them apart.");
        }
    }

    private static void RenderStrata(IAnsiConsole console, DimensionDrift intent)
    {
        var shown = intent.Strata.Take(TopStrata).Concat(intent.Missing).Distinct().ToList();
        var table = new FitTable($"Intents: top {Math.Min(TopStrata, intent.Strata.Count)} by traffic, plus every missing one ({intent.Strata.Count} in all)")
            .Column("intent")
            .Column("traffic", rightAligned: true, priority: 2)
            .Column("traffic share", "traffic %", rightAligned: true, priority: 1)
            .Column("eval", rightAligned: true, priority: 2)
            .Column("eval share", "eval %", rightAligned: true, priority: 1)
            .Column("ratio", rightAligned: true, priority: 3)
            .Column("status", priority: 1);
        foreach (var s in shown)
        {
            var status = s.Status switch
            {
                StratumStatus.Missing => "[red bold]MISSING[/]",
                StratumStatus.Under => "[yellow]under[/]",
                StratumStatus.Over => "[yellow]over[/]",
                _ => DriftFormat.Status(s.Status),
            };
            table.Row(
                Markup.Escape(s.Stratum),
                s.TrafficCount.ToString("N0", CultureInfo.InvariantCulture),
                s.TrafficShare.ToString("0.0%", CultureInfo.InvariantCulture),
                s.EvalCount.ToString("N0", CultureInfo.InvariantCulture),
                s.EvalShare.ToString("0.0%", CultureInfo.InvariantCulture),
                s.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "—",
                status);
        }

        table.Render(console);
    }

    private static void RenderVerdict(IAnsiConsole console, DriftWindow window)
    {
        if (window.Alarms.Count == 0)
        {
            console.MarkupLine("[green]No alarm:[/] this window is within what the reference window's own variability explains, or within the policy's minimum effects.");
            return;
        }

        foreach (var alarm in window.Alarms)
        {
            console.MarkupLine($"[red bold]ALARM[/] [red]{Markup.Escape(Short(alarm))}[/]: {Markup.Escape(alarm.Message)}");
        }
    }

    private static string Short(DriftAlarm alarm) => alarm.Dimension == IntentDivergenceAnalyzer.IntentDimension
        ? alarm.Instrument
        : $"{alarm.Instrument}:{alarm.Dimension}";

    /// <param name="missing">What a missing value reads as: "n/a" where the instrument did not run, "no data" where no trace carries the signal.</param>
    private static string Colour(double? value, bool alarmed, string format, string missing = "n/a")
    {
        if (value is not { } v)
        {
            return missing;
        }

        var text = v.ToString(format, CultureInfo.InvariantCulture);
        return alarmed ? $"[red]{text}[/]" : text;
    }

    private static bool Alarmed(DriftWindow window, string instrument, string? dimension = null) =>
        window.Alarms.Any(a => a.Instrument == instrument && (dimension is null || a.Dimension == dimension));

    private static string Num(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    private static string Day(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
