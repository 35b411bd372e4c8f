using System.Text.Json;
using Recal.Decisions;
using Recal.Reporting.Json;
using Recal.Reporting.Runs;
using Recal.Running;
using static Recal.Reporting.Runs.RunReportTables;

namespace Recal.Reporting.Decisions;

/// <summary>Writes a run diff to the terminal, JSON (docs/schemas/run-diff.schema.json), Markdown and HTML.</summary>
public static class DiffWriters
{
    public static TableDocument Document(RunDiff diff)
    {
        ArgumentNullException.ThrowIfNull(diff);
        var o = diff.Overall;
        var pools = diff.Segments.Where(s => s.Dimension == "pool").ToList();
        var changeTone = pools.Select(s => s.Change).Append(o).Any(c => c.Upper < 0) ? Tone.Bad : o.Lower > 0 ? Tone.Good : Tone.Info;
        var lines = new List<HeadlineLine>
        {
            new("baseline", $"{diff.Baseline.Id} (target {diff.Baseline.Target}, {diff.Baseline.Status.ToString().ToLowerInvariant()})", Tone.Info),
            new("candidate", $"{diff.Candidate.Id} (target {diff.Candidate.Target}, {diff.Candidate.Status.ToString().ToLowerInvariant()})", Tone.Info),
            new("cases", Matching(diff.Match), Tone.Info),
            new("change", string.Join("; ", pools.Select(s => $"{s.Value} {Change(s.Change)}").Append($"all paired cases {Change(o)}")), changeTone),
            new("flips", $"{Count(o.NewlyFailing)} newly failing (to investigate), {Count(o.NewlyPassing)} newly passing (retirement candidates), {Count(o.BothPassed)} passing in both, {Count(o.BothFailed)} failing in both", o.NewlyFailing > 0 ? Tone.Warn : Tone.Good),
        };
        if (diff.SignalsFrom is { } from && diff.SignalsTo is { } to)
        {
            lines.Add(diff.BlindStrata.Count == 0
                ? new("bench blind", $"no stratum where the candidate passes and users were unhappy ({from.UtcDateTime:yyyy-MM-dd} to {to.UtcDateTime:yyyy-MM-dd})", Tone.Good)
                : new("bench blind", $"{diff.BlindStrata.Count} stratum/strata where the candidate passes and users were unhappy: {string.Join(", ", diff.BlindStrata.Take(4).Select(b => b.Stratum))}", Tone.Bad));
        }

        var tables = new List<ReportTable>();
        string[] headers = ["segment", "cases", "baseline", "candidate", "change", "95% CI", "newly failing", "newly passing", "McNemar p"];
        foreach (var group in diff.Segments.GroupBy(s => s.Dimension))
        {
            tables.Add(new ReportTable($"By {group.Key}", headers, [.. group.Select(s => Row(s.Value, s.Change))]));
        }

        if (diff.JudgeDimensions.Count > 0)
        {
            tables.Add(new ReportTable(
                "Judge dimensions",
                ["rubric", "dimension", "cases", "baseline mean", "candidate mean", "change", "95% CI"],
                [.. diff.JudgeDimensions.Select(d => (IReadOnlyList<string>)[d.Rubric, d.Dimension, Count(d.Change.Pairs), Score(d.Change.BaselineMean), Score(d.Change.CandidateMean), Signed(d.Change.Difference), $"{Signed(d.Change.Lower)} to {Signed(d.Change.Upper)}"])],
                "The ensemble's median score per dimension on the cases both runs have it for; the interval is Student's t on the paired differences."));
        }

        tables.Add(Flips("Newly failing: to investigate", diff.NewlyFailing));
        tables.Add(Flips("Newly passing: retirement candidates once they keep passing (recal retire)", diff.NewlyPassing));
        if (diff.BlindStrata.Count > 0)
        {
            tables.Add(new ReportTable(
                "Where the bench is blind",
                ["stratum", "cases", "candidate pass rate", "traces", "rated", "thumbs up", "rest of traffic", "escalated", "Fisher p"],
                [.. diff.BlindStrata.Select(b => (IReadOnlyList<string>)[b.Stratum, Count(b.Cases), Percent(b.CandidatePassRate), Count(b.Traces), Count(b.Rated), Percent(b.ThumbsUpRate), Percent(b.RestThumbsUpRate), Percent(b.EscalationRate), PValue(b.PValue)])],
                "The candidate passes these strata at least as often as it passes overall, while users' thumbs up there is significantly below the rest of the traffic window (one-sided Fisher, 0.05 shared by Bonferroni): the cases do not capture what goes wrong. Draw harder cases from them: recal sample --pool shadow."));
        }

        return new TableDocument(
            $"Diff {diff.Baseline.Id} → {diff.Candidate.Id}",
            $"{diff.Baseline.Project} · baseline {diff.Baseline.Target} · candidate {diff.Candidate.Target} · suites {diff.Match.BaselineSuite}{(diff.Match.SameSuite ? string.Empty : " and " + diff.Match.CandidateSuite)}",
            lines,
            tables);
    }

