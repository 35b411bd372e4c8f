using System.Globalization;
using FluentAssertions;
using Recal.Project;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// <c>recal store prune</c> and the <c>retention:</c> setting on a real project: the dry run deletes nothing, the prune
/// keeps the daily counts and the keys, the store stays sound, instruments that need raw traces say the window was
/// pruned, and a setting written wrong is a located error.
/// </summary>
public sealed class StorePruneTests : IDisposable
{
    private static readonly DateTimeOffset May = new(2026, 5, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-prune-" + Guid.NewGuid().ToString("N")[..12]);

    public StorePruneTests() => ProjectScaffolder.Scaffold(_folder, "demo").Should().BeEmpty();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    /// <summary>Traces every 6 hours over 40 days from 1 May, in the project folder.</summary>
    private async Task<string> TrafficAsync()
    {
        var path = Path.Combine(_folder, "traffic.jsonl");
        string[] texts = ["how do I get a refund", "where is my order", "cancel my subscription", "talk to a human"];
        var lines = Enumerable.Range(0, 160).Select(i =>
            "{\"id\":\"t" + i.ToString("000", CultureInfo.InvariantCulture) + "\",\"timestamp\":\"" + May.AddHours(6 * i).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)
            + "\",\"input\":\"" + texts[i % texts.Length] + "\",\"feedback\":{\"thumbs\":" + (i % 3 == 0 ? "1" : "-1") + "}}");
        await File.WriteAllLinesAsync(path, lines, Token);
        return path;
    }

    private void AddToProject(string yaml) => File.AppendAllText(Path.Combine(_folder, "recal.yaml"), yaml);

    private async Task<string> WeeklyCountsAsync()
    {
        await using var store = await Storage.Sqlite.SqliteStore.OpenReadOnlyAsync(Path.Combine(_folder, ".recal", "recal.db"), Token);
        var weeks = await store.CountTrafficAsync(new Storage.TrafficQuery(Period: Storage.Period.Week), Token);
        var feedback = await store.CountFeedbackAsync(May, May.AddDays(40), Token);
        return string.Join(";", weeks.Select(w => $"{w.BucketStart:yyyy-MM-dd} {w.Intent} {w.Count}")) + $"|{feedback}";
    }

    [Fact]
    public async Task A_dry_run_deletes_nothing_and_a_prune_keeps_the_counts_and_the_keys_and_leaves_a_sound_store()
    {
        // Given 160 traces over 40 days in the project's store
        var traffic = await TrafficAsync();
        (await CliRunner.RunAsync("ingest", traffic, "-p", _folder)).Code.Should().Be(0);
        var counts = await WeeklyCountsAsync();

        // When the raw traces before 15 May are pruned, first as a dry run
        var dry = await CliRunner.RunAsync("store", "prune", "--before", "2026-05-15T13:00:00Z", "--dry-run", "-p", _folder);
        var afterDry = await WeeklyCountsAsync();
        var prune = await CliRunner.RunAsync("store", "prune", "--before", "2026-05-15T13:00:00Z", "-p", _folder);

        // Then the dry run says what would go (14 days of 4 traces, in May) and the prune does it
        dry.Code.Should().Be(0, dry.Error);
        dry.Out.Should().Contain("Would prune 56 raw traces").And.Contain("of 14 day(s) in 2026-05, before 2026-05-15 (UTC)").And.Contain("MB of trace data");
        afterDry.Should().Be(counts);
        prune.Code.Should().Be(0, prune.Error);
        prune.Out.Should().Contain("Pruned 56 raw traces").And.Contain("Kept: the daily rollup");

        // And the counts of every week are what they were, the store is sound, and the same file ingested again adds nothing
        (await WeeklyCountsAsync()).Should().Be(counts);
        var check = await CliRunner.RunAsync("store", "check", "-p", _folder);
        check.Code.Should().Be(0, check.Out + check.Error);
        var again = await CliRunner.RunAsync("ingest", traffic, "-p", _folder);
        again.Code.Should().Be(0, again.Error);
        (await WeeklyCountsAsync()).Should().Be(counts);
        await using (var store = await Storage.Sqlite.SqliteStore.OpenReadOnlyAsync(Path.Combine(_folder, ".recal", "recal.db"), Token))
        {
            (await store.GetTrafficSpanAsync(Token))!.Count.Should().Be(160);
            var kept = 0;
            await store.ScanTracesAsync(null, null, _ => kept++, Token);
            kept.Should().Be(104);
        }

        // And a second prune finds nothing to do
        var second = await CliRunner.RunAsync("store", "prune", "--before", "2026-05-15", "-p", _folder);
        second.Out.Should().Contain("Pruned nothing: no raw trace is older than 2026-05-15 (UTC)");
    }

