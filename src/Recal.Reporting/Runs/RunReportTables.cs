using System.Globalization;
using Recal.Running;

namespace Recal.Reporting.Runs;

/// <summary>A titled table of a run report, shared by the terminal, Markdown and HTML renderings.</summary>
public sealed record ReportTable(string Title, IReadOnlyList<string> Headers, IReadOnlyList<IReadOnlyList<string>> Rows, string? Note = null);

/// <summary>How a headline line reads: a plain fact, good news, something to look at, or a finding against the set or the target.</summary>
public enum Tone
{
    Info,
    Good,
    Warn,
    Bad,
}

/// <summary>One headline line of a report with its tone, which the HTML page colours its box by.</summary>
public sealed record HeadlineLine(string Label, string Value, Tone Tone)
{
    /// <summary>The terminal style of the line's label (colour is dropped when the output is not a terminal).</summary>
    public string LabelStyle => Tone switch { Tone.Good => "bold green", Tone.Warn => "bold yellow", Tone.Bad => "bold red", _ => "bold" };

    public void Deconstruct(out string label, out string value) => (label, value) = (Label, Value);
}

/// <summary>Lays out a run report's figures as text tables, so every rendering shows the same numbers.</summary>
public static class RunReportTables
{
    /// <summary>At most this many strata are listed in the weighted-estimate table; the rest are summed up.</summary>
    public const int MaxStrataShown = 25;

    public static string Percent(double value) => Text.Figures.Percent(value);

    /// <summary>A rate of a signal the traces may not carry: "no data" when none does.</summary>
    public static string Percent(double? value) => Text.Figures.Percent(value);

    public static string Interval(double lower, double upper) => Text.Figures.Interval(lower, upper);

    /// <summary>A difference of rates in percentage points, signed.</summary>
    public static string Points(double value) => Text.Figures.Points(value);

    public static string Rho(double rho) => double.IsFinite(rho) ? rho.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "–";

    public static string PValue(double p) => Text.Figures.PValue(p);

    public static string Count(long value) => Text.Figures.Count(value);

    /// <summary>
    /// The headline: gold (or overall) score next to the traffic-weighted estimate and the unmeasured share, each line
    /// with its tone by the rules <c>recal check</c> applies (<paramref name="thresholds"/>: the policy's alarms).
    /// </summary>
    public static IReadOnlyList<HeadlineLine> Headline(RunReport report, Recal.Domain.AlarmThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        thresholds ??= Recal.Domain.AlarmThresholds.Defaults;
        var lines = new List<HeadlineLine>
        {
            new("pass rate", $"{Percent(report.Overall.PassRate)} (95% CI {Interval(report.Overall.Lower, report.Overall.Upper)}; {Count(report.Overall.Passed)} of {Count(report.Overall.Passed + report.Overall.Failed)} with a verdict)", Tone.Info),
            new("errors", report.Overall.Errors == 0 ? "0" : $"{Count(report.Overall.Errors)} case(s) without a verdict — never counted as passes", report.Overall.Errors == 0 ? Tone.Good : Tone.Bad),
        };
        if (report.Weighted is { } weighted)
        {
            var estimate = weighted.Estimate;
            lines.Add(double.IsFinite(estimate.Estimate)
                ? new("traffic-weighted", $"{Percent(estimate.Estimate)} (95% CI {Interval(estimate.Lower, estimate.Upper)}) over the {Percent(estimate.MeasuredWeight)} of traffic the set measures", ScoreVerdicts.WeightedBelow(report) ? Tone.Bad : Tone.Good)
                : new("traffic-weighted", "no stratum of the traffic has a scored case", Tone.Warn));
            lines.Add(new("unmeasured", $"{Percent(estimate.UnmeasuredWeight)} of traffic ({weighted.From.UtcDateTime:yyyy-MM-dd} to {weighted.To.UtcDateTime:yyyy-MM-dd}, {Count(weighted.Traces)} traces) falls in strata with no scored case", estimate.UnmeasuredWeight > 0 ? Tone.Warn : Tone.Good));
        }
        else
        {
            lines.Add(new("traffic-weighted", "no traffic in the store: ingest traces to weight the score by today's traffic", Tone.Info));
        }

        if (report.Contamination is { } exposure)
        {
            lines.Add(new("contamination", ContaminationLine(exposure, report.PoolGaps.FirstOrDefault(g => g.Other == "holdout")), exposure.Configurations <= 1 ? Tone.Good : Tone.Warn));
        }

        if (report.Online is { Strata: > 0 } online)
        {
            var verdict = online.Diverges
                ? double.IsNaN(online.ThumbsRho) ? "the pass rate does not vary across these strata, so it cannot track what users say" : "the eval does not rank strata the way users do"
                : double.IsNaN(online.ThumbsRho) ? "too few rated strata to tell" : "the eval ranks strata the way users do";
            var tone = online.Diverges ? Tone.Bad : double.IsNaN(online.ThumbsRho) ? Tone.Info : Tone.Good;
            lines.Add(new("offline vs online", string.Create(CultureInfo.InvariantCulture, $"Spearman ρ {Rho(online.ThumbsRho)} (p {PValue(online.ThumbsPValue)}) between pass rate and thumbs-up rate, {Rho(online.EscalationRho)} with the share not escalated, over {online.Strata} strata: {verdict}"), tone));
        }

        foreach (var gap in report.PoolGaps)
        {
            lines.Add(new($"gold vs {gap.Other}", $"{Points(gap.Difference)} (95% CI {Points(gap.Lower)} to {Points(gap.Upper)}; Fisher p = {PValue(gap.PValue)}): gold {Percent(gap.Gold.PassRate)}, {gap.Other} {Percent(gap.Against.PassRate)}", ScoreVerdicts.GapFlags(gap, thresholds) ? Tone.Bad : Tone.Good));
        }

        return lines;
    }

