using Recal.Testing;
using Xunit;

namespace Recal.Storage.Postgres.Tests;

/// <summary>
/// One throwaway database per test class, created on first use (so a class without a server skips rather than fails in
/// its fixture) and dropped after the class. Each test starts from an empty store: the store's schema is dropped.
/// </summary>
public sealed class DatabaseFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ThrowawayDatabase? _database;

    /// <summary>The class's database, with no store in it.</summary>
    public async Task<ThrowawayDatabase> EmptyAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _database ??= await PostgresTestServer.CreateDatabaseAsync(cancellationToken);
            await _database.ExecuteAsync($"DROP SCHEMA IF EXISTS {PostgresStore.Schema} CASCADE", cancellationToken);
            return _database;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A fresh store in the class's database, emptied first (what each contract test opens).</summary>
    public async Task<IRecalStore> OpenEmptyStoreAsync()
    {
        var token = TestContext.Current.CancellationToken;
        var database = await EmptyAsync(token);
        return await PostgresStore.OpenAsync(database.ConnectionString, "postgres://test/" + database.Name, token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        _gate.Dispose();
    }
}
