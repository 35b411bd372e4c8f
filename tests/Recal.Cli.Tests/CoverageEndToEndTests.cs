using System.Text.Json;
using FluentAssertions;
using Recal.Testing;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary><c>recal coverage</c> on a copy of the sample, after ingesting its twelve weeks of traffic.</summary>
public sealed class CoverageEndToEndTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public async Task The_latest_window_is_clearly_less_covered_than_the_weeks_the_set_was_drawn_from()
    {
        // Given the sample with its traffic ingested (the gold set was drawn from weeks 1 to 4; travel arrives in week 6)
        var p = _sample.Folder;
        (await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        // When coverage is measured on the latest window (the policy's 28 days), then on the first four weeks
        var latestJson = _sample.PathOf("out/coverage-latest.json");
        var earlyJson = _sample.PathOf("out/coverage-early.json");
        var latest = await CliRunner.RunAsync("coverage", "--project", p, "--json", latestJson);
        var early = await CliRunner.RunAsync("coverage", "--project", p, "--from", "2026-06-01", "--to", "2026-06-29", "--json", earlyJson);

        // Then both reports validate, the radius says how it was calibrated, and the second run embeds only what the first had not
        latest.Code.Should().Be(0, latest.Error);
        early.Code.Should().Be(0, early.Error);
        latest.Out.Should().Contain("95th percentile of each eval case's similarity to its nearest case of another intent");
        latest.Error.Should().MatchRegex(@"embeddings: [\d,]+ computed, 0 from the store's cache");
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(_sample.RepositoryRoot, "docs", "schemas", "coverage-report.schema.json"), TestContext.Current.CancellationToken);
        foreach (var file in new[] { latestJson, earlyJson })
        {
            schema.Validate(await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).Should().BeEmpty();
        }

        // And the weeks the set came from are about 60% covered, today's traffic under 40% (measured 59.9% and 37.9%),
        // with the travel intents the set lacks at the top of the table, hardly covered at all
        using var latestReport = JsonDocument.Parse(await File.ReadAllTextAsync(latestJson, TestContext.Current.CancellationToken));
        using var earlyReport = JsonDocument.Parse(await File.ReadAllTextAsync(earlyJson, TestContext.Current.CancellationToken));
        var latestShare = latestReport.RootElement.GetProperty("overall").GetProperty("share").GetDouble();
        var earlyShare = earlyReport.RootElement.GetProperty("overall").GetProperty("share").GetDouble();
        earlyShare.Should().BeGreaterThan(0.52);
        latestShare.Should().BeLessThan(0.45);
        (earlyShare - latestShare).Should().BeGreaterThan(0.15);
        earlyReport.RootElement.GetProperty("overall").GetProperty("upper").GetDouble()
            .Should().BeGreaterThan(earlyShare).And.BeLessThan(earlyShare + 0.02);
        var strata = latestReport.RootElement.GetProperty("strata").EnumerateArray()
            .ToDictionary(s => s.GetProperty("stratum").GetString()!, s => s.GetProperty("covered_share").GetDouble());
        new[] { "book_flight", "book_hotel", "car_rental", "travel_alert" }.Should().OnlyContain(s => strata[s] < 0.05);
        latestReport.RootElement.GetProperty("strata")[0].GetProperty("eval_cases").GetInt32().Should().Be(0);
        latest.Out.Should().Contain("travel_notification");
    }

    [Fact]
    public async Task A_window_past_the_limit_is_estimated_on_a_stratified_sample_close_to_the_full_measure()
    {
        // Given the sample with its traffic ingested
        var p = _sample.Folder;
        (await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        // When the latest window (about 12,000 traces) is measured in full, then on a sample of about 6,000
        var fullJson = _sample.PathOf("out/full.json");
        var sampleJson = _sample.PathOf("out/sample.json");
        await CliRunner.RunAsync("coverage", "--project", p, "--json", fullJson);
        var sampled = await CliRunner.RunAsync("coverage", "--project", p, "--max-traces", "6000", "--seed", "7", "--json", sampleJson);

        // Then the sample says so, and its interval holds the full measure
        sampled.Code.Should().Be(0, sampled.Error);
        sampled.Out.Should().MatchRegex(@"a stratified random sample of [\d,]+ measured \(seed 7\)").And.Contain("stratified estimator");
        using var full = JsonDocument.Parse(await File.ReadAllTextAsync(fullJson, TestContext.Current.CancellationToken));
        using var sample = JsonDocument.Parse(await File.ReadAllTextAsync(sampleJson, TestContext.Current.CancellationToken));
        var truth = full.RootElement.GetProperty("overall").GetProperty("share").GetDouble();
        var overall = sample.RootElement.GetProperty("overall");
        overall.GetProperty("estimator").GetString().Should().Be("stratified");
        overall.GetProperty("measured").GetInt32().Should().BeInRange(5900, 6100);
        overall.GetProperty("lower").GetDouble().Should().BeLessThan(truth);
        overall.GetProperty("upper").GetDouble().Should().BeGreaterThan(truth);
    }

    [Fact]
    public async Task An_openai_compatible_embedder_is_asked_once_per_distinct_text_and_the_cache_answers_the_rerun()
    {
        // Given the sample's traffic and a loopback embeddings endpoint with its key in the environment
        var p = _sample.Folder;
        (await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);
        await using var server = new FakeOpenAIServer();
        Environment.SetEnvironmentVariable("RECAL_TEST_COVERAGE_KEY", "sk-coverage");
        string[] args = ["coverage", "--project", p, "--from", "2026-08-17", "--to", "2026-08-24", "--embedder", "openai",
            "--embedding-url", server.BaseUrl.ToString(), "--embedding-model", "embed-small", "--embedding-key-env", "RECAL_TEST_COVERAGE_KEY"];

        // When coverage is measured with it named on the command line, then again with it named in recal.yaml
        var first = await CliRunner.RunAsync(args);
        var requests = server.Requests.Count;
        File.AppendAllText(_sample.PathOf("recal.yaml"), $"\nembeddings:\n  type: openai\n  base_url: {server.BaseUrl}\n  model: embed-small\n  api_key_env: RECAL_TEST_COVERAGE_KEY\n");
        var second = await CliRunner.RunAsync("coverage", "--project", p, "--from", "2026-08-17", "--to", "2026-08-24");

        // Then the first run sent every distinct text once, in batches, with the key; the second, the same embedder
        // read from recal.yaml, sent nothing
        first.Code.Should().Be(0, first.Error);
        first.Out.Should().Contain($"openai-compatible/{server.BaseUrl.AbsoluteUri.TrimEnd('/')}/embed-small");
        var inputs = server.Requests.SelectMany(r => r.EmbeddingInputs).ToList();
        inputs.Should().OnlyHaveUniqueItems();
        requests.Should().BeGreaterThan(1);
        server.Requests.Should().OnlyContain(r => r.Authorization == "Bearer sk-coverage" && r.Model == "embed-small");
        second.Code.Should().Be(0, second.Error);
        second.Out.Should().Contain($"openai-compatible/{server.BaseUrl.AbsoluteUri.TrimEnd('/')}/embed-small");
        server.Requests.Count.Should().Be(requests);
        second.Error.Should().Contain($"embeddings: 0 computed, {inputs.Count:N0} from the store's cache");
    }

    [Fact]
    public async Task Coverage_names_what_is_missing_before_it_can_run()
    {
        var empty = await CliRunner.RunAsync("coverage", "--project", _sample.Folder);
        var noModel = await CliRunner.RunAsync("coverage", "--project", _sample.Folder, "--embedder", "openai", "--embedding-url", "http://127.0.0.1:9/v1");
        var noKey = await CliRunner.RunAsync("coverage", "--project", _sample.Folder, "--embedder", "openai", "--embedding-url", "http://127.0.0.1:9/v1",
            "--embedding-model", "m", "--embedding-key-env", "RECAL_TEST_UNSET_COVERAGE_KEY");

        empty.Code.Should().Be(2);
        empty.Error.Should().Contain("recal ingest");
        noModel.Code.Should().Be(2);
        (noModel.Out + noModel.Error).Should().Contain("the openai embedder needs a base URL and a model");
        noKey.Code.Should().Be(2);
        noKey.Error.Should().Contain("RECAL_TEST_UNSET_COVERAGE_KEY");
    }

    [Fact]
    public async Task Drift_without_a_usable_embedder_says_so_and_intent_only_compares_the_mix_alone()
    {
        // Given the sample's traffic
        var p = _sample.Folder;
        (await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        // When drift is asked for an endpoint embedder without its model, then for the mix alone
        var broken = await CliRunner.RunAsync("drift", "--project", p, "--embedder", "openai", "--embedding-url", "http://127.0.0.1:9/v1");
        var json = _sample.PathOf(".recal/intent-only.json");
        var intentOnly = await CliRunner.RunAsync("drift", "--project", p, "--over", "weekly", "--intent-only", "--json", json);

        // Then the first cannot run and says what is missing and how to do without; the second has no timeline
        broken.Code.Should().Be(2);
        broken.Error.Should().Contain("needs a base URL and a model").And.Contain("--intent-only");
        intentOnly.Code.Should().Be(1, intentOnly.Error);
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        report.RootElement.GetProperty("reference").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        report.RootElement.GetProperty("series").EnumerateArray().Should().OnlyContain(w => w.GetProperty("coverage").ValueKind == System.Text.Json.JsonValueKind.Null);
        report.RootElement.GetProperty("runs").GetArrayLength().Should().Be(0);
    }
}
