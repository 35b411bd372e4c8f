using FluentAssertions;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>Stores that cannot be opened, are read-only, damaged or created by two processes at once.</summary>
public sealed class StoreFailureTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_first_opens_of_a_new_store_take_turns_at_the_migrations()
    {
        // Given ten new stores, each opened by four writers at once (as concurrent first ingests do)
        for (var trial = 0; trial < 10; trial++)
        {
            var path = Path.Combine(_fixture.Folder, $"race-{trial}", "recal.db");

            // When they open it together
            var opens = Enumerable.Range(0, 4).Select(_ => Task.Run(() => SqliteStore.OpenAsync(path, Token), Token)).ToArray();
            var stores = await Task.WhenAll(opens);

            // Then every one opens at the latest version, and each migration was applied once
            stores.Should().OnlyContain(s => s.SchemaVersion == Migrations.Latest);
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }

            Scalar(path, "SELECT COUNT(*) FROM schema_migrations").Should().Be((long)Migrations.All.Count);
        }
    }

    [Fact]
    public async Task A_folder_in_the_place_of_the_store_is_refused_with_what_to_do()
    {
        Directory.CreateDirectory(_fixture.StorePath);

        var act = () => SqliteStore.OpenAsync(_fixture.StorePath, Token);

        var refused = (await act.Should().ThrowAsync<StoreException>()).Which;
        refused.Code.Should().Be(StoreException.CannotOpen);
        refused.Message.Should().Contain("folder");
        refused.Path.Should().Be(_fixture.StorePath);
    }

    [Theory]
    [InlineData("text")]
    [InlineData("truncated")]
    [InlineData("header")]
    public async Task A_file_that_is_not_a_sound_store_is_refused_with_one_clear_error(string damage)
    {
        // Given a store with traces, then damaged
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token))
        {
            await store.AddTracesAsync([.. Enumerable.Range(0, 2000).Select(i => SqliteStoreTests.Classified($"t-{i}", DateTimeOffset.UnixEpoch.AddDays(20000).AddMinutes(i), "balance"))], Token);
        }

        Damage(_fixture.StorePath, damage);

        // When it is opened and read
        async Task Use()
        {
            await using var store = await SqliteStore.OpenReadOnlyAsync(_fixture.StorePath, Token);
            await store.GetTrafficSpanAsync(Token);
            await store.CountTrafficAsync(new TrafficQuery(), Token);
        }

        // Then the failure is a store error with a code and a hint, never a bare SQLite exception
        var act = Use;
        var failure = (await act.Should().ThrowAsync<Exception>()).Which;
        var explained = failure as StoreException ?? (failure is SqliteException sqlite ? SqliteStore.Explain(sqlite, _fixture.StorePath) : null);
        explained.Should().NotBeNull($"{failure.GetType().Name}: {failure.Message}");
        explained!.Code.Should().BeOneOf(StoreException.CannotOpen, StoreException.Damaged);
        explained.Hint.Should().NotBeNullOrEmpty();
    }

    [Fact]
    public async Task Missing_migration_rows_are_reported_as_a_schema_mismatch()
    {
        await (await SqliteStore.OpenAsync(_fixture.StorePath, Token)).DisposeAsync();
        Scalar(_fixture.StorePath, "DELETE FROM schema_migrations WHERE version >= 1 RETURNING 0");

        var act = () => SqliteStore.OpenAsync(_fixture.StorePath, Token);

        var refused = (await act.Should().ThrowAsync<StoreException>()).Which;
        refused.Code.Should().Be(StoreException.SchemaMismatch);
        refused.Message.Should().Contain("do not match its migration log");
    }

    [Fact]
    public async Task A_store_opened_for_reading_is_left_unchanged_and_refuses_writes_with_a_clear_error()
    {
        // Given a store with one trace, closed cleanly
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token))
        {
            await store.AddTracesAsync([SqliteStoreTests.Classified("a", DateTimeOffset.UnixEpoch.AddDays(20000), "x")], Token);
        }

        var before = await File.ReadAllBytesAsync(_fixture.StorePath, Token);

        // When it is opened for reading, read, a cache write is attempted and a trace write is attempted
        await using (var reader = await SqliteStore.OpenReadOnlyAsync(_fixture.StorePath, Token))
        {
            reader.IsReadOnly.Should().BeTrue();
            (await reader.GetTrafficSpanAsync(Token))!.Count.Should().Be(1);
            await reader.PutBlobAsync("cache", [1, 2, 3], Token);
            var write = async () => await reader.AddTracesAsync([SqliteStoreTests.Classified("b", DateTimeOffset.UnixEpoch.AddDays(20000), "x")], Token);
            var failure = (await write.Should().ThrowAsync<SqliteException>()).Which;

            // Then the write is explained as a read-only store, the cache write was skipped, and the file is unchanged
            SqliteStore.Explain(failure, _fixture.StorePath).Should().Match<StoreException>(e => e.Code == StoreException.WriteFailed && e.Message.Contains("read-only"));
            (await reader.GetBlobAsync("cache", Token)).Should().BeNull();
        }

        (await File.ReadAllBytesAsync(_fixture.StorePath, Token)).Should().Equal(before);
    }

    [Fact]
    public async Task A_read_only_store_file_serves_reading_commands()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows() || Environment.UserName == "root", "root may write to a read-only file");
        await (await SqliteStore.OpenAsync(_fixture.StorePath, Token)).DisposeAsync();
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(_fixture.StorePath, UnixFileMode.UserRead | UnixFileMode.GroupRead);
        }

        await using var store = await SqliteStore.OpenReadOnlyAsync(_fixture.StorePath, Token);

        (await store.GetTrafficSpanAsync(Token)).Should().BeNull();
    }

    [Fact]
    public async Task Random_bytes_in_the_middle_of_the_store_are_found_by_the_integrity_check()
    {
        // Given a store of a few thousand traces with 64 KiB of random bytes written into its middle
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token))
        {
            await store.AddTracesAsync([.. Enumerable.Range(0, 5000).Select(i => SqliteStoreTests.Classified($"t-{i}", DateTimeOffset.UnixEpoch.AddDays(20000).AddMinutes(i), "balance"))], Token);
            (await store.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();
        }

        Damage(_fixture.StorePath, "middle");

        // When the store is checked
        IReadOnlyList<string> problems;
        try
        {
            await using var damaged = await SqliteStore.OpenReadOnlyAsync(_fixture.StorePath, Token);
            problems = await damaged.CheckIntegrityAsync(cancellationToken: Token);
        }
        catch (StoreException e)
        {
            problems = [e.Message];
        }

        // Then the damage is reported
        problems.Should().NotBeEmpty();
    }

    [Fact]
    public async Task A_store_closed_cleanly_leaves_no_session_marker_and_opens_without_a_check()
    {
        // Given a store written and closed by this process
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token))
        {
            Directory.EnumerateFiles(SqliteStore.SessionsFolder(_fixture.StorePath)).Should().ContainSingle();
            await store.AddTracesAsync([SqliteStoreTests.Classified("a", DateTimeOffset.UnixEpoch.AddDays(20000), "x")], Token);
        }

        // When it is opened again
        await using var reopened = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        // Then no marker was left behind, and nothing was taken for an unclean shutdown
        reopened.UncleanShutdown.Should().BeNull();
        Directory.EnumerateFiles(SqliteStore.SessionsFolder(_fixture.StorePath)).Should().ContainSingle();
    }

    [Fact]
    public async Task A_store_left_open_by_a_stopped_process_is_checked_and_its_marker_cleared_when_sound()
    {
        // Given a sound store and the marker of a process of this host that has stopped without closing it
        await (await SqliteStore.OpenAsync(_fixture.StorePath, Token)).DisposeAsync();
        var marker = LeaveMarkerOfStoppedProcess(_fixture.StorePath, out var pid);

        // When it is opened for reading, then for writing
        string? seenByReader;
        await using (var reader = await SqliteStore.OpenReadOnlyAsync(_fixture.StorePath, Token))
        {
            seenByReader = reader.UncleanShutdown;
        }

        var markerAfterReading = File.Exists(marker);
        await using var writer = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        // Then both opens ran the check and name the process; the reader left the marker, the writer removed it
        seenByReader.Should().Be($"process {pid}");
        markerAfterReading.Should().BeTrue();
        writer.UncleanShutdown.Should().Be($"process {pid}");
        File.Exists(marker).Should().BeFalse();
    }

    [Fact]
    public async Task A_damaged_store_left_open_by_a_stopped_process_is_refused_on_open_with_the_damage_named()
    {
        // Given a store of a few thousand traces, damaged in its middle, and the marker of a stopped process
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token))
        {
            await store.AddTracesAsync([.. Enumerable.Range(0, 5000).Select(i => SqliteStoreTests.Classified($"t-{i}", DateTimeOffset.UnixEpoch.AddDays(20000).AddMinutes(i), "balance"))], Token);
        }

        Damage(_fixture.StorePath, "middle");
        LeaveMarkerOfStoppedProcess(_fixture.StorePath, out var pid);

        // When it is opened
        var open = async () => await (await SqliteStore.OpenAsync(_fixture.StorePath, Token)).DisposeAsync();

        // Then the open fails with RC3004, naming the stopped process and what the check found
        var failure = (await open.Should().ThrowAsync<StoreException>()).Which;
        failure.Code.Should().Be(StoreException.Damaged);
        failure.Message.Should().Contain($"process {pid}").And.Contain("damaged");

        // And the check's own open still reaches the store to list every problem
        await using var checking = await SqliteStore.OpenForCheckAsync(_fixture.StorePath, Token);
        (await checking.CheckIntegrityAsync(cancellationToken: Token)).Should().NotBeEmpty();
    }

    /// <summary>Runs a process that exits at once and writes a session marker in its name.</summary>
    internal static string LeaveMarkerOfStoppedProcess(string storePath, out int pid)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        pid = process.Id;
        var folder = SqliteStore.SessionsFolder(storePath);
        Directory.CreateDirectory(folder);
        var marker = Path.Combine(folder, $"{Environment.MachineName}-{pid}-0123456789abcdef");
        File.WriteAllText(marker, string.Empty);
        return marker;
    }

    private static void Damage(string path, string how)
    {
        SqliteConnection.ClearAllPools();
        var bytes = File.ReadAllBytes(path);
        switch (how)
        {
            case "text":
                File.WriteAllText(path, "this is not a database, just some text that happens to be here\n");
                break;
            case "truncated":
                File.WriteAllBytes(path, bytes[..(bytes.Length / 3)]);
                break;
            case "header":
                new Random(7).NextBytes(bytes.AsSpan(0, 100));
                File.WriteAllBytes(path, bytes);
                break;
            default:
                var middle = bytes.Length / 2;
                new Random(7).NextBytes(bytes.AsSpan(middle - 32 * 1024, Math.Min(64 * 1024, bytes.Length - middle + 32 * 1024)));
                File.WriteAllBytes(path, bytes);
                break;
        }
    }

    private static object? Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
