using Spectre.Console;

namespace Recal.Reporting.Terminal;

/// <summary>
/// A terminal table that fits the console's width: numbers and names are never split across lines. When the full
/// table is too wide it first uses the columns' short headers, then leaves out the least important columns and lists
/// their values under the table, one line per row. Only a column marked as wrapping (free text) wraps, and only
/// between words. The layout depends on the width alone, so a fixed width (redirected output) gives a stable layout.
/// </summary>
public sealed class FitTable
{
    private readonly List<FitColumn> _columns = [];
    private readonly List<string[]> _rows = [];
    private readonly string? _title;
    private readonly TableBorder _border;

    public FitTable(string? title = null, TableBorder? border = null)
    {
        _title = title;
        _border = border ?? TableBorder.Simple;
    }

    /// <param name="header">The column's header (plain text).</param>
    /// <param name="shortHeader">A shorter header used when the full headers do not fit.</param>
    /// <param name="rightAligned">Numbers are right-aligned.</param>
    /// <param name="priority">Columns are left out highest priority number first; 0 is never left out.</param>
    /// <param name="wraps">Free text that may wrap between words.</param>
    public FitTable Column(string header, string? shortHeader = null, bool rightAligned = false, int priority = 1, bool wraps = false)
    {
        _columns.Add(new FitColumn(header, shortHeader ?? header, rightAligned, _columns.Count == 0 ? 0 : priority, wraps));
        return this;
    }

