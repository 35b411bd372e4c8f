using System.Xml.Linq;
using FluentAssertions;
using Recal.Reporting.Svg;
using Xunit;

namespace Recal.Reporting.Tests;

public sealed class SvgChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void Line_chart_is_well_formed_svg_with_one_point_per_finite_value()
    {
        // Given a series with a gap
        var chart = new LineChart
        {
            Title = "JS <distance> & more",
            XLabels = ["w1", "w2", "w3", "w4"],
            Series = [new ChartSeries("js", "#000", [0.1, double.NaN, 0.3, 0.4])],
        };

        // When it renders
        var document = XDocument.Parse(chart.Render());

        // Then it parses as XML, escapes the title and draws three points in two path segments
        document.Root!.Name.Should().Be(Svg + "svg");
        document.Descendants(Svg + "title").First().Value.Should().Be("JS <distance> & more");
        document.Descendants(Svg + "circle").Should().HaveCount(3);
        var path = document.Descendants(Svg + "path").Single().Attribute("d")!.Value;
        path.Count(c => c == 'M').Should().Be(2);
        path.Count(c => c == 'L').Should().Be(1);
    }

    [Fact]
    public void Threshold_line_sits_at_the_threshold_value_on_the_y_axis()
    {
        // Given a chart whose y axis runs to 0.5
        var chart = new LineChart
        {
            XLabels = ["a", "b"],
            YMax = 0.5,
            Height = 228,
            Series = [new ChartSeries("s", "#000", [0.0, 0.5])],
            Thresholds = [new ChartThreshold("alarm", 0.25, "#f00")],
        };

        // When it renders
        var document = XDocument.Parse(chart.Render());
        var threshold = document.Descendants(Svg + "line").Single(l => (string?)l.Attribute("class") == "threshold");

        // Then the threshold is halfway between the plot's top (28) and bottom (228 - 48 = 180)
        double.Parse(threshold.Attribute("y1")!.Value, System.Globalization.CultureInfo.InvariantCulture).Should().Be(104);
        chart.Y(0).Should().Be(180);
        chart.Y(0.5).Should().Be(28);
    }

    [Fact]
    public void Y_ticks_fall_on_round_values_and_x_labels_are_thinned_to_fit()
    {
        // Given a 0.5-high chart with 24 weekly labels on 720 px
        var chart = new LineChart
        {
            XLabels = [.. Enumerable.Range(1, 24).Select(i => $"2026-{i:00}-01")],
            YMax = 0.5,
            Series = [new ChartSeries("s", "#000", [.. Enumerable.Repeat(0.1, 24)])],
        };

        // When it renders
        var texts = XDocument.Parse(chart.Render()).Descendants(Svg + "text").Select(t => t.Value).ToList();

        // Then the y axis reads 0.00, 0.10 ... 0.50 and only every third date is written
        texts.Should().Contain(["0.00", "0.10", "0.20", "0.30", "0.40", "0.50"]);
        texts.Count(t => t.StartsWith("2026-", StringComparison.Ordinal)).Should().Be(8);
    }

    [Theory]
    [InlineData(0.13, 0.2)]
    [InlineData(0.21, 0.25)]
    [InlineData(0.3, 0.5)]
    [InlineData(0.7, 1.0)]
    [InlineData(1.0, 1.0)]
    [InlineData(3.2, 5.0)]
    [InlineData(12, 20)]
    public void Y_axis_top_rounds_up_to_a_readable_value(double value, double expected)
    {
        LineChart.NiceCeiling(value).Should().BeApproximately(expected, 1e-12);
    }

    [Fact]
    public void Paired_bars_are_proportional_to_their_values()
    {
        // Given two rows where the largest value is 0.4
        var chart = new PairedBarChart
        {
            Width = 720,
            Rows = [new BarPair("a", 0.4, 0.1), new BarPair("b", 0.2, 0.0, Highlight: true)],
        };

        // When it renders
        var document = XDocument.Parse(chart.Render());
        var widths = document.Descendants(Svg + "rect").Where(r => (string?)r.Attribute("class") == "bar")
            .Select(r => double.Parse(r.Attribute("width")!.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

        // Then bar lengths scale linearly from the largest (720 - 80 for the shortest label column - 56 = 584 px)
        widths.Should().Equal(584, 146, 292, 0);
    }

    [Fact]
    public void Paired_bar_labels_get_the_room_they_need_and_the_longest_are_shortened_whole_in_their_tooltip()
    {
        // Given intent names of 18 characters, and one of 90
        var names = new[] { "international_visa", "cancel_subscription_and_request_a_refund_for_the_annual_plan_billed_in_advance_last_month_x" };
        var medium = new PairedBarChart { Rows = [new BarPair(names[0], 0.4, 0.1)] };
        var wide = new PairedBarChart { Rows = [new BarPair(names[0], 0.4, 0.1), new BarPair(names[1], 0.2, 0.1)] };

        // Then the label column fits the 18 characters whole, and grows for longer ones up to 45% of the chart
        medium.LabelWidth.Should().BeApproximately((18 * 6.6) + 12, 1e-9);
        medium.Shown(names[0]).Should().Be(names[0]);
        wide.LabelWidth.Should().Be(324);
        wide.Shown(names[1]).Should().EndWith("…").And.HaveLength(47);

        // And the shortened label keeps its whole name as its title
        var label = XDocument.Parse(wide.Render()).Descendants(Svg + "text").Single(t => t.Value.Contains("cancel_subscription", StringComparison.Ordinal));
        label.Element(Svg + "title")!.Value.Should().Be(names[1]);
    }
}
