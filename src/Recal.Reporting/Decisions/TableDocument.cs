using System.Text;
using Recal.Reporting.Html;
using Recal.Reporting.Runs;
using Spectre.Console;

namespace Recal.Reporting.Decisions;

/// <summary>A report made of headline lines and tables, written the same way to the terminal, Markdown and HTML.</summary>
/// <param name="Meta">One line under the title (runs, suites).</param>
/// <param name="Lines">Label/value lines under it, each with its tone.</param>
public sealed record TableDocument(string Title, string Meta, IReadOnlyList<HeadlineLine> Lines, IReadOnlyList<ReportTable> Tables)
{
    /// <summary>Terminal tables show this many rows unless asked for all.</summary>
    public const int TerminalRows = 15;

    public string ToMarkdown(int headingLevel = 1)
    {
        var text = new StringBuilder();
        var hashes = new string('#', headingLevel);
        text.Append(hashes).Append(' ').AppendLine(Title).AppendLine();
        text.AppendLine(Cell(Meta)).AppendLine();
        foreach (var (label, value) in Lines)
        {
            text.Append("- **").Append(Cell(label)).Append("**: ").AppendLine(Cell(value));
        }

        foreach (var table in Tables)
        {
            text.AppendLine().Append(hashes).Append("# ").AppendLine(table.Title).AppendLine();
            if (table.Note is not null)
            {
                text.AppendLine(Cell(table.Note)).AppendLine();
            }

            text.Append("| ").AppendJoin(" | ", table.Headers.Select(Cell)).AppendLine(" |");
            text.Append('|').AppendJoin('|', table.Headers.Select((_, i) => i == 0 ? " --- " : " ---: ")).AppendLine("|");
            foreach (var row in table.Rows)
            {
                text.Append("| ").AppendJoin(" | ", row.Select(Cell)).AppendLine(" |");
            }
        }

        return text.ToString();
    }

    /// <summary>The page: each headline line in a box coloured by its own tone, then the tables.</summary>
    public string ToHtml()
    {
        var page = new HtmlPage(Title);
        page.Heading(1, Title);
        page.Paragraph(Meta, "meta");
        foreach (var line in Lines)
        {
            page.Headline(line);
        }

        foreach (var table in Tables)
        {
            page.Heading(2, table.Title);
            if (table.Note is not null)
            {
                page.Paragraph(table.Note, "meta");
            }

            page.Table(table.Headers, table.Rows, i => table.Rows[i].Any(c => c is "fail" or "unknown") ? "alarmed" : null);
        }

        return page.Render();
    }

    public void Render(IAnsiConsole console, bool full)
    {
        ArgumentNullException.ThrowIfNull(console);
        console.MarkupLine($"[bold]{Markup.Escape(Title)}[/]");
        console.MarkupLine($"  [grey]{Markup.Escape(Meta)}[/]");
        foreach (var line in Lines)
        {
            console.MarkupLine($"  [{line.LabelStyle}]{Markup.Escape(line.Label),-17}[/] {Markup.Escape(line.Value)}");
        }

        foreach (var source in Tables)
        {
            var rows = full || source.Rows.Count <= TerminalRows ? source.Rows : [.. source.Rows.Take(TerminalRows)];
            var table = Terminal.FitTable.Of(source, rows, cell => cell switch
            {
                "fail" => "[red]fail[/]",
                "unknown" => "[yellow]unknown[/]",
                "pass" => "[green]pass[/]",
                _ => Markup.Escape(cell),
            }, rightAligned: false);
            table.Render(console);
            if (source.Note is not null)
            {
                console.MarkupLine($"  [grey]{Markup.Escape(source.Note)}[/]");
            }

            if (rows.Count < source.Rows.Count)
            {
                console.MarkupLine($"  [grey]{source.Rows.Count - rows.Count} more row(s); --full shows all, --html/--markdown/--json write them.[/]");
            }
        }
    }

    /// <summary>A Markdown table cell: pipes escaped, on one line.</summary>
    public static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\r", " ", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    /// <summary>A long text cut for a table cell.</summary>
    public static string Cut(string? text, int length = 160) =>
        text is null ? "–" : text.Length <= length ? text : text[..length] + "…";
}
