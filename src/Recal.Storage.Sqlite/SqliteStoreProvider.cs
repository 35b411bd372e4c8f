using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Recal.Storage.Sqlite;

/// <summary>
/// Opens the embedded SQLite store: a plain path or <c>sqlite:PATH</c> in the <c>store:</c> setting. Says when the
/// store was not closed cleanly, and falls back to reading a store this user may not write.
/// </summary>
public sealed class SqliteStoreProvider : IStoreProvider
{
    public IReadOnlyList<string> Schemes { get; } = [StoreLocation.DefaultScheme];

    public ValueTask<bool> ExistsAsync(StoreLocation location, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(File.Exists(FilePath(location)));

    public async Task<IRecalStore> OpenAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default) =>
        Opened(await SqliteStore.OpenAsync(FilePath(location), cancellationToken).ConfigureAwait(false), note);

    public async Task<IRecalStore> OpenReadOnlyAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default) =>
        Opened(await SqliteStore.OpenReadOnlyAsync(FilePath(location), cancellationToken).ConfigureAwait(false), note);

    public async Task<IRecalStore> OpenForCachingAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default)
    {
        var path = FilePath(location);
        try
        {
            return Opened(await SqliteStore.OpenAsync(path, cancellationToken).ConfigureAwait(false), note);
        }
        catch (StoreException e) when (e.InnerException is SqliteException { SqliteErrorCode: raw.SQLITE_READONLY or raw.SQLITE_CANTOPEN } && File.Exists(path))
        {
            // A store this user may read but not write: the caches are used but not filled.
            return Opened(await SqliteStore.OpenReadOnlyAsync(path, cancellationToken).ConfigureAwait(false), note);
        }
    }

    public async Task<IRecalStore> OpenForCheckAsync(StoreLocation location, CancellationToken cancellationToken = default) =>
        await SqliteStore.OpenForCheckAsync(FilePath(location), cancellationToken).ConfigureAwait(false);

    public StoreException? Explain(Exception exception, StoreLocation location) =>
        exception is SqliteException sqlite ? SqliteStore.Explain(sqlite, location.Display) : null;

    private static string FilePath(StoreLocation location)
    {
        ArgumentNullException.ThrowIfNull(location);
        return location.IsFile ? location.Target : throw new ArgumentException($"the SQLite provider opens files, not '{location.Scheme}:'", nameof(location));
    }

    private static SqliteStore Opened(SqliteStore store, Action<string>? note)
    {
        if (store.UncleanShutdown is { } who)
        {
            note?.Invoke($"the store was not closed cleanly ({who} stopped with it open); SQLite's quick check finds no damage");
        }

        return store;
    }
}
