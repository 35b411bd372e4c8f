using System.Globalization;
using Recal.Drift;
using Recal.Reporting.Svg;

namespace Recal.Reporting.Html;

/// <summary>Writes a drift report as one self-contained HTML page with SVG charts.</summary>
public static class DriftHtmlWriter
{
    private const int TopStrata = 25;
    private static readonly string[] Palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

    public static string Render(DriftReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var page = new HtmlPage($"Recal drift — {report.Project}");
        Compose(page, report, DriftSections.All);
        return page.Render();
    }

    /// <summary>
    /// Adds the report's <paramref name="sections"/> to <paramref name="page"/>, under the page's heading;
    /// <paramref name="windowLink"/> makes each period of the series open its window (the dashboard's drill-in).
    /// </summary>
    internal static void Compose(HtmlPage page, DriftReport report, DriftSections sections, Func<DriftWindow, string>? windowLink = null, string? heading = null)
    {
        ArgumentNullException.ThrowIfNull(page);
        ArgumentNullException.ThrowIfNull(report);
        var current = report.Current;
        page.Heading(1, heading ?? $"Is the eval set still representative? — {report.Project}")
            .Paragraph(
                $"Suite {report.SuiteVersion} · policy v{report.PolicyVersion} · {report.EvalCases:N0} cases in {string.Join(", ", report.Pools)} · " +
                $"current window {Day(current.From)} to {Day(current.To)} ({current.Traces:N0} traces)", "meta");

        if (sections.HasFlag(DriftSections.Alarms))
        {
            if (current.Alarms.Count == 0)
            {
                page.Paragraph("No alarm: the set is within the policy's thresholds for the current window.", "ok");
            }

            foreach (var alarm in current.Alarms)
            {
                page.Paragraph($"ALARM {alarm.Instrument} ({alarm.Dimension}): {alarm.Message}", "alarm");
            }
        }

        if (sections.HasFlag(DriftSections.Series) && report.Series.Count > 0)
        {
            AddSeries(page, report, windowLink);
        }

        if (sections.HasFlag(DriftSections.Runs))
        {
            AddRuns(page, report);
        }

        if (sections.HasFlag(DriftSections.Releases))
        {
            AddReleases(page, report);
        }

        if (sections.HasFlag(DriftSections.Window))
        {
            AddWindow(page, current);
        }
    }

    public static Task WriteAsync(DriftReport report, string path, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, Render(report), cancellationToken);

