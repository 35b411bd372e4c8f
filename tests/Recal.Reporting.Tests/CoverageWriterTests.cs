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

    [Fact]
    public async Task Blind_spots_validate_against_the_schema_and_render_as_one_block_each()
    {
        // Given a sampled report with a focused blind spot that grew, a loose one new in the second half, and a small cluster left out
        var monday = new DateTimeOffset(2026, 7, 27, 0, 0, 0, TimeSpan.Zero);
        BlindSpotWeek[] weeks = [new(monday, 40, 0.02), new(monday.AddDays(7), 60, 0.03), new(monday.AddDays(14), 90, 0.045), new(monday.AddDays(21), 110, 0.055)];
        var travel = new BlindSpot(1, 120, 300, 0.0375, 0.025, 0.05, 2.0, weeks,
            [new("travel_notification", 80, 0.61), new("book_hotel", 40, 0.39)],
            [new("visa", 0.4, 0.01, 0.4 * Math.Log(40)), new("passport", 0.2, 0.005, 0.2 * Math.Log(40))],
            [new("id:t-1", "t-1", "travel_notification", monday.AddHours(5), "do i need a visa for japan, and how long does a passport renewal take before i travel there next month", 0.81, 0.35),
             new("id:t-2", null, "book_hotel", monday.AddHours(9), "book me a hotel in lisbon", 0.7, 0.31)],
            0.33, 0.55, 0.12, 0.4, true);
        var loose = travel with
        {
            Id = 2, Measured = 30, Traces = 75, TrafficShare = 0.009, FirstHalfShare = 0, SecondHalfShare = 0.018, Growth = null, Focus = 0.1, Focused = false, Silhouette = null,
            Terms = [new("best", 0.1, 0.05, 0.1 * Math.Log(2))],
        };
        var blindSpots = new BlindSpotReport(400, 3, ClusterCountSource.Silhouette, 20, 400, [new(2, 0.04), new(3, 0.06)], 5, 1, 4, [travel, loose]);
        var report = new CoverageReport(CoverageReport.CurrentFormatVersion, "p", "v1", 2, ["gold"], 10, "recal-hashed-v1/d256/w0.2", 256,
            monday, monday.AddDays(28), 8000, 0, 0.95,
            new RadiusCalibration(0.5, RadiusSource.Calibrated, 95, 10, 3, 0.5, 0.05),
            new CoverageEstimate(0.6, 0.55, 0.65, 1000, 600, CoverageEstimator.Stratified),
            [new CoverageStratum("travel_notification", 800, 0.1, 0, 100, 0, 0, 0, 0.04, 0.3)],
            blindSpots);

        // When it is written as JSON and rendered
        var json = CoverageJsonWriter.ToJson(report);
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(RepositoryRoot(), "docs", "schemas", "coverage-report.schema.json"), TestContext.Current.CancellationToken);
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 200;
        CoverageConsoleRenderer.Render(console, report);

        // Then the JSON is version 2 and valid, with and without blind spots; the terminal shows each blind spot compactly
        schema.Validate(json).Should().BeEmpty();
        schema.Validate(CoverageJsonWriter.ToJson(report with { BlindSpots = null })).Should().BeEmpty();
        schema.Validate(json.Replace("\"focused\": true", "\"focused\": \"yes\"", StringComparison.Ordinal)).Should().NotBeEmpty();
        using var document = JsonDocument.Parse(json);
        document.RootElement.GetProperty("format_version").GetInt32().Should().Be(2);
        document.RootElement.GetProperty("blind_spots").GetProperty("source").GetString().Should().Be("silhouette");
        var text = output.ToString();
        text.Should().Contain("k = 3, the highest mean silhouette (0.060) of k = 2–20 on 400 of them")
            .And.Contain("1 focused (a third or more of its traffic shares a distinctive word), then 1 loose; each by share of traffic. 1 cluster(s) under 5 traces (4 traces) not listed.")
            .And.Contain("#1 · about 300 traces, 120 measured (3.8% of traffic, ×2.0 growth) · median similarity to its nearest case 0.330")
            .And.Contain("strata: travel_notification 61%, book_hotel 39%")
            .And.Contain("terms: visa (40%), passport (20%)")
            .And.Contain("e.g. \"do i need a visa for japan, and how long does a passport renewal take before i …\"")
            .And.Contain("#2 (loose) · about 75 traces, 30 measured (0.9% of traffic, new in the window's second half)");
        text.IndexOf("Blind spots", StringComparison.Ordinal).Should().BeGreaterThan(text.IndexOf("travel_notification", StringComparison.Ordinal));
    }

    private static string RepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Recal.slnx")))
        {
            root = root.Parent;
        }

        return root!.FullName;
    }
}
