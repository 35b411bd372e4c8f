using System.Text;
using Recal.Reporting.Runs;

namespace Recal.Reporting;

/// <summary>Writes a titled report table as a Markdown section (a heading, its note, a pipe table), the same for every report.</summary>
public static class MarkdownTable
{
    public static void Append(StringBuilder text, ReportTable table)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(table);
        text.AppendLine().Append("## ").AppendLine(table.Title).AppendLine();
        if (table.Note is not null)
        {
            text.AppendLine(table.Note).AppendLine();
        }

        text.Append("| ").AppendJoin(" | ", table.Headers.Select(Cell)).AppendLine(" |");
        text.Append('|').AppendJoin('|', table.Headers.Select((_, i) => i == 0 ? " --- " : " ---: ")).AppendLine("|");
        foreach (var row in table.Rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(Cell)).AppendLine(" |");
        }
    }

    /// <summary>Text safe inside a table cell: pipes escaped, line breaks flattened.</summary>
    public static string Cell(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
    }
}
