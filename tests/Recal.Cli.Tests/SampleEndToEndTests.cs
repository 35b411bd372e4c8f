using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>The README's first command, step by step, on a copy of the bundled sample.</summary>
public sealed class SampleEndToEndTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public async Task Sample_validates_ingests_and_shows_drift_arriving_in_the_later_weeks()
    {
        // Given the sample project
        var p = _sample.Folder;

        // When it is validated, its traffic and a broken file ingested, and drift measured week by week
        var validate = await CliRunner.RunAsync("validate", "--project", p);
        var ingest = await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"), _sample.PathOf("traffic/broken-sample.jsonl"));
        var again = await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"));
        var json = _sample.PathOf("out/drift.json");
        var html = _sample.PathOf("out/drift.html");
        var drift = await CliRunner.RunAsync("drift", "--project", p, "--over", "weekly", "--json", json, "--html", html);

        // Then validation passes, bad lines are quarantined, re-ingesting adds nothing
        validate.Code.Should().Be(0, validate.Out + validate.Error);
        validate.Out.Should().Contain("Valid:");
        ingest.Code.Should().Be(0, ingest.Error);
        ingest.Out.Should().Contain("5 record(s) quarantined");
        var quarantine = File.ReadAllLines(_sample.PathOf(".recal/quarantine.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        quarantine.Select(q => q.GetProperty("line").GetInt32()).Should().Equal(2, 3, 4, 6, 7);
        again.Out.Should().MatchRegex(@"traffic\.jsonl\.gz\s+│?\s*[\d,]+\s+│?\s*0\s");

        // And drift alarms for the current window (exit 1), quiet for weeks 1 to 5, alarming from week 6 on
        drift.Code.Should().Be(1, drift.Error);
        drift.Out.Should().Contain("ALARM missing_share");
        var reportText = await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken);
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(_sample.RepositoryRoot, "docs", "schemas", "drift-report.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(reportText).Should().BeEmpty();
        using var report = JsonDocument.Parse(reportText);
        var series = report.RootElement.GetProperty("series").EnumerateArray().ToList();
        series.Should().HaveCount(12);
        series.Take(5).Should().OnlyContain(w => w.GetProperty("alarms").GetArrayLength() == 0);
        series.Skip(5).Should().OnlyContain(w => w.GetProperty("alarms").GetArrayLength() > 0);
        var missing = report.RootElement.GetProperty("current").GetProperty("intent").GetProperty("strata").EnumerateArray()
            .Where(s => s.GetProperty("status").GetString() == "missing").Select(s => s.GetProperty("stratum").GetString()).ToList();
        missing.Should().Contain(["book_flight", "book_hotel", "car_rental"]);
        var page = await File.ReadAllTextAsync(html, TestContext.Current.CancellationToken);
        page.Should().Contain("<svg").And.Contain("book_hotel");

        // And the page fits a phone's and a laptop's width in Chromium (last: skipped without it)
        (await Recal.Testing.PageLayout.ProblemsAsync([("drift.html", page)], TestContext.Current.CancellationToken)).Should().BeEmpty();
    }

    [Fact]
    public async Task Drift_before_any_ingest_says_what_to_do()
    {
        var drift = await CliRunner.RunAsync("drift", "--project", _sample.Folder);

        drift.Code.Should().Be(2);
        drift.Error.Should().Contain("recal ingest");
    }

    [Fact]
    public async Task Policy_prints_the_sample_policy_in_plain_words()
    {
        var policy = await CliRunner.RunAsync("policy", "--project", _sample.Folder);

        policy.Code.Should().Be(0);
        policy.Out.Should().Contain("500 cases drawn from the last 4 weeks of traffic").And.Contain("out_of_scope at 3%");
    }

    [Fact]
    public async Task Missing_trace_file_is_an_error_and_the_other_files_are_still_ingested()
    {
        var ingest = await CliRunner.RunAsync("ingest", "--project", _sample.Folder, _sample.PathOf("nope.jsonl"), _sample.PathOf("traffic/broken-sample.jsonl"));

        ingest.Code.Should().Be(2);
        ingest.Error.Should().Contain("nope.jsonl: no such file");
        ingest.Out.Should().Contain("broken-sample.jsonl");
    }
}
