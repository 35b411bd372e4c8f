using FluentAssertions;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>The server applies the project's <c>retention:</c> setting as it runs.</summary>
public sealed class RetentionTests
{
    [Fact]
    public async Task A_server_with_a_retention_setting_prunes_the_older_raw_traces_and_keeps_their_counts()
    {
        // Given a project whose store holds traces from May 2026 and which keeps raw traces for 30 days
        var token = TestContext.Current.CancellationToken;
        var folder = await Harness.NewProjectAsync("retention");
        var traces = Path.Combine(folder, "old.jsonl");
        await File.WriteAllLinesAsync(traces, Enumerable.Range(0, 20).Select(i => $$"""{"id":"old-{{i}}","timestamp":"2026-05-{{1 + i:00}}T10:00:00Z","input":"where is my order"}"""), token);
        (await Harness.RunCliAsync("ingest", traces, "-p", folder)).Code.Should().Be(0);
        File.AppendAllText(Path.Combine(folder, "recal.yaml"), "\nretention:\n  raw_traces: 30d\n  every: 1h\n");

        // When the server starts
        await using var server = await Harness.StartOnAsync(folder);

        // Then its first round prunes them, and their counts stay in the rollup
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await server.Store.GetPrunedBeforeAsync(token) is null && waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100, token);
        }

        (await server.Store.GetPrunedBeforeAsync(token)).Should().NotBeNull("the server prunes when it starts");
        var kept = 0;
        await server.Store.ScanTracesAsync(null, null, _ => kept++, token);
        kept.Should().Be(0);
        (await server.Store.GetTrafficSpanAsync(token))!.Count.Should().Be(20);
    }
}
