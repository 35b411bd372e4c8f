using System.Net;
using System.Text;

namespace Recal.Reporting.Html;

/// <summary>A self-contained HTML page: inline CSS, inline SVG, no scripts or external resources.</summary>
internal sealed class HtmlPage
{
    private const string Style = """
        body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2rem auto;max-width:1040px;color:#111827;padding:0 1rem}
        h1{font-size:1.5rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.25rem}
        .meta{color:#4b5563;font-size:.9rem}.alarm{background:#fef2f2;border-left:4px solid #dc2626;padding:.5rem .75rem;margin:.35rem 0}
        .ok{background:#f0fdf4;border-left:4px solid #16a34a;padding:.5rem .75rem;margin:.35rem 0}
        .wide{overflow-x:auto}table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #e5e7eb;text-align:right}
        th:first-child,td:first-child{text-align:left}th{background:#f9fafb}tr.missing td{color:#b91c1c;font-weight:600}tr.alarmed td{background:#fef2f2}
        .num{font-variant-numeric:tabular-nums}figure{margin:1rem 0}figcaption{font-size:.8rem;color:#4b5563}
        """;

    private readonly StringBuilder _body = new();

    public HtmlPage(string title) => Title = title;

    public string Title { get; }

    public HtmlPage Raw(string html)
    {
        _body.Append(html).Append('\n');
        return this;
    }

    public HtmlPage Heading(int level, string text) => Raw($"<h{level}>{Encode(text)}</h{level}>");

    public HtmlPage Paragraph(string text, string? cssClass = null) =>
        Raw(cssClass is null ? $"<p>{Encode(text)}</p>" : $"<p class=\"{cssClass}\">{Encode(text)}</p>");

    public HtmlPage Figure(string svg, string caption) => Raw($"<figure>{svg}<figcaption>{Encode(caption)}</figcaption></figure>");

    /// <summary>A table; <paramref name="rowClass"/> may mark rows (for example missing strata).</summary>
    public HtmlPage Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, Func<int, string?>? rowClass = null)
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
            var css = rowClass?.Invoke(index++);
            html.Append(css is null ? "<tr>" : $"<tr class=\"{css}\">");
            foreach (var cell in row)
            {
                html.Append("<td class=\"num\">").Append(Encode(cell)).Append("</td>");
            }

            html.Append("</tr>");
        }

        return Raw(html.Append("</tbody></table></div>").ToString());
    }

    public string Render() =>
        $"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">" +
        $"<title>{Encode(Title)}</title><style>{Style}</style></head><body>\n{_body}</body></html>\n";

    public static string Encode(string text) => WebUtility.HtmlEncode(text);
}
