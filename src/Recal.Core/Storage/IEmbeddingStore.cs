namespace Recal.Storage;

/// <summary>The embedding cache: one vector per embedder and text hash.</summary>
public interface IEmbeddingStore
{
    /// <summary>
    /// The cached embeddings of <paramref name="embedder"/> (an embedder id, e.g. <c>HashedEmbeddingGenerator.Id</c>) for
    /// the given text hashes (<see cref="Embeddings.TextHash"/>); hashes with no cached vector are absent.
    /// </summary>
    ValueTask<IReadOnlyDictionary<UInt128, float[]>> GetEmbeddingsAsync(string embedder, IReadOnlyCollection<UInt128> textHashes, CancellationToken cancellationToken = default);

    /// <summary>Caches embeddings of <paramref name="embedder"/> by text hash in one transaction, replacing any cached before.</summary>
    ValueTask PutEmbeddingsAsync(string embedder, IReadOnlyList<KeyValuePair<UInt128, float[]>> embeddings, CancellationToken cancellationToken = default);
}
