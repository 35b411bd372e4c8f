using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Recal.Decisions;
using Recal.Domain;
using Recal.Reporting.Json;
using Recal.Reporting.Runs;
using static Recal.Reporting.Runs.RunReportTables;

namespace Recal.Reporting.Decisions;

/// <summary>Writes a gate decision to the terminal, JSON (docs/schemas/gate-report.schema.json), Markdown, JUnit XML and GitHub annotations.</summary>
public static class GateWriters
{
    public static string Name(GateStatus status) => status.ToString().ToLowerInvariant();

    public static string Verdict(GateReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var failed = report.Gates.Where(g => g.Status == GateStatus.Fail).Select(g => g.Gate).ToList();
        var unknown = report.Gates.Where(g => g.Status == GateStatus.Unknown).Select(g => g.Gate).ToList();
        var text = report.Passed ? "PASS" : "FAIL";
        if (failed.Count > 0)
        {
            text += $": {string.Join(", ", failed)} failed";
        }

        if (unknown.Count > 0)
        {
            text += (failed.Count > 0 ? "; " : ": ") + $"{string.Join(", ", unknown)} unknown" + (report.Policy.Unknown == UnknownVerdict.Fail ? " (an unknown gate fails: gates.unknown)" : " (reported; gates.unknown: pass)");
        }

        return failed.Count == 0 && unknown.Count == 0 ? text + ": every gate passed" : text;
    }

    /// <param name="explain">Adds each gate's rule and how its evidence turned into the verdict.</param>
    public static TableDocument Document(GateReport report, bool explain)
    {
        ArgumentNullException.ThrowIfNull(report);
        var lines = new List<HeadlineLine>
        {
            new("decision", Verdict(report), !report.Passed ? Tone.Bad : report.Gates.Any(g => g.Status == GateStatus.Unknown) ? Tone.Warn : Tone.Good),
            new("baseline", $"{report.Baseline.Id} (target {report.Baseline.Target})", Tone.Info),
            new("candidate", $"{report.Candidate.Id} (target {report.Candidate.Target})", Tone.Info),
        };
        var rows = new List<IReadOnlyList<string>>();
        foreach (var gate in report.Gates)
        {
            rows.Add(explain ? [gate.Gate, Name(gate.Status), gate.Evidence, gate.Why, gate.Rule] : [gate.Gate, Name(gate.Status), gate.Evidence]);
        }

        var tables = new List<ReportTable>
        {
            new("Gates", explain ? ["gate", "verdict", "evidence", "why", "rule"] : ["gate", "verdict", "evidence"], rows, explain ? null : "--explain adds each gate's rule and why it came out as it did."),
        };
        if (report.Gates.FirstOrDefault(g => g.Gate == GateEvaluator.GoldSegments) is { Segments.Count: > 0 } gold)
        {
            var shown = gold.Segments.Where(s => explain || s.Status is GateStatus.Fail or GateStatus.Unknown).OrderBy(s => s.Status == GateStatus.Fail ? 0 : s.Status == GateStatus.Unknown ? 1 : 2).ThenBy(s => s.Change.Difference).ToList();
            if (shown.Count > 0)
            {
                tables.Add(new ReportTable(
                    explain ? "Gold segments" : "Gold segments that did not pass",
                    ["segment", "verdict", "cases", "baseline", "candidate", "change", "95% CI", "newly failing", "why"],
                    [.. shown.Select(s => (IReadOnlyList<string>)[$"{s.Dimension} {s.Value}", Name(s.Status), Count(s.Change.Cases), Percent(s.Change.BaselineRate), Percent(s.Change.CandidateRate), Points(s.Change.Difference), $"{Points(s.Change.Lower)} to {Points(s.Change.Upper)}", Count(s.Change.NewlyFailing), s.Why])]));
            }
        }

        if (report.Gates.FirstOrDefault(g => g.Gate == GateEvaluator.Online) is { Signals.Count: > 0 } online)
        {
            tables.Add(new ReportTable(
                "Online signals",
                ["signal", "verdict", "baseline release", "candidate release", "change", "95% CI", "baseline traces", "candidate traces"],
                [.. online.Signals.Select(s => (IReadOnlyList<string>)[s.Signal, Name(s.Status), Percent(s.Baseline), Percent(s.Candidate), Points(s.Difference), $"{Points(s.Lower)} to {Points(s.Upper)}", Count(s.BaselineTraces), Count(s.CandidateTraces)])],
                "Each release's rate over the traces it answered, standardised to the latest traffic window's stratum mix (the release instrument of recal drift)."));
        }

        foreach (var gate in report.Gates.Where(g => g.Cases.Count > 0))
        {
            tables.Add(new ReportTable($"{gate.Gate}: cases", ["case"], [.. gate.Cases.Select(c => (IReadOnlyList<string>)[c])]));
        }

        return new TableDocument(
            $"Gate {report.Baseline.Target} → {report.Candidate.Target}: {(report.Passed ? "pass" : "fail")}",
            $"{report.Baseline.Project} · policy version {report.PolicyVersion} · unknown gates {(report.Policy.Unknown == UnknownVerdict.Fail ? "fail" : "pass")}",
            lines,
            tables);
    }

    /// <summary>The decision as one self-contained page: the decision's box red, amber or green, then the gate tables.</summary>
    public static string ToHtml(GateReport report, bool explain = false) => Document(report, explain).ToHtml();

