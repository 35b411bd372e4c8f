using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>Offline vs online in the run report, on the sample's traffic (users like travel and out-of-scope answers less).</summary>
public sealed class OnlineAgreementTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    private async Task<JsonElement> RunAndReport(string target, string file)
    {
        var run = await CliRunner.RunAsync("run", "-t", target, "--no-judge", "--pool", "gold", "shadow", "-p", _sample.Folder);
        run.Code.Should().Be(0, run.Error);
        var report = await CliRunner.RunAsync("report", "--json", _sample.PathOf(file), "-p", _sample.Folder);
        report.Code.Should().Be(0, report.Error);
        var text = File.ReadAllText(_sample.PathOf(file));
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(_sample.RepositoryRoot, "docs", "schemas", "run-report.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(text).Should().BeEmpty();
        return JsonDocument.Parse(text).RootElement.GetProperty("online");
    }

    [Fact]
    public async Task A_score_that_is_flat_across_strata_cannot_track_users_and_one_that_fails_where_users_are_unhappy_does()
    {
        // Given the sample's traffic, where travel and out-of-scope answers get fewer thumbs up
        (await CliRunner.RunAsync("ingest", _sample.PathOf("traffic/traffic.jsonl.gz"), "-p", _sample.Folder)).Code.Should().Be(0);

        // When production's own answers are replayed: they match the references everywhere, so the pass rate is flat
        var flat = await RunAndReport("production", "flat.json");
        var check = await CliRunner.RunAsync("check", "-p", _sample.Folder);
        check.Code.Should().Be(1, check.Out + check.Error);
        check.Out.Should().MatchRegex(@"drifting\s+intent mix\s+\d+ alarm").And.MatchRegex(@"drifting\s+offline vs online").And.MatchRegex(@"drifting\s+coverage\s+[\s\S]*?travel_notification").And.MatchRegex(@"healthy\s+gold vs shadow")
            .And.MatchRegex(@"unknown\s+staleness").And.Contain("instrument(s) drifting");

        // Then the report says the eval cannot rank strata as users do
        flat.GetProperty("diverges").GetBoolean().Should().BeTrue();
        flat.GetProperty("thumbs_rho").ValueKind.Should().Be(JsonValueKind.Null);
        flat.GetProperty("strata").GetInt32().Should().BeGreaterThan(20);

        // And a system that fails exactly the travel and out-of-scope cases is ranked as users rank them
        var results = Directory.EnumerateFiles(_sample.PathOf("cases"), "*.jsonl").SelectMany(File.ReadLines).Select(line =>
        {
            var root = JsonDocument.Parse(line).RootElement;
            var tags = root.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ToList();
            var wrong = tags.Contains("travel") || root.GetProperty("intent").GetString() == "out_of_scope";
            return JsonSerializer.Serialize(new Dictionary<string, string?> { ["case_id"] = root.GetProperty("id").GetString(), ["output"] = wrong ? "No." : root.GetProperty("references")[0].GetProperty("text").GetString() });
        });
        File.WriteAllLines(_sample.PathOf("mirror.jsonl"), results);
        File.WriteAllText(_sample.PathOf("recal.yaml"), File.ReadAllText(_sample.PathOf("recal.yaml")).Replace(
            "  production:", "  mirror:\n    type: replay\n    source: file\n    file: mirror.jsonl\n  production:", StringComparison.Ordinal));
        var tracking = await RunAndReport("mirror", "tracking.json");
        tracking.GetProperty("diverges").GetBoolean().Should().BeFalse();
        tracking.GetProperty("thumbs_rho").GetDouble().Should().BeGreaterThan(0.3);
        tracking.GetProperty("thumbs_p_value").GetDouble().Should().BeLessThan(0.05);
    }
}
