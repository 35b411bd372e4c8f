namespace Recal.Storage;

/// <summary>
/// Cached artefacts (trained classifiers and the like, by key) and cached model responses (by request key, with an
/// expiry). Both are optimisations: a store opened read-only may skip the writes.
/// </summary>
public interface IArtifactStore
{
    /// <summary>A cached artefact (a trained classifier, say) by key; null when absent.</summary>
    ValueTask<byte[]?> GetBlobAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores or replaces a cached artefact.</summary>
    ValueTask PutBlobAsync(string key, byte[] value, CancellationToken cancellationToken = default);

    /// <summary>The keys starting with <paramref name="prefix"/> of the stored artefacts, with when each was last stored and its size, in no promised order.</summary>
    ValueTask<IReadOnlyList<BlobInfo>> ListBlobsAsync(string prefix, CancellationToken cancellationToken = default);

    /// <summary>Removes the artefacts of <paramref name="keys"/> (keys not stored are skipped); a store opened read-only may skip it.</summary>
    ValueTask DeleteBlobsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default);

    /// <summary>A cached model response that has not expired at <paramref name="now"/>; null when absent or expired.</summary>
    ValueTask<byte[]?> GetCachedResponseAsync(string key, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Caches a model response; <paramref name="expires"/> null keeps it until replaced.</summary>
    ValueTask PutCachedResponseAsync(string key, byte[] response, DateTimeOffset created, DateTimeOffset? expires, CancellationToken cancellationToken = default);
}

/// <summary>A stored artefact's key, the time it was last stored and its size in bytes.</summary>
public readonly record struct BlobInfo(string Key, DateTimeOffset Updated, long Bytes);