    [Fact]
    public async Task Coverage_and_a_draw_of_a_pruned_window_say_the_raw_traces_were_pruned()
    {
        // Given a store whose raw traces before 15 May were pruned
        (await CliRunner.RunAsync("ingest", await TrafficAsync(), "-p", _folder)).Code.Should().Be(0);
        (await CliRunner.RunAsync("store", "prune", "--before", "2026-05-15", "-p", _folder)).Code.Should().Be(0);

        // When coverage and a draw read a window inside the pruned days, and a draw one across the cutoff
        var coverage = await CliRunner.RunAsync("coverage", "--from", "2026-05-02", "--to", "2026-05-09", "-p", _folder);
        var sample = await CliRunner.RunAsync("sample", "--from", "2026-05-02", "--to", "2026-05-09", "--dry-run", "-p", _folder);
        var across = await CliRunner.RunAsync("sample", "--from", "2026-05-10", "--to", "2026-05-20", "--dry-run", "-p", _folder);

        // Then each says the window was pruned and what still counts it, and the draw across takes what is kept
        (coverage.Out + coverage.Error).Should().Contain("were pruned (the store keeps them from 2026-05-15 on): coverage reads raw traces");
        sample.Code.Should().Be(2, sample.Out + sample.Error);
        sample.Error.Should().Contain("error RC3005").And.Contain("the draw reads raw traces and has none to read there");
        across.Code.Should().Be(0, across.Out + across.Error);
        across.Error.Should().Contain("warning RC3005").And.Contain("before 2026-05-15 were pruned: the draw reads the traces kept");
    }

    [Fact]
    public async Task A_retention_setting_written_wrong_is_a_located_error_and_a_prune_without_a_cutoff_says_how_to_give_one()
    {
        // Given retention settings in hours, misspelt and without raw_traces
        var without = await CliRunner.RunAsync("store", "prune", "-p", _folder);
        var wrongAge = await CliRunner.RunAsync("store", "prune", "--older-than", "3h", "-p", _folder);
        var line = File.ReadAllLines(Path.Combine(_folder, "recal.yaml")).Length + 3;
        AddToProject("\nretention:\n  raw_traces: 36h\n");
        var hours = await CliRunner.RunAsync("validate", "-p", _folder);
        File.WriteAllText(Path.Combine(_folder, "recal.yaml"), File.ReadAllText(Path.Combine(_folder, "recal.yaml")).Replace("raw_traces: 36h", "raw_tracez: 90d", StringComparison.Ordinal));
        var misspelt = await CliRunner.RunAsync("validate", "-p", _folder);

        File.WriteAllText(Path.Combine(_folder, "recal.yaml"), File.ReadAllText(Path.Combine(_folder, "recal.yaml")).Replace("raw_tracez: 90d", "raw_traces: 7d", StringComparison.Ordinal));
        var shorter = await CliRunner.RunAsync("validate", "-p", _folder);

        // Then each names the place and what to write
        without.Code.Should().Be(2);
        without.Error.Should().Contain("RC1018").And.Contain("--older-than 90d");
        hours.Code.Should().Be(1, hours.Out);
        hours.Out.Should().Contain($"recal.yaml:{line}:").And.Contain("error RC1018").And.Contain("raw traces are kept for whole days").And.Contain("e.g. 2d");
        misspelt.Out.Should().Contain("unknown key 'retention.raw_tracez'").And.Contain("'retention.raw_traces' is required");
        wrongAge.Error.Should().Contain("--older-than 3h is not a number of whole days or weeks");
        shorter.Out.Should().Contain($"recal.yaml:{line}:").And.Contain("warning RC1018").And.Contain("keeps 7 days of raw traces, fewer than the policy's traffic_window");
    }

    [Fact]
    public async Task The_retention_setting_gives_the_prune_its_cutoff()
    {
        // Given traffic from May 2026 and a setting that keeps raw traces for 30 days (today is later than June 9)
        (await CliRunner.RunAsync("ingest", await TrafficAsync(), "-p", _folder)).Code.Should().Be(0);
        AddToProject("\nretention:\n  raw_traces: 30d\n  every: 6h\n");

        // When the store is pruned without a cutoff of its own
        var prune = await CliRunner.RunAsync("store", "prune", "-p", _folder);

        // Then every trace of May and June goes (the rollup keeps them)
        prune.Code.Should().Be(0, prune.Error);
        prune.Out.Should().Contain("Pruned 160 raw traces").And.Contain("2026-05, 2026-06");
    }
}
