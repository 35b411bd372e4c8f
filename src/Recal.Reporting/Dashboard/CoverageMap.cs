using System.Globalization;
using System.Text;
using Recal.Drift;
using static Recal.Reporting.Svg.SvgText;

namespace Recal.Reporting.Dashboard;

/// <summary>
/// The coverage map as an SVG scatter plot: covered traffic grey, uncovered red, eval cases blue; each point's text on
/// hover, a trace's point opening the trace.
/// </summary>
public sealed class CoverageMap(CoverageMapModel model)
{
    private const double Width = 720, Height = 480, Margin = 24;

    public CoverageMapModel Model { get; } = model ?? throw new ArgumentNullException(nameof(model));

    public string Render()
    {
        var points = Model.Points;
        var (minX, maxX) = Range(points.Select(p => p.X));
        var (minY, maxY) = Range(points.Select(p => p.Y));
        double X(double x) => Margin + ((x - minX) / (maxX - minX) * (Width - (2 * Margin)));
        double Y(double y) => Height - Margin - ((y - minY) / (maxY - minY) * (Height - (2 * Margin) - 20));

        var title = string.Create(CultureInfo.InvariantCulture, $"Traffic and eval cases on two principal components ({Model.Explained[0]:0.0%} and {Model.Explained[1]:0.0%} of the variance; {Model.TrafficPoints:N0} of {Model.TrafficMeasured:N0} measured traces)");
        var heading = string.Create(CultureInfo.InvariantCulture, $"Principal components 1 ({Model.Explained[0]:0.0%}) and 2 ({Model.Explained[1]:0.0%} of the variance)");
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {F(Width)} {F(Height)}\" width=\"{F(Width)}\" height=\"{F(Height)}\" role=\"img\" aria-label=\"{E(title)}\" font-family=\"system-ui, sans-serif\" font-size=\"11\">");
        svg.Append(CultureInfo.InvariantCulture, $"<title>{E(title)}</title><text x=\"{F(Margin)}\" y=\"16\" font-size=\"12\" font-weight=\"600\">{E(heading)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(Margin)}\" y=\"{F(Margin + 8)}\" width=\"{F(Width - (2 * Margin))}\" height=\"{F(Height - (2 * Margin) - 8)}\" fill=\"none\" stroke=\"#e5e7eb\"/>");

        // Covered traffic first, uncovered over it, cases on top: what needs attention is never hidden.
        foreach (var kind in new[] { MapPointKind.Covered, MapPointKind.Uncovered, MapPointKind.Case })
        {
            var (color, radius, name) = kind switch
            {
                MapPointKind.Covered => ("#9ca3af", 2.0, "covered"),
                MapPointKind.Uncovered => ("#dc2626", 2.5, "uncovered"),
                _ => ("#2563eb", 3.5, "eval case"),
            };
            svg.Append(CultureInfo.InvariantCulture, $"<g class=\"{name.Replace(' ', '-')}\" fill=\"{color}\" fill-opacity=\"{(kind == MapPointKind.Covered ? "0.5" : "0.8")}\">");
            foreach (var point in points.Where(p => p.Kind == kind))
            {
                var dot = string.Create(CultureInfo.InvariantCulture, $"<circle cx=\"{F(X(point.X))}\" cy=\"{F(Y(point.Y))}\" r=\"{F(radius)}\"><title>{E(name)}: {E(point.Label)}</title></circle>");
                svg.Append(kind == MapPointKind.Case ? dot : $"<a href=\"{E(DashboardPages.TraceLink(point.Key))}\">{dot}</a>");
            }

            svg.Append("</g>");
        }

        var legendY = Height - 6;
        var x = Margin;
        foreach (var (color, label) in new[] { ("#9ca3af", "covered traffic"), ("#dc2626", "uncovered traffic"), ("#2563eb", "eval case") })
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{F(x)}\" y=\"{F(legendY - 9)}\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{F(x + 14)}\" y=\"{F(legendY)}\">{E(label)}</text>");
            x += 130;
        }

        return svg.Append("</svg>").ToString();
    }

    private static (double Min, double Max) Range(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count == 0)
        {
            return (0, 1);
        }

        var (min, max) = (list.Min(), list.Max());
        return max - min < 1e-12 ? (min - 1, max + 1) : (min, max);
    }
}