    /// <summary>The gold set's exposure and its selection bias, next to the gold − holdout gap when there is one.</summary>
    public static string ContaminationLine(Recal.Decisions.ContaminationEstimate exposure, PoolGap? holdout = null) => Recal.Decisions.Contamination.Describe(exposure, holdout);

    public static IReadOnlyList<ReportTable> Tables(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var tables = new List<ReportTable>();
        string[] segmentHeaders = ["segment", "cases", "passed", "failed", "errors", "pass rate", "95% CI"];
        foreach (var group in report.Segments.GroupBy(s => s.Dimension))
        {
            tables.Add(new ReportTable(
                $"By {group.Key}",
                segmentHeaders,
                [.. group.Select(s => (IReadOnlyList<string>)[s.Value, Count(s.Cases), Count(s.Passed), Count(s.Failed), Count(s.Errors), Percent(s.PassRate), Interval(s.Lower, s.Upper)])]));
        }

        if (report.Accumulation.Count > 0)
        {
            tables.Add(new ReportTable(
                "Easy-case accumulation: difficulty mix by provenance and month added",
                ["segment", "cases", "pass rate", "labelled", "easy", "medium", "hard"],
                [.. report.Accumulation.Select(a => (IReadOnlyList<string>)[$"{a.Dimension} {a.Value}", Count(a.Cases), Percent(a.PassRate), Count(a.Labelled), a.EasyShare is { } e ? Percent(e) : "n/a", a.MediumShare is { } m ? Percent(m) : "n/a", a.HardShare is { } h ? Percent(h) : "n/a"])],
                "Cases added lately that are mostly easy and mostly passing lift the score without the system changing; recal compare-suites splits a score change into mix and within."));
        }

        if (report.Weighted is { } weighted)
        {
            var shown = weighted.Strata.Take(MaxStrataShown).ToList();
            var rest = weighted.Strata.Skip(MaxStrataShown).ToList();
            var rows = shown.Select(s => (IReadOnlyList<string>)[s.Stratum, Percent(s.TrafficShare), Count(s.Cases), s.PassRate is { } p ? Percent(p) : "unmeasured"]).ToList();
            if (rest.Count > 0)
            {
                rows.Add([$"{rest.Count} more strata", Percent(rest.Sum(s => s.TrafficShare)), Count(rest.Sum(s => s.Cases)), $"{rest.Count(s => s.PassRate is null)} unmeasured"]);
            }

            tables.Add(new ReportTable(
                $"Traffic-weighted estimate by {string.Join(" × ", weighted.By)}",
                ["stratum", "traffic share", "cases", "pass rate"],
                rows,
                "Each stratum's pass rate is weighted by its share of the latest traffic window; strata without scored cases are unmeasured and excluded from the estimate, never guessed."));
        }

        foreach (var gap in report.PoolGaps.Where(g => g.Strata.Count > 0))
        {
            tables.Add(new ReportTable(
                $"Gold vs {gap.Other} by stratum",
                ["stratum", "gold cases", "gold", $"{gap.Other} cases", gap.Other, "difference", "Fisher p"],
                [.. gap.Strata.Select(s => (IReadOnlyList<string>)[s.Stratum, Count(s.GoldCases), Percent(s.GoldRate), Count(s.OtherCases), Percent(s.OtherRate), Points(s.Difference), PValue(s.PValue)])],
                $"Strata with scored cases in both pools, most significant first. Overall: {Points(gap.Difference)}, 95% Newcombe interval {Points(gap.Lower)} to {Points(gap.Upper)}."));
        }

        if (report.Online is { Rows.Count: > 0 } onlineRows)
        {
            tables.Add(new ReportTable(
                "Offline vs online by stratum",
                ["stratum", "cases", "pass rate", "traces", "rated", "thumbs up", "escalated"],
                [.. onlineRows.Rows.Select(r => (IReadOnlyList<string>)[r.Stratum, Count(r.Cases), Percent(r.PassRate), Count(r.Traces), Count(r.Rated), r.ThumbsUpRate is { } up ? Percent(up) : "–", Percent(r.EscalationRate)])],
                $"Strata with at least {RunReportBuilder.MinCases} scored cases and {RunReportBuilder.MinRated} traces in the traffic window, least liked first. The online signals judge production's answers; the eval judges this run's target."));
        }

        tables.Add(new ReportTable(
            "Scorers",
            ["scorer", "cases", "passed", "errors", "mean score"],
            [.. report.Scorers.Select(s => (IReadOnlyList<string>)[s.Scorer, Count(s.Cases), Count(s.Passed), Count(s.Errors), double.IsFinite(s.MeanScore) ? s.MeanScore.ToString("0.000", CultureInfo.InvariantCulture) : "–"])]));
        if (report.Errors.Count > 0)
        {
            tables.Add(new ReportTable("Errors", ["case", "intent", "error"], [.. report.Errors.Select(n => (IReadOnlyList<string>)[n.CaseId, n.Intent, n.Reason])], $"The first {RunReportBuilder.MaxNotes} at most."));
        }

        if (report.Failures.Count > 0)
        {
            tables.Add(new ReportTable("Failures", ["case", "intent", "why"], [.. report.Failures.Select(n => (IReadOnlyList<string>)[n.CaseId, n.Intent, n.Reason])], $"The first {RunReportBuilder.MaxNotes} at most."));
        }

        return tables;
    }

