using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary><c>RECAL_LOG_LEVEL</c>: structured log lines on stderr when asked for, nothing otherwise.</summary>
public sealed class LoggingTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-logging-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task With_a_log_level_an_ingest_logs_its_start_end_and_quarantined_lines_on_stderr_and_the_results_are_unchanged()
    {
        // Given a project and a file with one good and one quarantined line
        (await CliRunner.RunAsync("init", _folder, "--name", "logs")).Code.Should().Be(0);
        var traffic = Path.Combine(_folder, "traffic.jsonl");
        File.WriteAllLines(traffic, [
            """{"id":"t1","timestamp":"2026-06-01T09:30:00Z","input":"refund my order"}""",
            """{"id":"t2","timestamp":"03/04/2026 10:00","input":"refund my order"}""",
        ]);

        // When it is ingested with RECAL_LOG_LEVEL=information, and again (all duplicates) with no log level
        var (code, output, error) = await CliRunner.RunWithLogLevelAsync("information", "ingest", "-p", _folder, traffic);
        var (quietCode, _, quietError) = await CliRunner.RunAsync("ingest", "-p", _folder, traffic);

        // Then stderr has the start and the summary at info and the quarantined line at warn, with event ids, and no text
        code.Should().Be(0);
        error.Should().Contain("info: Recal[1001] Ingest of traffic.jsonl started (format jsonl)");
        error.Should().Contain("info: Recal[1002] Ingest of traffic.jsonl finished: 2 lines read, 1 traces added, 0 already stored, 1 quarantined");
        error.Should().Contain("warn: Recal[1003] traffic.jsonl:2 quarantined (RC2003)");
        error.Should().NotContain("refund my order");
        output.Should().NotContain("Recal[").And.Contain("1 record(s) quarantined");

        // And without a level nothing is logged
        quietCode.Should().Be(0);
        quietError.Should().NotContain("Recal[");
    }

    [Fact]
    public async Task A_warning_level_keeps_only_warnings_and_an_unknown_level_is_named_and_logs_nothing()
    {
        (await CliRunner.RunAsync("init", _folder, "--name", "logs")).Code.Should().Be(0);
        var traffic = Path.Combine(_folder, "traffic.jsonl");
        File.WriteAllLines(traffic, ["""{"id":"t2","timestamp":"03/04/2026 10:00","input":"refund my order"}"""]);

        var (_, _, warnings) = await CliRunner.RunWithLogLevelAsync("Warning", "ingest", "-p", _folder, traffic);
        var (_, _, unknown) = await CliRunner.RunWithLogLevelAsync("loud", "ingest", "-p", _folder, traffic);

        warnings.Should().Contain("warn: Recal[1003]").And.NotContain("info: Recal[");
        unknown.Should().Contain("RECAL_LOG_LEVEL=loud is not a log level; use trace, debug, information, warning, error, critical or none").And.NotContain("Recal[");
    }
}
