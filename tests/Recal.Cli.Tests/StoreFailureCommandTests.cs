using FluentAssertions;
using Microsoft.Data.Sqlite;
using Recal.Storage.Sqlite;
using Recal.Testing;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>Store failures reach the user as one located line with exit code 2, never as a stack trace.</summary>
public sealed class StoreFailureCommandTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_store_written_by_a_newer_recal_is_refused_with_exit_code_2_and_one_clear_line()
    {
        // Given a store at schema version 99
        await using var server = new FakeOpenAIServer();
        using var project = new RunProject(server.BaseUrl, 3);
        await (await SqliteStore.OpenAsync(project.StorePath, Token)).DisposeAsync();
        Execute(project.StorePath, "INSERT INTO schema_migrations VALUES (99, 'future', 'x')");

        // When a reading and a writing command open it
        var report = await CliRunner.RunAsync("report", "-p", project.Folder);
        var run = await CliRunner.RunAsync("run", "--no-judge", "-p", project.Folder);

        // Then both say what and what to do, with exit code 2
        foreach (var result in new[] { report, run })
        {
            result.Code.Should().Be(2, result.Error);
            result.Error.Should().Contain("error RC3003").And.Contain("newer Recal").And.Contain("upgrade Recal").And.Contain(project.StorePath);
            result.Error.Should().NotContain("   at ").And.NotContain("Unhandled");
        }
    }

    [Fact]
    public async Task A_folder_in_the_place_of_the_store_stops_ingest_with_exit_code_2()
    {
        await using var server = new FakeOpenAIServer();
        using var project = new RunProject(server.BaseUrl, 3);
        Directory.CreateDirectory(project.StorePath);
        var traces = project.PathOf("t.jsonl");
        await File.WriteAllTextAsync(traces, """{"id":"a","timestamp":"2026-06-01T00:00:00Z","input":"x"}""" + "\n", Token);

        var ingest = await CliRunner.RunAsync("ingest", traces, "-p", project.Folder);

        ingest.Code.Should().Be(2);
        ingest.Error.Should().Contain("error RC3001").And.Contain("folder");
    }

    [Fact]
    public async Task Store_check_passes_a_sound_store_and_fails_a_damaged_one()
    {
        // Given a sound store with some traces
        await using var server = new FakeOpenAIServer();
        using var project = new RunProject(server.BaseUrl, 3);
        var traces = project.PathOf("t.jsonl");
        await File.WriteAllLinesAsync(traces, Enumerable.Range(0, 3000).Select(i => $$"""{"id":"t-{{i}}","timestamp":"2026-06-01T00:00:00Z","input":"question number {{i}} about a refund"}"""), Token);
        (await CliRunner.RunAsync("ingest", traces, "-p", project.Folder)).Code.Should().Be(0);

        // When it is checked, damaged in its middle, and checked again
        var sound = await CliRunner.RunAsync("store", "check", "-p", project.Folder);
        SqliteConnection.ClearAllPools();
        var bytes = await File.ReadAllBytesAsync(project.StorePath, Token);
        new Random(3).NextBytes(bytes.AsSpan(bytes.Length / 2, Math.Min(64 * 1024, bytes.Length / 2)));
        await File.WriteAllBytesAsync(project.StorePath, bytes, Token);
        var damaged = await CliRunner.RunAsync("store", "check", "-p", project.Folder);

        // Then the first passes and the second reports the damage
        sound.Code.Should().Be(0, sound.Error);
        sound.Out.Should().Contain("The store is sound");
        damaged.Code.Should().BeOneOf([1, 2], damaged.Error);
        damaged.Error.Should().MatchRegex("error RC300[14]").And.NotContain("   at ");
    }

    [Fact]
    public async Task A_store_write_failure_during_a_run_says_what_is_kept_and_how_to_resume()
    {
        // Given a store that refuses run results after the third (as a full disk would)
        await using var server = new FakeOpenAIServer();
        using var project = new RunProject(server.BaseUrl, 12, concurrency: 1);
        await (await SqliteStore.OpenAsync(project.StorePath, Token)).DisposeAsync();
        Execute(project.StorePath, "CREATE TRIGGER disk_full BEFORE INSERT ON run_cases WHEN (SELECT COUNT(*) FROM run_cases) >= 3 BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");

        // When a run is started
        var run = await CliRunner.RunAsync("run", "--no-judge", "-p", project.Folder);

        // Then it ends with exit code 2, the store's error, what is kept and the resume command
        run.Code.Should().Be(2, run.Error);
        run.Error.Should().Contain("error RC3002").And.Contain("case results are stored").And.Contain("recal run --resume");
        run.Error.Should().NotContain("   at ").And.NotContain("Unhandled");
    }

    private static void Execute(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
