using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace Recal.Reporting.Html;

/// <summary>A self-contained HTML page: inline CSS, inline SVG, no external resources (a dashboard page may load its server's script).</summary>
internal sealed partial class HtmlPage
{
    // Pages fit the window they are read in: charts scale down with it, tables let text (never numbers) wrap, and
    // below 640 px each table row becomes a card of label/value lines, so nothing needs a sideways scroll.
    private const string Style = """
        body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1040px;color:#111827;padding:0 1rem}
        h1{font-size:1.5rem;margin-bottom:.25rem;overflow-wrap:anywhere}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.25rem;overflow-wrap:anywhere}
        .meta{color:#4b5563;font-size:.9rem;overflow-wrap:anywhere}.alarm,.ok,.warn,.info{padding:.5rem .75rem;margin:.35rem 0;overflow-wrap:anywhere}
        .alarm{background:#fef2f2;border-left:4px solid #dc2626}.ok{background:#f0fdf4;border-left:4px solid #16a34a}
        .warn{background:#fffbeb;border-left:4px solid #d97706}.info{background:#f9fafb;border-left:4px solid #9ca3af}
        .wide{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #e5e7eb;text-align:right;font-variant-numeric:tabular-nums}
        th,td.txt{overflow-wrap:anywhere}td.txt{text-align:left}td.num{white-space:nowrap}
        th:first-child,td:first-child{text-align:left}th{background:#f9fafb}tr.missing td{color:#b91c1c;font-weight:600}tr.alarmed td{background:#fef2f2}
        nav.dash{display:flex;flex-wrap:wrap;gap:.2rem 1rem;padding:.5rem 0;border-bottom:1px solid #e5e7eb;font-size:.9rem}nav.dash a{color:#1d4ed8;text-decoration:none}nav.dash a[aria-current]{font-weight:700;color:#111827}
        a.window rect:hover{fill-opacity:.08}form.filter{display:flex;flex-wrap:wrap;gap:.4rem .8rem;align-items:end;font-size:.85rem}form.filter label{display:flex;flex-direction:column}
        pre.text{white-space:pre-wrap;overflow-wrap:anywhere;background:#f9fafb;padding:.5rem .75rem;border:1px solid #e5e7eb}
        figure{margin:1rem 0}figure svg{max-width:100%;height:auto}figcaption{font-size:.8rem;color:#4b5563}
        @media (max-width:640px){
        body{margin:1rem auto}
        .wide table,.wide tbody,.wide tr,.wide td{display:block}.wide thead{display:none}
        .wide tr{border-bottom:1px solid #d1d5db;padding:.3rem 0}
        .wide td{display:flex;justify-content:space-between;gap:1rem;border:0;padding:.1rem .3rem;text-align:right}
        .wide td::before{content:attr(data-label);color:#4b5563;text-align:left;white-space:normal}
        .wide td:first-child{font-weight:600}.wide td:empty{display:none}.wide td[data-label=""]::before{display:none}
        }
        """;

    private readonly StringBuilder _body = new();
    private readonly List<string> _scripts = [];

    public HtmlPage(string title) => Title = title;

    public string Title { get; }

    /// <summary>Markup added to the page's head as given (a dashboard page's state marker); empty for a report.</summary>
    public string Head { get; init; } = string.Empty;

    public HtmlPage Raw(string html)
    {
        _body.Append(html).Append('\n');
        return this;
    }

    public HtmlPage Heading(int level, string text) => Raw($"<h{level}>{Encode(text)}</h{level}>");

    public HtmlPage Paragraph(string text, string? cssClass = null) =>
        Raw(cssClass is null ? $"<p>{Encode(text)}</p>" : $"<p class=\"{cssClass}\">{Encode(text)}</p>");

    /// <summary>A headline line in a box coloured by its tone: grey a fact, green good, amber to look at, red a finding.</summary>
    public HtmlPage Headline(Runs.HeadlineLine line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var css = line.Tone switch { Runs.Tone.Good => "ok", Runs.Tone.Warn => "warn", Runs.Tone.Bad => "alarm", _ => "info" };
        return Raw($"<div class=\"{css}\" data-tone=\"{line.Tone.ToString().ToLowerInvariant()}\"><strong>{Encode(line.Label)}</strong>: {Encode(line.Value)}</div>");
    }

    public HtmlPage Figure(string svg, string caption) => Raw($"<figure>{svg}<figcaption>{Encode(caption)}</figcaption></figure>");

    /// <summary>A script the page loads from its server (the dashboard's); a written report has none.</summary>
    public HtmlPage Script(string source)
    {
        _scripts.Add(source);
        return this;
    }

    /// <summary>
    /// A table; <paramref name="rowClass"/> may mark rows (for example missing strata), <paramref name="rowLink"/> make a
    /// row's first cell a link.
    /// </summary>
    public HtmlPage Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, Func<int, string?>? rowClass = null, Func<int, string?>? rowLink = null)
    {
        var html = new StringBuilder("<div class=\"wide\"><table><thead><tr>");
        foreach (var header in headers)
        {
            html.Append("<th>").Append(Encode(header)).Append("</th>");
        }

        html.Append("</tr></thead><tbody>");
        var index = 0;
        foreach (var row in rows)
        {
            var css = rowClass?.Invoke(index);
            var link = rowLink?.Invoke(index++);
            html.Append(css is null ? "<tr>" : $"<tr class=\"{css}\">");
            for (var column = 0; column < row.Count; column++)
            {
                var cell = row[column];
                var label = column < headers.Count ? headers[column] : string.Empty;
                var text = column == 0 && link is not null ? $"<a href=\"{Encode(link)}\">{Encode(cell)}</a>" : Encode(cell);
                html.Append(IsNumber(cell) ? "<td class=\"num\"" : "<td class=\"txt\"").Append(" data-label=\"").Append(Encode(label)).Append("\">").Append(text).Append("</td>");
            }

            html.Append("</tr>");
        }

        return Raw(html.Append("</tbody></table></div>").ToString());
    }

    public string Render() =>
        $"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">" +
        $"<title>{Encode(Title)}</title><style>{Style}</style>{Head}{string.Concat(_scripts.Select(s => $"<script src=\"{Encode(s)}\" defer></script>"))}</head><body>\n{_body}</body></html>\n";

    public static string Encode(string text) => WebUtility.HtmlEncode(text);

    /// <summary>Whether a cell is one figure (a count, a rate, a difference, a day), which is never wrapped.</summary>
    internal static bool IsNumber(string cell) => cell.Length <= 24 && NumberCell().IsMatch(cell);

    [GeneratedRegex(@"^(n/a|[–—-]|[+\-−]?[0-9][0-9,.]*(%| pp|e-?[0-9]+)?|[0-9]{4}-[0-9]{2}-[0-9]{2})$")]
    private static partial Regex NumberCell();
}