    /// <summary>The run's identity and costs as label/value lines.</summary>
    public static IReadOnlyList<(string Label, string Value)> Facts(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var run = report.Run;
        var costs = report.Costs;
        var facts = new List<(string, string)>
        {
            ("run", run.Status is Running.RunStatus.Cancelled
                ? $"{run.Id} (cancelled: a partial run of {Count(run.Total)} case(s); the figures cover the cases scored before the cancel)"
                : $"{run.Id} ({run.Status.ToString().ToLowerInvariant()})"),
            ("target", run.Target),
            ("suite version", run.SuiteVersion),
            ("pools", run.Pools.ToString()),
            ("started", run.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)),
            ("calls", $"{Count(costs.Calls)} answered by a call, {Count(costs.CacheHits)} from the cache"),
        };
        if (costs.LatencyP50Ms is { } p50)
        {
            facts.Add(("latency", string.Create(CultureInfo.InvariantCulture, $"p50 {p50:0} ms, p95 {costs.LatencyP95Ms:0} ms")));
        }

        if (costs.InputTokens is not null || costs.OutputTokens is not null)
        {
            facts.Add(("tokens", $"{Count(costs.InputTokens ?? 0)} in, {Count(costs.OutputTokens ?? 0)} out"));
        }

        if (costs.Cost is { } cost)
        {
            facts.Add(("cost", cost.ToString("0.####", CultureInfo.InvariantCulture)));
        }

        if (report.Judges is { } judges)
        {
            facts.Add(("judges", $"{judges.Rubric}: {Count(judges.Cases)} cases judged, {Count(judges.FailedVotes)} failed votes, {Count(judges.CasesWithoutVerdict)} cases without a verdict, {Count(judges.Repairs)} repaired replies, {Count(judges.NeedsReview)} sent to human review"));
        }

        return facts;
    }
}
