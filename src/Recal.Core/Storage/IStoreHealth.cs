namespace Recal.Storage;

/// <summary>What a store says of itself: its schema version and the problems its own check finds.</summary>
public interface IStoreHealth
{
    /// <summary>The schema version the store is at after opening (migrations applied).</summary>
    int SchemaVersion { get; }

    /// <summary>
    /// Checks the stored data for damage (pages, indexes, references, as the store can); returns the problems found, at
    /// most <paramref name="limit"/>, empty when the store is sound. <paramref name="quick"/> asks for a cheaper check
    /// where the store has one.
    /// </summary>
    ValueTask<IReadOnlyList<string>> CheckIntegrityAsync(bool quick = false, int limit = 100, CancellationToken cancellationToken = default);
}
