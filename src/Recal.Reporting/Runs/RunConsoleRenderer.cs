using Recal.Running;
using Spectre.Console;

namespace Recal.Reporting.Runs;

/// <summary>Shows a run report in the terminal.</summary>
public static class RunConsoleRenderer
{
    /// <summary>
    /// Writes the report; <paramref name="full"/> also lists every intent and stratum (otherwise the first 15);
    /// <paramref name="brief"/> shows only the headline and the pass rate per pool.
    /// </summary>
    public static void Render(IAnsiConsole console, RunReport report, bool full = false, bool brief = false, Recal.Domain.AlarmThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        console.MarkupLine($"[bold]Run {Markup.Escape(report.Run.Id)}[/] — {Markup.Escape(report.Run.Project)}, target [bold]{Markup.Escape(report.Run.Target)}[/]");
        foreach (var line in RunReportTables.Headline(report, thresholds))
        {
            console.MarkupLine($"  [{line.LabelStyle}]{Markup.Escape(line.Label),-17}[/] {Markup.Escape(line.Value)}");
        }

        foreach (var (label, value) in brief ? [] : RunReportTables.Facts(report))
        {
            console.MarkupLine($"  [grey]{Markup.Escape(label),-17}[/] {Markup.Escape(value)}");
        }

        foreach (var source in RunReportTables.Tables(report).Where(t => !brief || t.Title == "By pool"))
        {
            var rows = full || source.Rows.Count <= 15 ? source.Rows : [.. source.Rows.Take(15)];
            Terminal.FitTable.Of(source, rows, cell => cell == "unmeasured" ? "[red]unmeasured[/]" : Markup.Escape(cell), rightAligned: true).Render(console);
            if (rows.Count < source.Rows.Count)
            {
                console.MarkupLine($"  [grey]{source.Rows.Count - rows.Count} more row(s); --full shows all, --html/--markdown/--json write them.[/]");
            }
        }
    }
}
