using System.Text.Json;
using FluentAssertions;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Storage.Sqlite;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>Blind spots on a copy of the sample: <c>recal coverage</c> clusters the uncovered traffic, <c>recal sample --from-blind-spot</c> drafts one.</summary>
public sealed class BlindSpotEndToEndTests : IDisposable
{
    /// <summary>The sample's travel intents, none of which the gold set has (the traffic adds them from week 6).</summary>
    private static readonly HashSet<string> Travel = new(StringComparer.Ordinal)
    {
        "travel_notification", "book_hotel", "book_flight", "carry_on", "car_rental", "travel_alert", "travel_suggestion", "international_visa",
        "vaccines", "plug_type", "lost_luggage", "flight_status", "exchange_rate", "timezone", "translate",
    };

    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public async Task The_largest_blind_spot_is_travel_and_drafts_drawn_from_it_are_its_uncovered_traces()
    {
        // Given the sample with its traffic ingested
        var p = _sample.Folder;
        (await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        // When coverage is measured on the latest window, and 15 drafts are drawn from blind spot 1 (twice: dry run first)
        var json = _sample.PathOf("out/coverage.json");
        var coverage = await CliRunner.RunAsync("coverage", "--project", p, "--json", json);
        var dryRun = await CliRunner.RunAsync("sample", "--project", p, "--from-blind-spot", "1", "--size", "15", "--seed", "3", "--dry-run");
        var sample = await CliRunner.RunAsync("sample", "--project", p, "--from-blind-spot", "1", "--size", "15", "--seed", "3");

        // Then the report lists focused blind spots, the first a travel topic the set has no case for
        coverage.Code.Should().Be(0, coverage.Error);
        coverage.Out.Should().Contain("Blind spots").And.MatchRegex(@"#1 · [\d,]+ traces \(\d+\.\d% of traffic");
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        var blind = report.RootElement.GetProperty("blind_spots");
        blind.GetProperty("source").GetString().Should().Be("silhouette");
        var first = blind.GetProperty("spots")[0];
        first.GetProperty("focused").GetBoolean().Should().BeTrue();
        var strata = first.GetProperty("strata").EnumerateArray().ToDictionary(s => s.GetProperty("stratum").GetString()!, s => s.GetProperty("share").GetDouble());
        strata.Where(s => Travel.Contains(s.Key)).Sum(s => s.Value).Should().BeGreaterThan(0.5);
        first.GetProperty("median_nearest_case_similarity").GetDouble().Should().BeLessThan(report.RootElement.GetProperty("radius").GetProperty("radius").GetDouble());
        var spots = blind.GetProperty("spots").EnumerateArray().ToList();
        spots.Where(s => s.GetProperty("focused").GetBoolean()).Select(s => s.GetProperty("traffic_share").GetDouble()).Should().BeInDescendingOrder();

        // And the dry run writes nothing; the draw writes 15 drafts that say where they came from
        dryRun.Code.Should().Be(0, dryRun.Error);
        dryRun.Out.Should().Contain("Blind spot #1 of").And.Contain("Dry run: 15 drafts would be written");
        sample.Code.Should().Be(0, sample.Error);
        var file = Directory.GetFiles(_sample.PathOf("drafts"), "blind-spot-1-*-s3.jsonl").Should().ContainSingle().Subject;
        var (drafts, problems) = DraftFile.Read(file);
        problems.Should().BeEmpty();
        drafts.Should().HaveCount(15).And.OnlyContain(d => d.Note!.StartsWith("blind spot 1 of ", StringComparison.Ordinal) && d.Pool == "shadow");

        // And every draft is an uncovered trace of that blind spot, as the coverage instrument computes it
        var project = EvalProjectLoader.Load(p).Project!;
        await using (var store = await SqliteStore.OpenAsync(project.Settings.StorePath, TestContext.Current.CancellationToken))
        {
            var builtin = new HashedEmbeddingGenerator();
            using var embedder = new CachedEmbeddingGenerator(builtin, store, builtin.Id);
            var outcome = await CoverageAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, embedder, builtin.Id, new CoverageRequest(), TestContext.Current.CancellationToken);
            var members = outcome.BlindSpots![0].Keys.ToHashSet(StringComparer.Ordinal);
            drafts.Should().OnlyContain(d => members.Contains("id:" + d.TraceId));
        }

        // And drawn again with the same seed the file is refused; labelling exports them
        (await CliRunner.RunAsync("sample", "--project", p, "--from-blind-spot", "1", "--size", "15", "--seed", "3")).Code.Should().Be(2);
        var export = await CliRunner.RunAsync("label", "export", "--project", p, "--csv", _sample.PathOf("out/to-label.csv"));
        export.Code.Should().Be(0, export.Error);
        (await File.ReadAllTextAsync(_sample.PathOf("out/to-label.csv"), TestContext.Current.CancellationToken)).Should().Contain(drafts[0].Id);
    }

    [Fact]
    public async Task A_blind_spot_number_out_of_range_says_how_many_there_are()
    {
        (await CliRunner.RunAsync("ingest", "--project", _sample.Folder, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        var result = await CliRunner.RunAsync("sample", "--project", _sample.Folder, "--from-blind-spot", "99", "--clusters", "4");
        var zero = await CliRunner.RunAsync("sample", "--project", _sample.Folder, "--from-blind-spot", "0", "--clusters", "4");

        result.Code.Should().Be(2);
        result.Error.Should().MatchRegex(@"there are [1-4] blind spots \(#1 to #[1-4]\)").And.Contain("--from-blind-spot 99 is not one of them");
        zero.Code.Should().Be(2);
        Directory.Exists(_sample.PathOf("drafts")).Should().BeFalse();
    }
}
