using System.Globalization;
using System.Text;
using static Recal.Reporting.Svg.SvgText;

namespace Recal.Reporting.Svg;

/// <summary>One line of a chart: a name, a colour and one value per x position (NaN for a gap).</summary>
public sealed record ChartSeries(string Name, string Color, IReadOnlyList<double> Values, bool Dashed = false);

/// <summary>A horizontal reference line, such as an alarm threshold.</summary>
public sealed record ChartThreshold(string Label, double Value, string Color);

/// <summary>
/// A small, dependency-free SVG line chart: categorical x axis, linear y axis from zero, optional thresholds.
/// Reports embed its output inline so they stay self-contained.
/// </summary>
public sealed class LineChart
{
    private const double Left = 56, Right = 16, Top = 28, Bottom = 48, LegendRowHeight = 16;

    public string Title { get; init; } = string.Empty;

    public double Width { get; init; } = 720;

    public double Height { get; init; } = 280;

    /// <summary>The y axis top; null to fit the data and thresholds with some headroom.</summary>
    public double? YMax { get; init; }

    /// <summary>Format of y tick labels, for example <c>0.00</c> or <c>0%</c>.</summary>
    public string YFormat { get; init; } = "0.00";

    public IReadOnlyList<string> XLabels { get; init; } = [];

    public IReadOnlyList<ChartSeries> Series { get; init; } = [];

    public IReadOnlyList<ChartThreshold> Thresholds { get; init; } = [];

    /// <summary>
    /// Where each x position leads when clicked (a window to drill into), or null for a chart without links: each
    /// position gets a column-wide band that opens it.
    /// </summary>
    public IReadOnlyList<string>? XLinks { get; init; }

    /// <summary>The top of the y axis actually used.</summary>
    public double EffectiveYMax
    {
        get
        {
            if (YMax is { } fixedMax)
            {
                return fixedMax;
            }

            var max = Series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(0)
                .Concat(Thresholds.Select(t => t.Value)).Max();
            return NiceCeiling(max <= 0 ? 1 : max * 1.1);
        }
    }

    /// <summary>The x pixel of category <paramref name="index"/>.</summary>
    public double X(int index)
    {
        var plot = Width - Left - Right;
        return XLabels.Count <= 1 ? Left + (plot / 2) : Left + (plot * index / (XLabels.Count - 1));
    }

    /// <summary>The y pixel of <paramref name="value"/>.</summary>
    public double Y(double value)
    {
        var plot = Height - Top - Bottom;
        var clamped = Math.Clamp(value, 0, EffectiveYMax);
        return Top + plot - (plot * clamped / EffectiveYMax);
    }

    public string Render()
    {
        var svg = new StringBuilder();
        var yMax = EffectiveYMax;
        var legend = Legend();
        var height = Height + ((legend.Count == 0 ? 0 : legend[^1].Row) * LegendRowHeight);
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {F(Width)} {F(height)}\" width=\"{F(Width)}\" height=\"{F(height)}\" role=\"img\" aria-label=\"{E(Title)}\" font-family=\"system-ui, sans-serif\" font-size=\"11\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{E(Title)}</title>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left)}\" y=\"16\" font-size=\"13\" font-weight=\"600\">{E(Title)}</text>");