    private static void AddSeries(HtmlPage page, DriftReport report, Func<DriftWindow, string>? windowLink)
    {
        var series = report.Series;
        var labels = series.Select(w => Day(w.From)).ToList();
        IReadOnlyList<string>? links = windowLink is null ? null : [.. series.Select(windowLink)];
        page.Heading(2, $"Over time ({report.Period.ToString().ToLowerInvariant()})");
        var js = new LineChart
        {
            Title = "Intent mix: Jensen–Shannon distance (eval set vs traffic)",
            XLabels = labels,
            XLinks = links,
            YFormat = "0.00",
            Series =
            [
                new ChartSeries("JS distance", Palette[0], [.. series.Select(w => w.Intent.Measures?.JsDistance ?? double.NaN)]),
                ThresholdSeries(series, "js_distance"),
            ],
        };
        page.Figure(js.Render(), "Distance between the set's intent distribution and each period's traffic; the dashed red line is each period's calibrated alarm threshold (the reference window's variability at the period's size, or the reference plus the minimum effect).");

        var missing = new LineChart
        {
            Title = "Traffic in intents the set lacks, and unclassified traffic",
            XLabels = labels,
            XLinks = links,
            YFormat = "0%",
            Series =
            [
                new ChartSeries("missing share", Palette[1], [.. series.Select(w => w.Intent.MissingShare)]),
                new ChartSeries("unknown share", Palette[3], [.. series.Select(w => w.UnknownShare)], Dashed: true),
                ThresholdSeries(series, "missing_share", label: "missing share alarm"),
            ],
        };
        page.Figure(missing.Render(), "Share of each period's traffic in intents with no eval case (blind spots), and share the classifier could not place; the red line is the missing share's calibrated alarm threshold.");

        if (series.Count > 0 && series[0].Cohorts.Count > 0)
        {
            var cohorts = new LineChart
            {
                Title = "Cohort mix: Jensen–Shannon distance per dimension",
                XLabels = labels,
                XLinks = links,
                Series = [.. series[0].Cohorts.Select((c, i) => new ChartSeries(
                    c.Dimension,
                    Palette[(i + 2) % Palette.Length],
                    [.. series.Select(w => w.Cohorts.FirstOrDefault(x => x.Dimension == c.Dimension)?.Measures?.JsDistance ?? double.NaN)])),
                    .. series[0].Cohorts.Select(c => ThresholdSeries(series, "cohort_js_distance", c.Dimension, $"{c.Dimension} alarm"))],
            };
            page.Figure(cohorts.Render(), "Distance between the set's cohort distribution and each period's traffic, one line per cohort dimension.");
        }

        if (report.Reference is { } reference)
        {
            var coverage = new LineChart
            {
                Title = "Embedding coverage: share of traffic with an eval case within r",
                XLabels = labels,
                XLinks = links,
                YFormat = "0%",
                YMax = 1,
                Series =
                [
                    new ChartSeries("coverage", Palette[2], [.. series.Select(w => w.Coverage?.Share ?? double.NaN)]),
                    new ChartSeries("95% lower", Palette[2], [.. series.Select(w => w.Coverage?.Lower ?? double.NaN)], Dashed: true),
                    new ChartSeries("95% upper", Palette[2], [.. series.Select(w => w.Coverage?.Upper ?? double.NaN)], Dashed: true),
                    new ChartSeries("novel", Palette[4 % Palette.Length], [.. series.Select(w => w.Coverage?.NoveltyShare ?? double.NaN)]),
                    ThresholdSeries(series, "coverage_drop", label: "coverage alarm"),
                ],
                Thresholds = [new ChartThreshold($"reference {reference.Coverage.Share:0.0%}", reference.Coverage.Share, "#6b7280")],
            };
            page.Figure(coverage.Render(), $"Share of each period's traffic whose nearest eval case lies within r = {reference.Radius:0.000} ({reference.Embedder}); the reference is {Day(reference.From)} to {Day(reference.To)}. Coverage falls when traffic asks what the set does not, inside known intents too.");

            var online = new LineChart
            {
                Title = "Online signals: what users did with production's answers",
                XLabels = labels,
                XLinks = links,
                YFormat = "0%",
                YMax = 1,
                Series =
                [
                    new ChartSeries("thumbs up (of rated)", Palette[0], [.. series.Select(w => w.Online?.ThumbsUpRate ?? double.NaN)]),
                    new ChartSeries(series.Any(w => w.Online?.EscalationRate is not null) ? "escalated" : "escalated: no data (no trace says)", Palette[1], [.. series.Select(w => w.Online?.EscalationRate ?? double.NaN)], Dashed: true),
                ],
            };
            page.Figure(online.Render(), "The users' side of the gap: a score that rises while these fall is a score that has stopped measuring what users get.");
        }

        page.Table(
            ["period", "traces", "JS distance", "PSI", "G-test p", "missing share", "unknown share", "coverage", "thumbs up", "alarms"],
            series.Select(w => (IReadOnlyList<string>)
            [
                Day(w.From),
                w.Traces.ToString("N0", CultureInfo.InvariantCulture),
                Num(w.Intent.Measures?.JsDistance),
                Num(w.Intent.Measures?.Psi),
                w.Intent.Measures is { } m ? DriftFormat.P(m.Test.PValue) : "n/a",
                w.Intent.MissingShare.ToString("0.0%", CultureInfo.InvariantCulture),
                w.UnknownShare.ToString("0.0%", CultureInfo.InvariantCulture),
                Percent(w.Coverage?.Share),
                Percent(w.Online?.ThumbsUpRate),
                w.Alarms.Count == 0 ? "—" : DriftFormat.AlarmSummary(w.Alarms),
            ]),
            i => series[i].Alarms.Count > 0 ? "alarmed" : null,
            links is null ? null : i => links[i]);
    }

