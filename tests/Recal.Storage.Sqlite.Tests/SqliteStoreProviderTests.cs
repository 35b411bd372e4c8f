using FluentAssertions;
using Microsoft.Data.Sqlite;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>The SQLite provider behind the <c>store:</c> setting: files, its note on an unclean shutdown, its failures explained.</summary>
public sealed class SqliteStoreProviderTests : IDisposable
{
    private readonly StoreFixture _fixture = new();
    private readonly SqliteStoreProvider _provider = new();

    public void Dispose() => _fixture.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Opens_a_plain_path_and_a_sqlite_uri_as_the_same_file()
    {
        var location = StoreLocation.Parse("sqlite:.recal/recal.db", _fixture.Folder);

        var existedBefore = await _provider.ExistsAsync(location, Token);
        await using (var store = await _provider.OpenAsync(location, cancellationToken: Token))
        {
            await store.AddTracesAsync([SqliteStoreTests.Classified("a", DateTimeOffset.UnixEpoch.AddDays(20000), "x")], Token);
        }

        await using var read = await _provider.OpenReadOnlyAsync(StoreLocation.ForFile(_fixture.StorePath), cancellationToken: Token);

        existedBefore.Should().BeFalse();
        (await _provider.ExistsAsync(location, Token)).Should().BeTrue();
        _provider.Schemes.Should().Equal("sqlite");
        read.Should().BeOfType<SqliteStore>().Which.Path.Should().Be(_fixture.StorePath);
        (await read.GetTrafficSpanAsync(Token)).Should().NotBeNull();
    }

    [Fact]
    public async Task Notes_a_store_left_open_by_a_stopped_process()
    {
        await (await SqliteStore.OpenAsync(_fixture.StorePath, Token)).DisposeAsync();
        StoreFailureTests.LeaveMarkerOfStoppedProcess(_fixture.StorePath, out var pid);
        var notes = new List<string>();

        await using (await _provider.OpenForCachingAsync(StoreLocation.ForFile(_fixture.StorePath), notes.Add, Token))
        {
        }

        notes.Should().ContainSingle().Which.Should().Contain("not closed cleanly").And.Contain($"process {pid}");
    }

    [Fact]
    public void Explains_its_own_engine_failures_only()
    {
        var location = StoreLocation.ForFile(_fixture.StorePath);

        _provider.Explain(new SqliteException("full", SQLitePCL.raw.SQLITE_FULL), location)!.Code.Should().Be(StoreException.WriteFailed);
        _provider.Explain(new InvalidOperationException("x"), location).Should().BeNull();
    }
}