        // Ticks on round steps (0.1, 0.05, 10%...), about five of them.
        var step = NiceCeiling(yMax / 5);
        var ticks = (int)Math.Round(yMax / step);
        for (var i = 0; i <= ticks; i++)
        {
            var value = step * i;
            var y = Y(value);
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{F(Left)}\" x2=\"{F(Width - Right)}\" y1=\"{F(y)}\" y2=\"{F(y)}\" stroke=\"#e5e7eb\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left - 6)}\" y=\"{F(y + 4)}\" text-anchor=\"end\" fill=\"#4b5563\">{E(value.ToString(YFormat, CultureInfo.InvariantCulture))}</text>");
        }

        // Leave about 72 px per label so dates never overlap.
        var labelEvery = Math.Max(1, (int)Math.Ceiling(XLabels.Count * 72 / (Width - Left - Right)));
        for (var i = 0; i < XLabels.Count; i += labelEvery)
        {
            // The first and last labels hang inwards so a long one is not cut at the chart's edge.
            var anchor = XLabels.Count == 1 ? "middle" : i == 0 ? "start" : i == XLabels.Count - 1 ? "end" : "middle";
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(X(i))}\" y=\"{F(Height - Bottom + 16)}\" text-anchor=\"{anchor}\" fill=\"#4b5563\">{E(XLabels[i])}</text>");
        }

        if (XLinks is { } links)
        {
            // A column per position, under the series so their values still show on hover.
            var half = XLabels.Count <= 1 ? (Width - Left - Right) / 2 : (Width - Left - Right) / (XLabels.Count - 1) / 2;
            for (var i = 0; i < XLabels.Count && i < links.Count; i++)
            {
                var x0 = Math.Max(Left, X(i) - half);
                var x1 = Math.Min(Width - Right, X(i) + half);
                svg.Append(CultureInfo.InvariantCulture, $"<a href=\"{E(links[i])}\" class=\"window\"><rect x=\"{F(x0)}\" y=\"{F(Top)}\" width=\"{F(x1 - x0)}\" height=\"{F(Height - Top - Bottom)}\" fill=\"#2563eb\" fill-opacity=\"0\"><title>{E(XLabels[i])}: open this window</title></rect></a>");
            }
        }

        foreach (var threshold in Thresholds)
        {
            var y = Y(threshold.Value);
            svg.Append(CultureInfo.InvariantCulture, $"<line class=\"threshold\" x1=\"{F(Left)}\" x2=\"{F(Width - Right)}\" y1=\"{F(y)}\" y2=\"{F(y)}\" stroke=\"{E(threshold.Color)}\" stroke-dasharray=\"6 4\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Width - Right)}\" y=\"{F(y - 4)}\" text-anchor=\"end\" fill=\"{E(threshold.Color)}\">{E(threshold.Label)}</text>");
        }

        foreach (var series in Series)
        {
            svg.Append(RenderSeries(series));
        }

        foreach (var (series, x, row) in legend)
        {
            var y = Height - 12 + (row * LegendRowHeight);
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(x)}\" y=\"{F(y - 8)}\" width=\"10\" height=\"10\" fill=\"{E(series.Color)}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(x + 14)}\" y=\"{F(y + 1)}\">{E(series.Name)}</text>");
        }

        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Where each series' legend entry goes: left to right, onto a further row when the chart's width is used up.</summary>
    private List<(ChartSeries Series, double X, int Row)> Legend()
    {
        var entries = new List<(ChartSeries, double, int)>();
        var (x, row) = (Left, 0);
        foreach (var series in Series)
        {
            var width = 24 + (series.Name.Length * 6.5);
            if (x > Left && x + width > Width - Right)
            {
                (x, row) = (Left, row + 1);
            }

            entries.Add((series, x, row));
            x += width;
        }

        return entries;
    }

    private string RenderSeries(ChartSeries series)
    {
        var svg = new StringBuilder();
        var path = new StringBuilder();
        var penDown = false;
        for (var i = 0; i < series.Values.Count && i < XLabels.Count; i++)
        {
            var value = series.Values[i];
            if (!double.IsFinite(value))
            {
                penDown = false;
                continue;
            }

            path.Append(CultureInfo.InvariantCulture, $"{(penDown ? "L" : "M")}{F(X(i))},{F(Y(value))} ");
            penDown = true;
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{F(X(i))}\" cy=\"{F(Y(value))}\" r=\"3\" fill=\"{E(series.Color)}\"><title>{E(series.Name)} {E(XLabels[i])}: {E(value.ToString(YFormat, CultureInfo.InvariantCulture))}</title></circle>");
        }

        var dash = series.Dashed ? " stroke-dasharray=\"3 3\"" : string.Empty;
        return $"<path class=\"series\" d=\"{path.ToString().TrimEnd()}\" fill=\"none\" stroke=\"{E(series.Color)}\" stroke-width=\"2\"{dash}/>" + svg;
    }

    /// <summary>Rounds up to 1, 2, 2.5 or 5 times a power of ten, so tick labels stay readable.</summary>
    internal static double NiceCeiling(double value)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1.0, 2.0, 2.5, 5.0, 10.0 })
        {
            if (step * magnitude >= value - 1e-12)
            {
                return step * magnitude;
            }
        }

        return 10 * magnitude;
    }
}
