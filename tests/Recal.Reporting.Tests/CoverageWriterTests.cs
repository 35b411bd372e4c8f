using System.Text.Json;
using FluentAssertions;
using Recal.Drift;
using Recal.Reporting.Json;
using Recal.Reporting.Terminal;
using Spectre.Console;
using Xunit;

namespace Recal.Reporting.Tests;

public sealed class CoverageWriterTests
{
    [Fact]
    public void The_radius_line_says_where_the_radius_came_from_and_how_well_it_separates()
    {
        // Given a calibrated radius, one given at the 97.5th-percentile spot, and a given one without a second intent
        var calibrated = new RadiusCalibration(0.5863, RadiusSource.Calibrated, 92, 498, 76, 0.486, 0.081);
        var odd = new RadiusCalibration(0.6, RadiusSource.Calibrated, 97.5, 10, 2, null, 0.02);
        var given = new RadiusCalibration(0.7, RadiusSource.Given, null, 3, 1, null, null);

        // When each is put in words
        var calibratedLine = CoverageConsoleRenderer.RadiusLine(calibrated);
        var oddLine = CoverageConsoleRenderer.RadiusLine(odd);
        var givenLine = CoverageConsoleRenderer.RadiusLine(given);

        // Then the percentile, the counts and both error rates are named, and a given radius says so
        calibratedLine.Should().Contain("r = 0.586: the 92nd percentile").And.Contain("498 cases, 76 intents")
            .And.Contain("counts as covered about 8.1% of the time").And.Contain("within r 48.6% of the time");
        oddLine.Should().Contain("97.5th percentile").And.NotContain("own intent");
        givenLine.Should().Contain("r = 0.700 (given with --radius)").And.EndWith("cosine similarity ≥ r.");
    }

    [Fact]
    public void Json_report_is_versioned_snake_case_with_lower_case_enums_and_renders_the_worst_strata()
    {
        // Given a sampled report with two strata
        var report = new CoverageReport(1, "p", "v1", 2, ["gold"], 10, "recal-hashed-v1/d256/w0.2", 256,
            new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 6, 29, 0, 0, 0, TimeSpan.Zero), 1000, 3, 0.95,
            new RadiusCalibration(0.5, RadiusSource.Calibrated, 95, 10, 3, 0.5, 0.05),
            new CoverageEstimate(0.4, 0.35, 0.45, 300, 120, CoverageEstimator.Stratified),
            [new CoverageStratum("book_hotel", 100, 0.1, 0, 30, 0, 0, 0, 0.11, 0.31), new CoverageStratum("balance", 900, 0.9, 10, 270, 120, 0.444, 0.39, 0.50, 0.55)]);

        // When it is written as JSON and rendered
        using var json = JsonDocument.Parse(CoverageJsonWriter.ToJson(report));
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 200;
        CoverageConsoleRenderer.Render(console, report);

        // Then the JSON follows the report conventions and the terminal names the sample and the worst stratum first
        var root = json.RootElement;
        root.GetProperty("format_version").GetInt32().Should().Be(1);
        root.GetProperty("overall").GetProperty("estimator").GetString().Should().Be("stratified");
        root.GetProperty("radius").GetProperty("source").GetString().Should().Be("calibrated");
        root.GetProperty("strata")[0].GetProperty("covered_share").GetDouble().Should().Be(0);
        var text = output.ToString();
        text.Should().Contain("a stratified random sample of 300 measured (seed 3)").And.Contain("40.0% (35.0%–45.0%, 95% stratified estimator)");
        text.IndexOf("book_hotel", StringComparison.Ordinal).Should().BeLessThan(text.IndexOf("balance", StringComparison.Ordinal));
    }
}
