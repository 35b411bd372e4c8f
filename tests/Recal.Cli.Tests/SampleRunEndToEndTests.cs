using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using Recal.Project;
using Recal.Samples.Bot;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// The sample's score side, end to end: the sample support bot served in-process on loopback, the two bot versions
/// run with the judge ensemble over gold and shadow, and their reports side by side with today's traffic.
/// </summary>
public sealed partial class SampleRunEndToEndTests : IAsyncLifetime
{
    private const string BotUrlVariable = "${RECAL_SAMPLE_BOT_URL:-http://127.0.0.1:8711/v1}";
    private readonly SampleProject _sample = new();
    private SampleBotServer? _bot;

    public async ValueTask InitializeAsync()
    {
        var loaded = EvalProjectLoader.Load(_sample.Folder);
        var bot = SupportBot.Create(loaded.Project ?? throw new InvalidOperationException(string.Join(Environment.NewLine, loaded.Diagnostics)));
        _bot = await SampleBotServer.StartAsync(bot, cancellationToken: TestContext.Current.CancellationToken);

        // The copy points at this bot; no environment variable is set, so parallel tests see nothing of it.
        var recalYaml = _sample.PathOf("recal.yaml");
        var text = await File.ReadAllTextAsync(recalYaml, TestContext.Current.CancellationToken);
        text.Should().Contain(BotUrlVariable);
        await File.WriteAllTextAsync(recalYaml, text.Replace(BotUrlVariable, _bot.BaseUrl.ToString(), StringComparison.Ordinal), TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_bot is not null)
        {
            await _bot.DisposeAsync();
        }

        _sample.Dispose();
    }