    /// <summary>Adds a row of markup cells, one per column.</summary>
    public FitTable Row(params string[] cells)
    {
        if (cells.Length != _columns.Count)
        {
            throw new ArgumentException($"{cells.Length} cells for {_columns.Count} columns.", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    public int Rows => _rows.Count;

    private int? _limit;
    private string _rowsName = "row(s)";
    private int _cut;

    /// <summary>
    /// Shows at most <paramref name="rows"/> rows (null or 0: all), then one line that counts the rest, so an excerpt is
    /// a whole table with its header and its footer, never a cut one (<c>--rows</c>).
    /// </summary>
    /// <param name="rowsName">What a row is, plural, for the footer ("strata").</param>
    public FitTable Limit(int? rows, string rowsName)
    {
        _limit = rows is > 0 ? rows : null;
        _rowsName = rowsName;
        return this;
    }

    /// <summary>
    /// A report table for the terminal: free text (answers, evidence) wraps between words, other columns stay whole and
    /// are left out right to left when the width needs it.
    /// </summary>
    /// <param name="cell">The markup of a cell's text (colour for verdicts).</param>
    /// <param name="rightAligned">Whether the columns after the first are numbers.</param>
    public static FitTable Of(Runs.ReportTable source, IReadOnlyList<IReadOnlyList<string>> rows, Func<string, string> cell, bool rightAligned)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(cell);
        var table = new FitTable(source.Title);
        for (var i = 0; i < source.Headers.Count; i++)
        {
            var column = i;
            var text = rows.Any(r => r[column].Length > 24 && r[column].Contains(' ', StringComparison.Ordinal));
            table.Column(source.Headers[i], rightAligned: rightAligned && !text, priority: i, wraps: text);
        }

        foreach (var row in rows)
        {
            table.Row([.. row.Select(cell)]);
        }

        return table;
    }

    /// <summary>The columns shown and left out at a width (for tests and the detail lines).</summary>
    public (IReadOnlyList<int> Shown, bool ShortHeaders) Layout(int width)
    {
        var all = Enumerable.Range(0, _columns.Count).ToList();
        foreach (var shortHeaders in new[] { false, true })
        {
            if (Needed(all, shortHeaders) <= width)
            {
                return (all, shortHeaders);
            }
        }

        var shown = all.ToList();
        // Free text that would take more than two lines a row is easier to read below the table than in a thin column.
        if (_rows.Count > 0)
        {
            var fixedWidth = Needed(shown.Where(i => !_columns[i].Wraps).ToList(), true);
            foreach (var i in shown.Where(i => _columns[i].Wraps && _columns[i].Priority > 0).ToList())
            {
                var room = width - fixedWidth - 3;
                if (room < MinWidth(i, true) || _rows.Any(r => TerminalText.Wrap(Markup.Remove(r[i]), room).Count > 2))
                {
                    shown.Remove(i);
                }
            }
        }

        while (Needed(shown, true) > width && shown.Count > 1)
        {
            // The least important column goes first; among equals, the rightmost.
            var drop = shown.Where(i => i > 0).OrderByDescending(i => _columns[i].Priority).ThenByDescending(i => i).First();
            if (_columns[drop].Priority == 0)
            {
                break;
            }

            shown.Remove(drop);
        }

        return (shown, true);
    }

    public void Render(IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        if (_limit is { } limit && _rows.Count > limit)
        {
            _cut += _rows.Count - limit;
            _rows.RemoveRange(limit, _rows.Count - limit);
        }

        RenderRows(console);
        if (_cut > 0)
        {
            console.MarkupLine($"[grey]  … {_cut:N0} more {Markup.Escape(_rowsName)} (--rows {_rows.Count + _cut} shows them all)[/]");
        }
    }

    private void RenderRows(IAnsiConsole console)
    {
        var width = console.Profile.Width;
        var (shown, shortHeaders) = Layout(width);
        var widths = shown.ToDictionary(i => i, i => MinWidth(i, shortHeaders));
        var spare = width - Needed(shown, shortHeaders);
        foreach (var i in shown.Where(i => _columns[i].Wraps))
        {
            var more = Math.Min(spare, NaturalWidth(i, shortHeaders) - widths[i]);
            if (more > 0)
            {
                widths[i] += more;
                spare -= more;
            }
        }

        var table = new Table().Border(_border);
        if (_title is not null)
        {
            table.Title(Markup.Escape(_title));
        }

        foreach (var i in shown)
        {
            var column = new TableColumn(Markup.Escape(Header(i, shortHeaders))) { Width = widths[i] };
            if (_columns[i].RightAligned)
            {
                column.RightAligned();
            }

            if (!_columns[i].Wraps)
            {
                column.NoWrap();
            }

            table.AddColumn(column);
        }

        foreach (var row in _rows)
        {
            table.AddRow([.. shown.Select(i => row[i])]);
        }

        console.Write(table);
        if (shortHeaders && shown.Any(i => _columns[i].ShortHeader != _columns[i].Header))
        {
            foreach (var line in TerminalText.WrapUnits("  ", shown.Where(i => _columns[i].ShortHeader != _columns[i].Header).Select(i => $"{_columns[i].ShortHeader} = {_columns[i].Header}"), ", ", width - 1, 2))
            {
                console.MarkupLine($"[grey]{Markup.Escape(line)}[/]");
            }
        }

        var hidden = Enumerable.Range(0, _columns.Count).Except(shown).OrderBy(i => _columns[i].Priority).ThenBy(i => i).ToList();
        if (hidden.Count == 0)
        {
            return;
        }

        // What did not fit, row by row under the table: nothing is lost at a narrow width.
        console.MarkupLine($"[grey]{Markup.Escape(TerminalText.Fit($"Not shown above at this width ({string.Join(", ", hidden.Select(i => _columns[i].Header))}), by {_columns[0].Header}:", width))}[/]");
        foreach (var row in _rows)
        {
            var key = Markup.Remove(row[0]);
            foreach (var line in TerminalText.WrapUnits($"  {key}  ", hidden.Select(i => $"{_columns[i].Header} {Markup.Remove(row[i])}"), "; ", width - 1, key.Length + 4))
            {
                console.MarkupLine(Markup.Escape(line));
            }
        }
    }

    private string Header(int i, bool shortHeaders) => shortHeaders ? _columns[i].ShortHeader : _columns[i].Header;

    private int Needed(IReadOnlyCollection<int> columns, bool shortHeaders) =>
        1 + columns.Sum(i => MinWidth(i, shortHeaders) + 3);

    private int NaturalWidth(int i, bool shortHeaders) =>
        Math.Max(Header(i, shortHeaders).Length, _rows.Count == 0 ? 0 : _rows.Max(r => Markup.Remove(r[i]).Length));

    private int MinWidth(int i, bool shortHeaders)
    {
        if (!_columns[i].Wraps)
        {
            return NaturalWidth(i, shortHeaders);
        }

        // Free text wraps between words only: the column is as wide as its longest word.
        var words = _rows.SelectMany(r => Markup.Remove(r[i]).Split(' ', StringSplitOptions.RemoveEmptyEntries)).Append(Header(i, shortHeaders).Split(' ').Max(w => w.Length) is var h ? new string('x', h) : string.Empty);
        return Math.Max(4, words.Max(w => w.Length));
    }

    private sealed record FitColumn(string Header, string ShortHeader, bool RightAligned, int Priority, bool Wraps);
}