    /// <summary>How the runs' cases matched, in a line.</summary>
    public static string Matching(CaseMatch match)
    {
        ArgumentNullException.ThrowIfNull(match);
        var text = $"{Count(match.Paired)} paired by id" + (match.Errored > 0 ? $"; {Count(match.Errored)} left out (no verdict in one run)" : string.Empty);
        if (!match.SameSuite)
        {
            text += $"; the suite versions differ ({match.BaselineSuite} and {match.CandidateSuite}): only cases both ran are compared";
        }

        if (match.OnlyBaselineCount > 0)
        {
            text += $"; {Count(match.OnlyBaselineCount)} only in the baseline ({string.Join(", ", match.OnlyBaseline.Take(5))}{(match.OnlyBaselineCount > 5 ? ", …" : string.Empty)})";
        }

        if (match.OnlyCandidateCount > 0)
        {
            text += $"; {Count(match.OnlyCandidateCount)} only in the candidate ({string.Join(", ", match.OnlyCandidate.Take(5))}{(match.OnlyCandidateCount > 5 ? ", …" : string.Empty)})";
        }

        return text;
    }

    public static string ToJson(RunDiff diff)
    {
        ArgumentNullException.ThrowIfNull(diff);
        var document = new
        {
            diff.FormatVersion,
            Baseline = Run(diff.Baseline),
            Candidate = Run(diff.Candidate),
            diff.Match,
            diff.Overall,
            diff.Segments,
            diff.NewlyFailing,
            diff.NewlyPassing,
            diff.JudgeDimensions,
            Signals = diff.SignalsFrom is null ? null : new { From = diff.SignalsFrom, To = diff.SignalsTo },
            diff.BlindStrata,
        };
        return JsonSerializer.Serialize(document, ReportJson.Options);
    }

    public static string ToMarkdown(RunDiff diff) => Document(diff).ToMarkdown();

    public static string ToHtml(RunDiff diff) => Document(diff).ToHtml();

    /// <summary>A run's identity for JSON reports.</summary>
    public static object Run(RunInfo run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new { run.Id, run.Project, run.Target, run.SuiteVersion, Pools = run.Pools.Names, run.Total, run.Started, run.Finished, run.Status };
    }

    private static string Change(Statistics.PairedComparison c) =>
        $"{Percent(c.BaselineRate)} → {Percent(c.CandidateRate)}, {Points(c.Difference)} (95% CI {Points(c.Lower)} to {Points(c.Upper)}, McNemar p = {PValue(c.PValue)})";

    private static IReadOnlyList<string> Row(string label, Statistics.PairedComparison c) =>
        [label, Count(c.Cases), Percent(c.BaselineRate), Percent(c.CandidateRate), Points(c.Difference), $"{Points(c.Lower)} to {Points(c.Upper)}", Count(c.NewlyFailing), Count(c.NewlyPassing), PValue(c.PValue)];

    private static ReportTable Flips(string title, IReadOnlyList<CaseFlip> flips) =>
        new(
            title,
            ["case", "intent", "pool", "baseline output", "candidate output", "baseline evidence", "candidate evidence"],
            [.. flips.Select(f => (IReadOnlyList<string>)[f.CaseId, f.Intent, f.Pool, TableDocument.Cut(f.BaselineOutput), TableDocument.Cut(f.CandidateOutput), TableDocument.Cut(f.BaselineEvidence, 240), TableDocument.Cut(f.CandidateEvidence, 240)])],
            flips.Count == 0 ? "None." : null);

    private static string Score(double value) => double.IsFinite(value) ? value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "–";

    private static string Signed(double value) => double.IsFinite(value) ? value.ToString("+0.00;−0.00;0.00", System.Globalization.CultureInfo.InvariantCulture) : "–";
}