    public static string ToJson(GateReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var document = new
        {
            report.FormatVersion,
            Baseline = DiffWriters.Run(report.Baseline),
            Candidate = DiffWriters.Run(report.Candidate),
            report.PolicyVersion,
            report.Decision,
            report.Passed,
            Gates = report.Gates.Select(g => new { g.Gate, g.Status, g.Rule, g.Evidence, g.Why, g.Segments, g.Signals, g.Cases }),
            Policy = new
            {
                report.Policy.Unknown,
                report.Policy.Confidence,
                report.Policy.Assertions,
                report.Policy.MaxRegression,
                report.Policy.MinCases,
                report.Policy.SegmentsBy,
                report.Policy.Holdout,
                report.Policy.Shadow,
                report.Policy.Online,
                report.Policy.OnlineMode,
                OnlineTolerance = report.Policy.EffectiveOnlineTolerance,
            },
        };
        return JsonSerializer.Serialize(document, ReportJson.Options);
    }

    /// <summary>
    /// Markdown made for a pull-request comment or <c>$GITHUB_STEP_SUMMARY</c>: the gates, then the diff's change per
    /// pool and its flips when <paramref name="diff"/> is given, then the eval-change table of <c>recal compare-suites</c>
    /// when <paramref name="suiteChange"/> is, so one block says whether the model or the metric moved.
    /// </summary>
    public static string ToMarkdown(GateReport report, bool explain = false, int headingLevel = 2, RunDiff? diff = null, string? suiteChange = null)
    {
        var text = new StringBuilder(Document(report, explain).ToMarkdown(headingLevel));
        if (diff is not null)
        {
            var document = DiffWriters.Document(diff);
            var hashes = new string('#', headingLevel + 1);
            text.AppendLine().Append(hashes).AppendLine(" What changed, case by case").AppendLine();
            foreach (var (label, value) in document.Lines)
            {
                text.Append("- **").Append(TableDocument.Cell(label)).Append("**: ").AppendLine(TableDocument.Cell(value));
            }

            text.AppendLine().AppendLine($"`recal diff {diff.Baseline.Id} {diff.Candidate.Id}` lists every flip with both outputs and the evidence.");
        }

        if (suiteChange is not null)
        {
            text.AppendLine().Append(suiteChange);
        }

        return text.ToString();
    }

    /// <summary>
    /// JUnit XML as CI tools read it (the Jenkins JUnit plugin's schema): one test case per gate and one per gold segment
    /// that failed or is unknown; a failed gate is a failure, an unknown one a failure when unknown gates fail and
    /// skipped otherwise, a gate that does not apply skipped.
    /// </summary>
    public static string ToJunit(GateReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var cases = new List<XElement>();
        foreach (var gate in report.Gates)
        {
            cases.Add(Case("recal.gate", gate.Gate, gate.Status, report.Policy.Unknown, gate.Evidence, $"{gate.Why}\nrule: {gate.Rule}"));
            foreach (var segment in gate.Segments.Where(s => s.Status is GateStatus.Fail or GateStatus.Unknown))
            {
                cases.Add(Case("recal.gate.gold", $"{segment.Dimension} {segment.Value}", segment.Status, report.Policy.Unknown, segment.Why, segment.Why));
            }
        }

        var failures = cases.Count(c => c.Element("failure") is not null);
        var skipped = cases.Count(c => c.Element("skipped") is not null);
        var stamp = report.Candidate.Finished ?? report.Candidate.Started;
        var suite = new XElement(
            "testsuite",
            new XAttribute("name", $"recal gate {report.Baseline.Target} → {report.Candidate.Target}"),
            new XAttribute("tests", cases.Count),
            new XAttribute("failures", failures),
            new XAttribute("errors", 0),
            new XAttribute("skipped", skipped),
            new XAttribute("time", "0"),
            new XAttribute("timestamp", stamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)),
            new XElement("properties",
                new XElement("property", new XAttribute("name", "baseline"), new XAttribute("value", report.Baseline.Id)),
                new XElement("property", new XAttribute("name", "candidate"), new XAttribute("value", report.Candidate.Id)),
                new XElement("property", new XAttribute("name", "policy_version"), new XAttribute("value", report.PolicyVersion))),
            cases);
        var root = new XElement("testsuites", new XAttribute("name", "recal gate"), new XAttribute("tests", cases.Count), new XAttribute("failures", failures), new XAttribute("errors", 0), new XAttribute("time", "0"), suite);
        return new XDocument(new XDeclaration("1.0", "utf-8", null), root).Declaration + "\n" + root + "\n";
    }

    /// <summary>GitHub Actions workflow commands: an error per failing gate, a warning per unknown one (escaped as the runner expects).</summary>
    public static string ToGitHubAnnotations(GateReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        foreach (var gate in report.Gates.Where(g => g.Status is GateStatus.Fail or GateStatus.Unknown))
        {
            var level = gate.Status == GateStatus.Fail || report.Policy.Unknown == UnknownVerdict.Fail ? "error" : "warning";
            text.Append("::").Append(level).Append(" title=").Append(Property($"recal gate: {gate.Gate} {Name(gate.Status)}")).Append("::").Append(Data($"{gate.Evidence}. {gate.Why}")).Append('\n');
        }

        return text.ToString();
    }

    private static XElement Case(string className, string name, GateStatus status, UnknownVerdict unknown, string message, string body)
    {
        var element = new XElement("testcase", new XAttribute("classname", className), new XAttribute("name", name), new XAttribute("time", "0"));
        if (status == GateStatus.Fail || (status == GateStatus.Unknown && unknown == UnknownVerdict.Fail))
        {
            element.Add(new XElement("failure", new XAttribute("type", Name(status)), new XAttribute("message", message), body));
        }
        else if (status is GateStatus.Unknown or GateStatus.Skipped)
        {
            element.Add(new XElement("skipped", new XAttribute("message", message)));
        }

        element.Add(new XElement("system-out", message));
        return element;
    }

    private static string Data(string text) => text.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);

    private static string Property(string text) => Data(text).Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal);
}
