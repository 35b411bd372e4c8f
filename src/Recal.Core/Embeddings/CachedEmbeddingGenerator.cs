using System.Globalization;
using Microsoft.Extensions.AI;
using Recal.Storage;

namespace Recal.Embeddings;

/// <summary>
/// Caches another embedder's vectors in the store, per embedder id and text: each distinct text is embedded once,
/// ever, and a request asks the inner embedder only for the texts the cache lacks (each of them once, however often
/// it repeats in the request). Vectors are stored after every batch, so an interrupted run keeps what it computed.
/// </summary>
public sealed class CachedEmbeddingGenerator : DelegatingEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>Texts per request to the inner embedder and per store transaction.</summary>
    public const int DefaultBatchSize = 1024;

    private readonly IRecalStore _store;
    private readonly int _batchSize;
    private long _cacheHits;
    private long _computed;

    /// <param name="embedderId">
    /// What identifies the inner embedder's vectors (its model, version and parameters): the cache key prefix. Two
    /// embedders that could give different vectors for one text must never share it.
    /// </param>
    public CachedEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, IRecalStore store, string embedderId, int batchSize = DefaultBatchSize)
        : base(inner)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(embedderId);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _store = store;
        _batchSize = batchSize;
        EmbedderId = embedderId;
    }

    public string EmbedderId { get; }

    /// <summary>Distinct texts served from the cache so far.</summary>
    public long CacheHits => Interlocked.Read(ref _cacheHits);

    /// <summary>Distinct texts the inner embedder computed so far.</summary>
    public long Computed => Interlocked.Read(ref _computed);

    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? [.. values];
        var key = CacheKey(options);
        var hashes = new UInt128[texts.Count];
        var firstText = new Dictionary<UInt128, string>();
        for (var i = 0; i < texts.Count; i++)
        {
            hashes[i] = TextHash.Of(texts[i] ?? throw new ArgumentException("a text is null", nameof(values)));
            firstText.TryAdd(hashes[i], texts[i]);
        }

        var vectors = new Dictionary<UInt128, float[]>(await _store.GetEmbeddingsAsync(key, firstText.Keys, cancellationToken).ConfigureAwait(false));
        Interlocked.Add(ref _cacheHits, vectors.Count);
        var missing = firstText.Where(kv => !vectors.ContainsKey(kv.Key)).ToList();
        for (var start = 0; start < missing.Count; start += _batchSize)
        {
            var batch = missing.GetRange(start, Math.Min(_batchSize, missing.Count - start));
            var generated = await base.GenerateAsync(batch.Select(kv => kv.Value).ToList(), options, cancellationToken).ConfigureAwait(false);
            if (generated.Count != batch.Count)
            {
                throw new InvalidOperationException($"the embedder returned {generated.Count} vectors for {batch.Count} texts");
            }

            var rows = new List<KeyValuePair<UInt128, float[]>>(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                var vector = generated[i].Vector.ToArray();
                vectors[batch[i].Key] = vector;
                rows.Add(new(batch[i].Key, vector));
            }

            await _store.PutEmbeddingsAsync(key, rows, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _computed, batch.Count);
        }

        return new GeneratedEmbeddings<Embedding<float>>(hashes.Select(h => new Embedding<float>(vectors[h]) { ModelId = EmbedderId }));
    }

    /// <summary>
    /// The cached vectors of the texts with these <see cref="TextHash"/>es (default options), those the cache holds: what a
    /// caller that knows a text's hash but not the text finds without reading it. Each found counts as a cache hit.
    /// </summary>
    public async ValueTask<IReadOnlyDictionary<UInt128, float[]>> GetCachedAsync(IReadOnlyCollection<UInt128> textHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(textHashes);
        var found = await _store.GetEmbeddingsAsync(CacheKey(null), textHashes, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _cacheHits, found.Count);
        return found;
    }

    /// <summary>Options that change the vectors (another model, fewer dimensions) are part of the key.</summary>
    private string CacheKey(EmbeddingGenerationOptions? options)
    {
        var key = EmbedderId;
        if (options?.ModelId is { Length: > 0 } model)
        {
            key += "/model=" + model;
        }

        if (options?.Dimensions is { } dimensions)
        {
            key += "/d=" + dimensions.ToString(CultureInfo.InvariantCulture);
        }

        return key;
    }
}
