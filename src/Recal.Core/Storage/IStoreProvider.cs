namespace Recal.Storage;

/// <summary>
/// Opens the stores of the schemes it handles (the <c>store:</c> setting, <see cref="StoreLocation"/>). A host
/// registers its providers once (<see cref="StoreProviders"/>); commands see only the <see cref="IRecalStore"/> it
/// returns. What only one engine has (SQLite's note on an unclean shutdown, its read-only fallback) stays in its provider.
/// </summary>
public interface IStoreProvider
{
    /// <summary>The schemes this provider opens, lower case (<c>sqlite</c>; <c>postgres</c>, <c>postgresql</c>).</summary>
    IReadOnlyList<string> Schemes { get; }

    /// <summary>
    /// The located error of a location this provider cannot open as written (a secret in it, a malformed URL), found
    /// before anything connects: <c>recal validate</c> and every command report it; null when the location is fine.
    /// </summary>
    Diagnostics.Diagnostic? Check(StoreLocation location) => null;

    /// <summary>Whether a store exists at <paramref name="location"/> yet (a command that only reads skips a missing one).</summary>
    ValueTask<bool> ExistsAsync(StoreLocation location, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the store for a command that writes to it, creating and migrating it as needed. <paramref name="note"/>
    /// hears what the user should know about the store as found (it was not closed cleanly).
    /// </summary>
    Task<IRecalStore> OpenAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default);

    /// <summary>Opens the store for a command that only reads it (a store the user may not write works).</summary>
    Task<IRecalStore> OpenReadOnlyAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens the store for a command that reads it and caches what it computes (embeddings, a trained classifier):
    /// for writing when it can, else for reading, when the caches are used but not filled.
    /// </summary>
    Task<IRecalStore> OpenForCachingAsync(StoreLocation location, Action<string>? note = null, CancellationToken cancellationToken = default) =>
        OpenAsync(location, note, cancellationToken);

    /// <summary>Opens the store to check its integrity: a damaged store must open far enough to list its problems.</summary>
    Task<IRecalStore> OpenForCheckAsync(StoreLocation location, CancellationToken cancellationToken = default) =>
        OpenReadOnlyAsync(location, null, cancellationToken);

    /// <summary>What an engine failure on the store means for the user (one line, a <see cref="StoreException"/> code); null when it is not this engine's.</summary>
    StoreException? Explain(Exception exception, StoreLocation location) => null;
}
