using FluentAssertions;
using Recal.Reporting.Terminal;
using Spectre.Console;
using Xunit;

namespace Recal.Reporting.Tests;

public sealed class FitTableTests
{
    private static (IAnsiConsole Console, StringWriter Text) At(int width)
    {
        var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(text), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
        console.Profile.Width = width;
        return (console, text);
    }

    private static FitTable Sample() => new FitTable("weeks")
        .Column("period")
        .Column("traces", rightAligned: true, priority: 1)
        .Column("missing share", "missing", rightAligned: true, priority: 2)
        .Column("escalation rate", "esc", rightAligned: true, priority: 3)
        .Column("alarms", priority: 1, wraps: true)
        .Row("2026-06-01", "1,234,567", "25.0%", "3.1%", "none")
        .Row("2026-06-08", "3,000", "12.5%", "4.0%", "cohort_js_distance:plan missing_share");

    [Theory]
    [InlineData(80)]
    [InlineData(50)]
    [InlineData(36)]
    public void Never_splits_a_number_or_a_name_and_keeps_every_line_within_the_width(int width)
    {
        // Given a table wider than the narrow widths
        var (console, text) = At(width);

        // When it is rendered
        Sample().Render(console);

        // Then every line fits, every number and alarm name is whole, and what did not fit is listed below
        var output = text.ToString();
        output.Split('\n').Should().OnlyContain(l => l.TrimEnd('\r').Length <= width, output);
        output.Should().Contain("1,234,567").And.Contain("3,000").And.Contain("25.0%").And.Contain("cohort_js_distance:plan").And.Contain("missing_share");
    }

    [Fact]
    public void Abbreviates_headers_before_leaving_columns_out_and_then_drops_the_least_important_first()
    {
        var table = Sample();
        table.Layout(200).Shown.Should().Equal(0, 1, 2, 3, 4);
        table.Layout(200).ShortHeaders.Should().BeFalse();
        var (shown, shortHeaders) = table.Layout(70);
        shortHeaders.Should().BeTrue();
        shown.Should().Equal(0, 1, 2, 3, 4);
        table.Layout(40).Shown.Should().Equal(0, 1, 2);
    }

    [Fact]
    public void Wraps_text_between_words_with_a_hanging_indent()
    {
        TerminalText.Wrap("  one two three four", 10, 4).Should().Equal("  one two", "    three", "    four");
        TerminalText.WrapUnits("k  ", ["a 1", "b 2", "c 3"], "; ", 12, 3).Should().Equal("k  a 1; b 2;", "   c 3");
    }
}
