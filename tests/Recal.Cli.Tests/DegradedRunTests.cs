using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

public sealed class DegradedRunTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public async Task A_run_whose_errors_exceed_the_allowed_share_ends_degraded_with_exit_code_3_and_no_error_counts_as_a_pass()
    {
        // Given a replay of production outputs with no traffic ingested: no case has a recorded output
        var run = await CliRunner.RunAsync("run", "--target", "production", "--no-judge", "--limit", "20", "-p", _sample.Folder);

        // Then every case is an error, none passes, and the run is degraded
        run.Code.Should().Be(3, run.Error);
        run.Out.Should().Contain("degraded").And.MatchRegex(@"errors\s+20 \(100\.0%\) — never counted as passes");
        var report = await CliRunner.RunAsync("report", "--json", _sample.PathOf("r.json"), "-p", _sample.Folder);
        report.Code.Should().Be(0, report.Error);
        report.Out.Should().Contain("20 case(s) without a verdict").And.Contain("no output is recorded for trace");
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(_sample.PathOf("r.json"))).RootElement;
        json.GetProperty("overall").GetProperty("passed").GetInt32().Should().Be(0);
        json.GetProperty("overall").GetProperty("errors").GetInt32().Should().Be(20);
        json.GetProperty("run").GetProperty("status").GetString().Should().Be("degraded");
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(_sample.RepositoryRoot, "docs", "schemas", "run-report.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(File.ReadAllText(_sample.PathOf("r.json"))).Should().BeEmpty();

        // And a resume of a finished run is refused
        (await CliRunner.RunAsync("run", "--resume", json.GetProperty("run").GetProperty("id").GetString()!, "-p", _sample.Folder)).Error.Should().Contain("already finished");
    }
}