    private static void AddRuns(HtmlPage page, DriftReport report)
    {
        var runs = report.Runs;
        if (runs.Count == 0)
        {
            return;
        }

        page.Heading(2, "The score over time, next to its gaps");
        var labels = runs.Select((r, i) => $"{i + 1}. {r.Target}").ToList();
        var scores = new LineChart
        {
            Title = "Pass rate per pool, and the traffic-weighted estimate, per run",
            XLabels = labels,
            YFormat = "0%",
            YMax = 1,
            Series =
            [
                new ChartSeries("gold", Palette[0], [.. runs.Select(r => r.Gold ?? double.NaN)]),
                new ChartSeries("sealed holdout", Palette[3], [.. runs.Select(r => r.Holdout ?? double.NaN)]),
                new ChartSeries("shadow (recent traffic)", Palette[4], [.. runs.Select(r => r.Shadow ?? double.NaN)]),
                new ChartSeries("traffic-weighted", Palette[2], [.. runs.Select(r => r.TrafficWeighted ?? double.NaN)], Dashed: true),
            ],
        };
        page.Figure(scores.Render(), "Gold is what a release gate reads; the holdout was drawn with gold and sealed, shadow from recent traffic; the traffic-weighted estimate weighs each stratum by today's traffic.");

        var gaps = new LineChart
        {
            Title = "Gaps per run: gold − shadow (drift) and gold − holdout (overfitting)",
            XLabels = labels,
            YFormat = "0.00",
            Series =
            [
                new ChartSeries("gold − shadow", Palette[4], [.. runs.Select(r => r.GoldShadowGap ?? double.NaN)]),
                new ChartSeries("gold − holdout", Palette[3], [.. runs.Select(r => r.GoldHoldoutGap ?? double.NaN)]),
            ],
            Thresholds = [new ChartThreshold($"gold_shadow_gap alarm at {report.Thresholds.GoldShadowGap:0.##}", report.Thresholds.GoldShadowGap, "#dc2626")],
        };
        page.Figure(gaps.Render(), "Differences of pass rates; the table gives Fisher's exact p-values. When a target's previous run scored another suite, its gold change is split into the part due to the cases' difficulty mix and the part within difficulties (easy cases piling up show as mix).");
        page.Table(
            ["#", "run", "target", "release", "suite", "started", "gold", "holdout", "shadow", "traffic-weighted", "gold − shadow", "gold − holdout", "ρ offline vs online", "easy share of gold", "gold change: mix / within"],
            runs.Select((r, i) => (IReadOnlyList<string>)
            [
                (i + 1).ToString(CultureInfo.InvariantCulture),
                r.RunId,
                r.Target,
                r.Release ?? "—",
                r.SuiteVersion ?? "—",
                r.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                Percent(r.Gold),
                Percent(r.Holdout),
                Percent(r.Shadow),
                Percent(r.TrafficWeighted),
                DriftFormat.Gap(r.GoldShadowGap, r.GoldShadowP),
                DriftFormat.Gap(r.GoldHoldoutGap, r.GoldHoldoutP),
                r.OnlineRho is { } rho ? rho.ToString("0.00", CultureInfo.InvariantCulture) : "n/a",
                Percent(r.EasyShare),
                DriftFormat.MixWithin(r.MixEffect, r.WithinEffect),
            ]));

        if (report.Staleness.Count > 0)
        {
            page.Heading(3, "Does the set still tell systems apart? Staleness per suite version");
            page.Table(
                ["suite", "first run", "targets", "pass-rate spread", "failing-set Jaccard", "verdict"],
                report.Staleness.Select(p => (IReadOnlyList<string>)
                [
                    p.SuiteVersion,
                    p.FirstRun.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    p.Targets.ToString(CultureInfo.InvariantCulture),
                    Percent(p.Spread),
                    double.IsFinite(p.MeanJaccard) ? p.MeanJaccard.ToString("0.00", CultureInfo.InvariantCulture) : "n/a",
                    p.Stale ? "stale: flat, the same cases failing" : p.Targets < 3 ? "three targets are needed to call it" : "tells them apart",
                ]),
                i => report.Staleness[i].Stale ? "alarmed" : null);
        }
    }

    private static void AddReleases(HtmlPage page, DriftReport report)
    {
        if (report.Releases is not { } releases)
        {
            return;
        }

        page.Heading(2, "Offline vs online across releases");
        page.Paragraph(
            $"Each release's newest run against the thumbs-up rate of the traces it answered, standardised to the {Day(releases.MixFrom)} to {Day(releases.MixTo)} stratum mix over the {releases.Strata} strata every release served" +
            (releases.Rho is { } rho ? $"; Spearman's ρ between gold pass rate and thumbs up across releases {rho:0.00}." : "."),
            "meta");
        page.Table(
            ["release", "target", "live", "traces", "rated", "gold", "traffic-weighted", "thumbs up (standardised)", "95% interval", "thumbs up (raw)"],
            releases.Releases.Select(r => (IReadOnlyList<string>)
            [
                r.Release,
                r.Target,
                $"{Day(r.FirstSeen)} to {Day(r.LastSeen)}",
                r.Traces.ToString("N0", CultureInfo.InvariantCulture),
                r.Rated.ToString("N0", CultureInfo.InvariantCulture),
                Percent(r.GoldPassRate),
                Percent(r.TrafficWeighted),
                Percent(r.OnlineRate),
                double.IsFinite(r.OnlineLower) ? $"{r.OnlineLower:0.0%} to {r.OnlineUpper:0.0%}" : "n/a",
                Percent(r.RawThumbsUpRate),
            ]));
    }