    [Fact]
    public async Task The_gold_tuned_bot_beats_the_baseline_on_gold_but_its_traffic_weighted_estimate_is_lower()
    {
        // Given the sample with its twelve weeks of traffic ingested
        var p = _sample.Folder;
        var ingest = await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"));
        ingest.Code.Should().Be(0, ingest.Error);

        // When both bot versions run over gold and shadow with the judges
        var baseline = await CliRunner.RunAsync("run", "--project", p, "-t", "baseline", "--pool", "gold", "shadow");
        var tuned = await CliRunner.RunAsync("run", "--project", p, "-t", "gold-tuned", "--pool", "gold", "shadow");

        // Then both complete, every case called once and judged by three judges
        baseline.Code.Should().Be(0, baseline.Out + baseline.Error);
        tuned.Code.Should().Be(0, tuned.Out + tuned.Error);
        baseline.Out.Should().MatchRegex(@"calls\s+798 answered by a call, 0 from the cache").And.Contain("support-answer@v1 × 3");
        var baselineId = RunId(baseline.Out);
        var tunedId = RunId(tuned.Out);
        baselineId.Should().EndWith("-baseline");
        tunedId.Should().EndWith("-gold-tuned");

        // And the reports show the gold score up and the traffic-weighted estimate down
        var baselineReport = await ReportAsync(baselineId);
        var tunedReport = await ReportAsync(tunedId);
        var baselineGold = GoldPassRate(baselineReport);
        var tunedGold = GoldPassRate(tunedReport);
        tunedGold.Should().BeGreaterThan(baselineGold);
        tunedGold.Should().BeGreaterThan(0.9, "the tuned bot was tuned until it aced gold");
        var baselineWeighted = Weighted(baselineReport);
        var tunedWeighted = Weighted(tunedReport);
        tunedWeighted.Should().BeLessThan(baselineWeighted);
        tunedReport.RootElement.GetProperty("run").GetProperty("status").GetString().Should().Be("completed");
        tunedReport.RootElement.GetProperty("judges").GetProperty("cases").GetInt32().Should().Be(798);
        baselineReport.Dispose();
        tunedReport.Dispose();

        // And a warm re-run makes no call, target or judge
        var warm = await CliRunner.RunAsync("run", "--project", p, "-t", "baseline", "--pool", "gold", "shadow");
        warm.Code.Should().Be(0, warm.Out + warm.Error);
        warm.Out.Should().MatchRegex(@"calls\s+0 answered by a call, 798 from the cache, 0 retries").And.MatchRegex(@"support-answer@v1 × 3: 0 calls");
        var warmReport = await CliRunner.RunAsync("report", "--project", p, RunId(warm.Out));
        warmReport.Out.Should().Contain("0 answered by a call, 798 from the cache");

        // And the list shows the three runs, newest first
        var list = await CliRunner.RunAsync("report", "--project", p, "--list");
        list.Code.Should().Be(0);
        var listed = RunIdPattern().Matches(list.Out).Select(m => m.Value).ToList();
        listed.Should().Equal(RunId(warm.Out), tunedId, baselineId);
        list.Out.Should().Contain("completed").And.Contain("gold,shadow");

        // And the drift timeline puts the score next to its gaps: every run with its pools and gold − shadow gap, and
        // the two releases, gold ranking the tuned one higher while its users' mix-standardised thumbs-up rate is lower
        var driftJson = _sample.PathOf(".recal/timeline.json");
        var drift = await CliRunner.RunAsync("drift", "--project", p, "--over", "weekly", "--json", driftJson, "--html", _sample.PathOf(".recal/timeline.html"));
        drift.Code.Should().Be(1, drift.Error);
        drift.Out.Should().Contain("ALARM offline_online_releases");
        using var timeline = JsonDocument.Parse(File.ReadAllText(driftJson));
        var root = timeline.RootElement;
        var runs = root.GetProperty("runs").EnumerateArray().ToList();
        runs.Select(r => r.GetProperty("run_id").GetString()).Should().Equal(baselineId, tunedId, RunId(warm.Out));
        runs[1].GetProperty("release").GetString().Should().Be("support-bot-2026.07");
        runs[1].GetProperty("gold_shadow_gap").GetDouble().Should().BeApproximately(tunedGold - runs[1].GetProperty("shadow").GetDouble(), 1e-12).And.BeGreaterThan(0.3);
        var releases = root.GetProperty("releases").GetProperty("releases").EnumerateArray().ToList();
        releases.Select(r => r.GetProperty("release").GetString()).Should().Equal("support-bot-2026.05", "support-bot-2026.07");
        releases[1].GetProperty("gold_pass_rate").GetDouble().Should().BeGreaterThan(releases[0].GetProperty("gold_pass_rate").GetDouble());
        releases[1].GetProperty("online_rate").GetDouble().Should().BeLessThan(releases[0].GetProperty("online_lower").GetDouble());
        root.GetProperty("current").GetProperty("alarms").EnumerateArray().Select(a => a.GetProperty("instrument").GetString()).Should().Contain(["offline_online_releases", "coverage_drop"]);
        File.ReadAllText(_sample.PathOf(".recal/timeline.html")).Should().Contain("The score over time, next to its gaps").And.Contain("Offline vs online across releases").And.Contain("Embedding coverage");
    }

    private static double GoldPassRate(JsonDocument report) =>
        report.RootElement.GetProperty("segments").EnumerateArray()
            .Single(s => s.GetProperty("dimension").GetString() == "pool" && s.GetProperty("value").GetString() == "gold")
            .GetProperty("pass_rate").GetDouble();

    private static double Weighted(JsonDocument report) =>
        report.RootElement.GetProperty("weighted").GetProperty("estimate").GetProperty("estimate").GetDouble();

    private static string RunId(string output) => RunIdPattern().Match(output) is { Success: true } match ? match.Value : throw new InvalidOperationException("no run id in:\n" + output);

    [GeneratedRegex(@"\d{8}-\d{6}-[a-z-]+")]
    private static partial Regex RunIdPattern();

    private async Task<JsonDocument> ReportAsync(string runId)
    {
        var file = _sample.PathOf($"out/{runId}.json");
        var report = await CliRunner.RunAsync("report", "--project", _sample.Folder, runId, "--json", file);
        report.Code.Should().Be(0, report.Error);
        var text = await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken);
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(_sample.RepositoryRoot, "docs", "schemas", "run-report.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(text).Should().BeEmpty("the report must match docs/schemas/run-report.schema.json");
        return JsonDocument.Parse(text);
    }
}
