using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>What <c>recal ingest</c> says about what it could not use: dropped signals, unlisted cohort values, and the CI switch.</summary>
public sealed class IngestDiagnosticsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-ingest-diag-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private async Task<string> ProjectWithTrafficAsync()
    {
        (await CliRunner.RunAsync("init", _folder, "--name", "diag")).Code.Should().Be(0);
        var traffic = Path.Combine(_folder, "traffic.jsonl");
        File.WriteAllLines(traffic, [
            """{"id":"t1","timestamp":"2026-06-01T09:30:00Z","input":"refund my order","metadata":{"plan":"enterprise"},"feedback":{"thumbs":"up","csat":9}}""",
            """{"id":"t2","timestamp":"03/04/2026 10:00","input":"refund my order"}""",
            """{"id":"t3","timestamp":"2026-06-01T09:31:00Z","input":"where is my parcel","metadata":{"plan":"enterprise"},"feedback":{"thumbs":"maybe","escalated":true}}""",
            """{"id":"t4","timestamp":"2026-06-01T09:32:00Z","input":"where is my parcel","metadata":{"plan":"trial"}}""",
            """{"id":"t5","timestamp":"2026-06-01T09:33:00Z","input":"where is my parcel","metadata":{"plan":"pro"}}""",
        ]);
        return traffic;
    }

    [Fact]
    public async Task A_bad_signal_keeps_its_trace_unlisted_cohort_values_are_named_and_a_non_iso_time_is_quarantined()
    {
        var traffic = await ProjectWithTrafficAsync();

        var (code, output, error) = await CliRunner.RunAsync("ingest", "-p", _folder, traffic);

        code.Should().Be(0);
        output.Should().Contain("The store holds 4 traces");
        output.Should().Contain("1 record(s) quarantined");
        File.ReadAllText(Path.Combine(_folder, ".recal", "quarantine.jsonl")).Should().Contain("\"line\":2").And.Contain("RC2003").And.Contain("03/04/2026 10:00");
        output.Should().Contain("2 feedback signal(s) could not be read and were left out");
        error.Should().Contain("traffic.jsonl:1: warning RC2013: field 'feedback.csat' must be a number from 1 to 5, got 9; the trace is kept without this signal");
        error.Should().Contain("traffic.jsonl:3: warning RC2013: field 'feedback.thumbs'");
        string.Join(' ', output.Split('\n', StringSplitOptions.TrimEntries)).Should()
            .Contain("cohort 'plan' (metadata field 'plan'): 3 trace(s) carry values taxonomy.yaml does not list, stored as 'unknown': enterprise (2), trial (1).");
    }

    [Fact]
    public async Task Drift_names_the_unlisted_values_a_cohorts_unknown_holds_in_the_terminal_and_the_json()
    {
        var traffic = await ProjectWithTrafficAsync();
        (await CliRunner.RunAsync("ingest", "-p", _folder, traffic)).Code.Should().Be(0);
        var json = Path.Combine(_folder, "drift.json");

        var (code, output, _) = await CliRunner.RunAsync("drift", "-p", _folder, "--intent-only", "--json", json);

        code.Should().BeOneOf(0, 1);
        string.Join(' ', output.Split('\n', StringSplitOptions.TrimEntries)).Should()
            .Contain("plan=unknown holds 3 trace(s) (75.0% of the window) whose 'plan' taxonomy.yaml does not list: enterprise (2), trial (1).");
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        var unlisted = report.RootElement.GetProperty("current").GetProperty("unlisted_cohorts");
        unlisted.GetArrayLength().Should().Be(1);
        unlisted[0].GetProperty("dimension").GetString().Should().Be("plan");
        unlisted[0].GetProperty("traces").GetInt64().Should().Be(3);
        unlisted[0].GetProperty("values")[0].GetProperty("value").GetString().Should().Be("enterprise");
        unlisted[0].GetProperty("values")[0].GetProperty("traces").GetInt64().Should().Be(2);
    }

    [Fact]
    public async Task Escalation_reads_no_data_not_0_percent_when_no_trace_carries_the_field()
    {
        // Given rated traffic of which no trace says whether it was escalated
        (await CliRunner.RunAsync("init", _folder, "--name", "silent")).Code.Should().Be(0);
        var traffic = Path.Combine(_folder, "traffic.jsonl");
        File.WriteAllLines(traffic, Enumerable.Range(0, 60).Select(i =>
            $$$"""{"id":"s{{{i}}}","timestamp":"2026-06-{{{1 + (i / 6):00}}}T10:{{{i % 60:00}}}:00Z","input":"{{{(i % 2 == 0 ? "refund my order" : "cancel my subscription")}}} {{{i}}}","feedback":{"thumbs":"{{{(i % 3 == 0 ? "down" : "up")}}}"}}"""));
        (await CliRunner.RunAsync("ingest", "-p", _folder, traffic)).Code.Should().Be(0);
        var json = Path.Combine(_folder, "drift.json");

        // When drift measures it week by week
        var drift = await CliRunner.RunAsync("drift", "-p", _folder, "--over", "weekly", "--json", json);

        // Then the escalated column says no data, the JSON has a null rate over 0 traces that say, and no escalation test ran
        drift.Code.Should().BeOneOf(0, 1);
        drift.Out.Should().Contain("no data").And.NotContain("escalation_rise");
        using var report = System.Text.Json.JsonDocument.Parse(File.ReadAllText(json));
        var online = report.RootElement.GetProperty("current").GetProperty("online");
        online.GetProperty("escalation_rate").ValueKind.Should().Be(System.Text.Json.JsonValueKind.Null);
        online.GetProperty("escalation_known").GetInt64().Should().Be(0);
        online.GetProperty("thumbs_up_rate").GetDouble().Should().BeApproximately(2.0 / 3, 0.05);
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(SampleProject.FindRepositoryRoot(), "docs", "schemas", "drift-report.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(File.ReadAllText(json)).Should().BeEmpty();
        report.RootElement.GetProperty("current").GetProperty("tests").EnumerateArray().Should().NotContain(t => t.GetProperty("instrument").GetString() == "escalation_rise");
    }

    [Fact]
    public async Task Fail_on_quarantine_exits_1_when_anything_was_left_out_and_0_on_a_clean_file()
    {
        var traffic = await ProjectWithTrafficAsync();
        var clean = Path.Combine(_folder, "clean.jsonl");
        File.WriteAllLines(clean, [File.ReadAllLines(traffic)[4]]);

        (await CliRunner.RunAsync("ingest", "-p", _folder, "--fail-on-quarantine", traffic)).Code.Should().Be(1);
        (await CliRunner.RunAsync("ingest", "-p", _folder, "--fail-on-quarantine", clean)).Code.Should().Be(0);
    }
}
