using System.Text;
using System.Text.Json;
using Recal.Reporting.Html;
using Recal.Reporting.Json;
using Recal.Running;

namespace Recal.Reporting.Runs;

/// <summary>Writes a run report as JSON (docs/schemas/run-report.schema.json), Markdown or self-contained HTML.</summary>
public static class RunReportWriters
{
    public static string ToJson(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var target = JsonDocument.Parse(report.Run.TargetJson);
        var document = new
        {
            report.FormatVersion,
            Run = new
            {
                report.Run.Id,
                report.Run.Project,
                report.Run.Target,
                TargetConfig = target.RootElement,
                report.Run.SuiteVersion,
                Pools = report.Run.Pools.Names,
                report.Run.Total,
                report.Run.Judges,
                report.Run.Started,
                report.Run.Finished,
                report.Run.Status,
            },
            report.Overall,
            report.Segments,
            report.Accumulation,
            report.Contamination,
            report.Weighted,
            report.PoolGaps,
            report.Online,
            report.Scorers,
            report.Judges,
            report.Costs,
            report.Errors,
            report.Failures,
        };
        return JsonSerializer.Serialize(document, ReportJson.Options);
    }

    public static string ToMarkdown(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var text = new StringBuilder();
        text.Append("# Run ").AppendLine(report.Run.Id).AppendLine();
        foreach (var (label, value) in RunReportTables.Headline(report).Select(l => (l.Label, l.Value)).Concat(RunReportTables.Facts(report)))
        {
            text.Append("- **").Append(label).Append("**: ").AppendLine(MarkdownTable.Cell(value));
        }

        foreach (var table in RunReportTables.Tables(report))
        {
            MarkdownTable.Append(text, table);
        }

        return text.ToString();
    }

    /// <param name="thresholds">The policy's alarms, which colour the headline's gaps as <c>recal check</c> judges them.</param>
    public static string ToHtml(RunReport report, Recal.Domain.AlarmThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var page = new HtmlPage($"Recal run {report.Run.Id}");
        page.Heading(1, $"Run {report.Run.Id}");
        page.Paragraph($"{report.Run.Project} · target {report.Run.Target} · suite {report.Run.SuiteVersion} · pools {report.Run.Pools}", "meta");
        foreach (var line in RunReportTables.Headline(report, thresholds))
        {
            page.Headline(line);
        }

        page.Heading(2, "Run");
        page.Table(["", ""], RunReportTables.Facts(report).Select(f => (IReadOnlyList<string>)[f.Label, f.Value]));
        foreach (var table in RunReportTables.Tables(report))
        {
            page.Heading(2, table.Title);
            if (table.Note is not null)
            {
                page.Paragraph(table.Note, "meta");
            }

            page.Table(table.Headers, table.Rows, i => table.Rows[i].Contains("unmeasured") ? "missing" : null);
        }

        return page.Render();
    }

    public static Task WriteAsync(string path, string contents, CancellationToken cancellationToken = default) =>
        AtomicFile.WriteAllTextAsync(path, contents, cancellationToken);
}
