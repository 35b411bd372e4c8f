using System.Globalization;
using System.Text;
using static Recal.Reporting.Svg.SvgText;

namespace Recal.Reporting.Svg;

/// <summary>One category of a paired bar chart: two values side by side (traffic share and eval share, say).</summary>
public sealed record BarPair(string Label, double First, double Second, bool Highlight = false);

/// <summary>Horizontal paired bars: one row per category, the first value above the second.</summary>
public sealed class PairedBarChart
{
    private const double Right = 56, Top = 28, RowHeight = 22, BarHeight = 8;

    /// <summary>Width of one character of an 11 px label, a little above system-ui's average so labels never touch the bars.</summary>
    private const double CharWidth = 6.6;

    public string Title { get; init; } = string.Empty;

    public double Width { get; init; } = 720;

    public string FirstName { get; init; } = "first";

    public string SecondName { get; init; } = "second";

    public string FirstColor { get; init; } = "#2563eb";

    public string SecondColor { get; init; } = "#f59e0b";

    public string ValueFormat { get; init; } = "0.0%";

    public IReadOnlyList<BarPair> Rows { get; init; } = [];

    public double Height => Top + (Rows.Count * RowHeight) + 30;

    /// <summary>The label column: as wide as the longest label needs, at most 45% of the chart (longer labels are shortened).</summary>
    public double LabelWidth => Math.Clamp((Rows.Select(r => r.Label.Length).DefaultIfEmpty(0).Max() * CharWidth) + 12, 80, Math.Round(Width * 0.45));

    /// <summary>A label as shown: whole when it fits the label column, else shortened with an ellipsis (the bar's tooltip names it whole).</summary>
    public string Shown(string label)
    {
        ArgumentNullException.ThrowIfNull(label);
        var fits = (int)((LabelWidth - 12) / CharWidth);
        return label.Length <= fits ? label : label[..Math.Max(1, fits - 1)] + "…";
    }

    /// <summary>The bar length in pixels for <paramref name="value"/>.</summary>
    public double BarLength(double value)
    {
        var max = Rows.SelectMany(r => new[] { r.First, r.Second }).DefaultIfEmpty(0).Max();
        return max <= 0 ? 0 : (Width - LabelWidth - Right) * Math.Max(0, value) / max;
    }

    public string Render()
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {F(Width)} {F(Height)}\" width=\"{F(Width)}\" height=\"{F(Height)}\" role=\"img\" aria-label=\"{E(Title)}\" font-family=\"system-ui, sans-serif\" font-size=\"11\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{E(Title)}</title><text x=\"0\" y=\"16\" font-size=\"13\" font-weight=\"600\">{E(Title)}</text>");
        for (var i = 0; i < Rows.Count; i++)
        {
            var row = Rows[i];
            var y = Top + (i * RowHeight);
            var weight = row.Highlight ? " font-weight=\"700\" fill=\"#b91c1c\"" : string.Empty;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(LabelWidth - 8)}\" y=\"{F(y + 13)}\" text-anchor=\"end\"{weight}><title>{E(row.Label)}</title>{E(Shown(row.Label))}</text>");
            Bar(svg, y + 2, row.First, FirstColor, FirstName, row.Label);
            Bar(svg, y + 2 + BarHeight, row.Second, SecondColor, SecondName, row.Label);
        }

        var legendY = Height - 10;
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(LabelWidth)}\" y=\"{F(legendY - 8)}\" width=\"10\" height=\"10\" fill=\"{E(FirstColor)}\"/><text x=\"{F(LabelWidth + 14)}\" y=\"{F(legendY + 1)}\">{E(FirstName)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(LabelWidth + 120)}\" y=\"{F(legendY - 8)}\" width=\"10\" height=\"10\" fill=\"{E(SecondColor)}\"/><text x=\"{F(LabelWidth + 134)}\" y=\"{F(legendY + 1)}\">{E(SecondName)}</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private void Bar(StringBuilder svg, double y, double value, string color, string name, string label)
    {
        var length = BarLength(value);
        var text = value.ToString(ValueFormat, CultureInfo.InvariantCulture);
        svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"bar\" x=\"{F(LabelWidth)}\" y=\"{F(y)}\" width=\"{F(length)}\" height=\"{F(BarHeight - 1)}\" fill=\"{E(color)}\"><title>{E(label)} {E(name)}: {E(text)}</title></rect>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(LabelWidth + length + 4)}\" y=\"{F(y + BarHeight - 1)}\" font-size=\"9\" fill=\"#4b5563\">{E(text)}</text>");
    }
}
