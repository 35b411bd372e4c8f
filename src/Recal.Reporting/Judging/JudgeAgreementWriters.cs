using System.Text;
using System.Text.Json;
using Recal.Diagnostics;
using Recal.Judging;
using Recal.Reporting.Json;
using Spectre.Console;

namespace Recal.Reporting.Judging;

/// <summary>Writes a judge-agreement report to the terminal, as JSON (docs/schemas/judge-agreement.schema.json) or as Markdown.</summary>
public static class JudgeAgreementWriters
{
    public const int FormatVersion = 2;

    public static string ToJson(JudgeAgreementReport report, string source, IReadOnlyList<Diagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var document = new
        {
            FormatVersion,
            Source = source,
            report.Judges,
            report.Labels,
            report.Pairwise,
            report.SwappedFrame,
            report.Confidence,
            report.SmallSample,
            report.Rows,
            report.Confusion,
            report.BetweenJudges,
            report.Fleiss,
            Diagnostics = diagnostics.Select(d => new { d.Severity, d.Code, d.Message, d.Location?.File, d.Location?.Line, d.Hint }),
        };
        return JsonSerializer.Serialize(document, ReportJson.Options);
    }

    public static string ToMarkdown(JudgeAgreementReport report, string source, IReadOnlyList<Diagnostic> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var text = new StringBuilder();
        text.Append("# Judge agreement: ").AppendLine(MarkdownTable.Cell(source)).AppendLine();
        text.Append("- **judges**: ").AppendLine(MarkdownTable.Cell(string.Join(", ", report.Judges)));
        text.Append("- **labels**: ").AppendLine(MarkdownTable.Cell(string.Join(", ", report.Labels)));
        if (report.Pairwise)
        {
            text.Append("- **judge_swapped frame**: ").AppendLine(report.SwappedFrame.ToString().ToLowerInvariant());
        }

        var problems = diagnostics.Where(d => d.Severity != Severity.Info).ToList();
        if (problems.Count > 0)
        {
            text.AppendLine().AppendLine("## Problems in the input").AppendLine();
            foreach (var d in problems)
            {
                text.Append("- ").AppendLine(MarkdownTable.Cell(d.ToString()));
            }
        }

        foreach (var table in JudgeAgreementTables.Tables(report))
        {
            MarkdownTable.Append(text, table);
        }

        return text.ToString();
    }

    public static void Render(IAnsiConsole console, JudgeAgreementReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        foreach (var source in JudgeAgreementTables.Tables(report))
        {
            Terminal.FitTable.Of(source, source.Rows, Markup.Escape, rightAligned: true).Render(console);
            if (source.Note is not null)
            {
                console.MarkupLine($"  [{(source.Note.StartsWith("small", StringComparison.Ordinal) ? "yellow" : "grey")}]{Markup.Escape(source.Note)}[/]");
            }
        }
    }

}