    private static void AddWindow(HtmlPage page, DriftWindow window)
    {
        page.Heading(2, "Current window: intents");
        if (window.Intent.Measures is { } m)
        {
            page.Paragraph(
                $"JS distance {m.JsDistance:0.000} · smoothed KL {m.KlDivergence:0.000} bits · PSI {m.Psi:0.000} · " +
                $"G-test G = {m.Test.Statistic:0.0}, df = {m.Test.DegreesOfFreedom}, p = {DriftFormat.P(m.Test.PValue)} " +
                $"({m.Test.CategoriesTested} categories, {m.Test.CategoriesPooled} pooled) · n(traffic) = {window.Intent.TrafficTotal:N0}, n(eval) = {window.Intent.EvalTotal:N0}",
                "meta");
        }

        var top = window.Intent.Strata.Take(TopStrata).ToList();
        var bars = new PairedBarChart
        {
            Title = $"Top {top.Count} intents by traffic: traffic share vs eval share",
            FirstName = "traffic",
            SecondName = "eval set",
            Rows = [.. top.Select(s => new BarPair(s.Stratum, s.TrafficShare, s.EvalShare, s.Status == StratumStatus.Missing))],
        };
        page.Figure(bars.Render(), "Intents in red have traffic but no eval case.");

        var missing = window.Intent.Missing.ToList();
        if (missing.Count > 0)
        {
            page.Heading(2, $"In traffic, absent from the set ({missing.Count})");
            page.Table(["intent", "group", "traffic", "traffic share"], missing.Select(s => (IReadOnlyList<string>)
                [s.Stratum, s.Group ?? "", s.TrafficCount.ToString("N0", CultureInfo.InvariantCulture), s.TrafficShare.ToString("0.0%", CultureInfo.InvariantCulture)]));
        }

        StrataTable(page, "All intents", window.Intent);
        foreach (var cohort in window.Cohorts)
        {
            page.Heading(2, $"Current window: cohort {cohort.Dimension}");
            if (cohort.Measures is { } c)
            {
                page.Paragraph($"JS distance {c.JsDistance:0.000} · PSI {c.Psi:0.000} · G-test p = {DriftFormat.P(c.Test.PValue)}", "meta");
            }

            StrataTable(page, null, cohort);
        }
    }

    private static void StrataTable(HtmlPage page, string? heading, DimensionDrift dimension)
    {
        if (heading is not null)
        {
            page.Heading(2, heading);
        }

        var rows = dimension.Strata;
        page.Table(
            [dimension.Dimension, "traffic", "traffic share", "eval", "eval share", "ratio", "status"],
            rows.Select(s => (IReadOnlyList<string>)
            [
                s.Stratum,
                s.TrafficCount.ToString("N0", CultureInfo.InvariantCulture),
                s.TrafficShare.ToString("0.0%", CultureInfo.InvariantCulture),
                s.EvalCount.ToString("N0", CultureInfo.InvariantCulture),
                s.EvalShare.ToString("0.0%", CultureInfo.InvariantCulture),
                s.Ratio is { } r ? r.ToString("0.00", CultureInfo.InvariantCulture) : "—",
                DriftFormat.Status(s.Status),
            ]),
            i => rows[i].Status == StratumStatus.Missing ? "missing" : null);
    }

    /// <summary>Each window's calibrated alarm threshold of one instrument, as a dashed red line (a gap where it was not tested).</summary>
    private static ChartSeries ThresholdSeries(IReadOnlyList<DriftWindow> series, string instrument, string? dimension = null, string? label = null) =>
        new(
            label ?? "alarm threshold",
            "#7f1d1d",
            [.. series.Select(w => w.Tests.FirstOrDefault(t => t.Instrument == instrument && (dimension is null || t.Dimension == dimension)) is { } t && double.IsFinite(t.Threshold) ? t.Threshold : double.NaN)],
            Dashed: true);

    private static string Percent(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.0%", CultureInfo.InvariantCulture) : "n/a";

    private static string Day(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Num(double? value) => value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";
}

/// <summary>The parts of a drift page, for a page that shows some of them (the dashboard's views).</summary>
[Flags]
internal enum DriftSections
{
    None = 0,
    Alarms = 1,
    Series = 2,
    Runs = 4,
    Releases = 8,
    Window = 16,
    All = Alarms | Series | Runs | Releases | Window,
}
