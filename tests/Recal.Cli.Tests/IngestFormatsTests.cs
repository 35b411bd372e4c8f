using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary><c>recal ingest</c> on the formats other than Recal's JSONL, end to end on a fresh project.</summary>
public sealed class IngestFormatsTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-formats-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static string Otel(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Otel", name);

    [Fact]
    public async Task OTLP_files_are_detected_and_the_summary_counts_records_traces_feedback_and_orphans()
    {
        (await CliRunner.RunAsync("init", _folder, "--name", "otel")).Code.Should().Be(0);

        var (code, output, _) = await CliRunner.RunAsync("ingest", "-p", _folder, Otel("genai-conventions.jsonl"), Otel("meai-default.otlp"));

        code.Should().Be(0);
        output.Should().Contain("otlp-json").And.Contain("otlp-proto");
        output.Should().Contain("genai-conventions.jsonl (otlp-json): 7 record(s) read, 7 trace(s) made");
        output.Should().Contain("1 trace(s) have spans whose parent never arrived");
        output.Should().Contain("The store holds 12 traces");
    }

    [Fact]
    public async Task A_bad_feedback_mapping_or_a_missing_ingest_mapping_is_refused_with_what_to_write()
    {
        (await CliRunner.RunAsync("init", _folder, "--name", "otel")).Code.Should().Be(0);

        var bad = await CliRunner.RunAsync("ingest", "-p", _folder, "--feedback", "rating=stars", Otel("genai-conventions.jsonl"));
        var unmapped = await CliRunner.RunAsync("ingest", "-p", _folder, "--format", "mapped", Otel("genai-conventions.jsonl"));

        bad.Code.Should().Be(2);
        bad.Error.Should().Contain("RC2012").And.Contain("'stars' is not a signal").And.Contain("thumbs, csat");
        unmapped.Code.Should().Be(2);
        unmapped.Error.Should().Contain("needs an ingest.mapping section in recal.yaml");
    }

    [Fact]
    public async Task Any_JSON_is_read_through_the_ingest_mapping_of_recal_yaml()
    {
        (await CliRunner.RunAsync("init", _folder, "--name", "mapped")).Code.Should().Be(0);
        File.AppendAllText(Path.Combine(_folder, "recal.yaml"), """

            ingest:
              format: mapped
              mapping:
                id: $.rid
                timestamp: $.at
                input: $.q
                output: $.a
                metadata:
                  plan: $.who.plan
                feedback:
                  thumbs: $.liked
            """);
        var traffic = Path.Combine(_folder, "log.jsonl");
        File.WriteAllLines(traffic, [
            """{"rid":"1","at":"2026-06-01T10:00:00Z","q":"refund my order","a":"done","who":{"plan":"pro"},"liked":true}""",
            """{"rid":"2","q":"no time here"}""",
        ]);

        var (code, output, _) = await CliRunner.RunAsync("ingest", "-p", _folder, traffic);

        code.Should().Be(0);
        output.Should().Contain("mapped").And.Contain("1 record(s) quarantined");
        File.ReadAllText(Path.Combine(_folder, ".recal", "quarantine.jsonl")).Should().Contain("\"place\":\"log.jsonl:2 (id 2)\"").And.Contain("field 'at' ($.at) is missing");
    }
}
