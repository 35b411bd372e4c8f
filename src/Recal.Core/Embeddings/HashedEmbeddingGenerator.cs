using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace Recal.Embeddings;

/// <summary>
/// The built-in embedder, which needs no model: hashed word and character n-grams (<see cref="NgramFeatures"/>) with
/// sublinear term frequency, projected to a dense vector by signed feature hashing and L2-normalised (docs/embeddings.md).
/// </summary>
/// <remarks>
/// A feature's weight is <c>1 + ln tf</c>. The word features (unigrams and bigrams) and the character features are each
/// scaled to unit length and then mixed, <see cref="WordShare"/> of the squared length to words, so neither kind drowns
/// the other whatever the text's length. Each feature adds its weight, with a sign taken from its hash, to one of
/// <see cref="Dimensions"/> coordinates. There is no idf: fitted on CLINC150's training queries it lowered the share of
/// held-out queries whose nearest neighbour has their intent, and a fixed weighting keeps the embedder, and so every
/// cached vector, independent of the eval set.
/// </remarks>
public sealed class HashedEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>Part of <see cref="Id"/>: bump it whenever features or weighting change, so cached vectors are recomputed.</summary>
    public const int FormatVersion = 1;

    /// <summary>The default number of dimensions.</summary>
    public const int DefaultDimensions = 256;

    /// <summary>
    /// The default share of the squared length given to word features; the rest goes to character n-grams, which
    /// carry most of the signal on short queries with typos (chosen on CLINC150's validation split, docs/embeddings.md).
    /// </summary>
    public const float DefaultWordShare = 0.2f;

    private const int ParallelBatch = 512;

    private readonly float _wordScale;
    private readonly float _characterScale;

    public HashedEmbeddingGenerator(int dimensions = DefaultDimensions, float wordShare = DefaultWordShare)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (wordShare is < 0 or > 1 || float.IsNaN(wordShare))
        {
            throw new ArgumentOutOfRangeException(nameof(wordShare), wordShare, "the word share lies between 0 and 1");
        }

        Dimensions = dimensions;
        WordShare = wordShare;
        _wordScale = MathF.Sqrt(wordShare);
        _characterScale = MathF.Sqrt(1 - wordShare);
        Id = string.Create(CultureInfo.InvariantCulture, $"recal-hashed-v{FormatVersion}/d{dimensions}/w{wordShare:0.###}");
        Metadata = new EmbeddingGeneratorMetadata("recal-hashed", null, Id, dimensions);
    }

    /// <summary>
    /// Identifies the embedder and everything that determines its vectors (format version, dimensions, word share):
    /// the cache key prefix, so vectors of different embedders never mix.
    /// </summary>
    public string Id { get; }

    public int Dimensions { get; }

    public float WordShare { get; }

    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>Writes the L2-normalised embedding of <paramref name="text"/> into <paramref name="destination"/>; all zeros when the text has no word.</summary>
    public void Embed(ReadOnlySpan<char> text, Span<float> destination)
    {
        if (destination.Length != Dimensions)
        {
            throw new ArgumentException($"the destination holds {destination.Length} floats; the embedder has {Dimensions} dimensions", nameof(destination));
        }

        destination.Clear();
        var collected = new Collected(ArrayPool<ulong>.Shared.Rent(Math.Max(16, Math.Min(text.Length, NgramFeatures.MaxChars) * 3)));
        try
        {
            NgramFeatures.Visit(text, ref collected, static (ref Collected c, ulong hash, NgramKind kind) => c.Add(hash, kind));

            // Words fill the buffer from the front, characters from the back: one buffer, two sorted runs.
            var words = collected.Buffer.AsSpan(0, collected.Words);
            var characters = collected.Buffer.AsSpan(collected.Buffer.Length - collected.Characters, collected.Characters);
            words.Sort();
            characters.Sort();
            Add(words, _wordScale, destination);
            Add(characters, _characterScale, destination);
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(collected.Buffer);
        }

        var norm = TensorPrimitives.Norm(destination);
        if (norm > 0)
        {
            TensorPrimitives.Divide(destination, norm, destination);
        }
    }

    /// <summary>The embedding of one text as a new array.</summary>
    public float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var vector = new float[Dimensions];
        Embed(text, vector);
        return vector;
    }

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is { } asked && asked != Dimensions)
        {
            throw new ArgumentException($"this embedder has {Dimensions} dimensions; {asked} were asked for", nameof(options));
        }

        var texts = values as IReadOnlyList<string> ?? [.. values];
        var vectors = new float[texts.Count][];
        void EmbedAt(int i) => vectors[i] = Embed(texts[i] ?? throw new ArgumentException("a text is null", nameof(values)));
        if (texts.Count >= ParallelBatch)
        {
            Parallel.For(0, texts.Count, new ParallelOptions { CancellationToken = cancellationToken }, EmbedAt);
        }
        else
        {
            for (var i = 0; i < texts.Count; i++)
            {
                EmbedAt(i);
            }
        }

        var created = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = Id, CreatedAt = created }));
        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => EmbedderServices.Get(this, Metadata, serviceType, serviceKey);

    public void Dispose()
    {
    }

    /// <summary>Adds one kind's sorted feature occurrences, as unit-length sublinear term frequencies scaled by <paramref name="scale"/>, to the vector.</summary>
    private void Add(ReadOnlySpan<ulong> sorted, float scale, Span<float> destination)
    {
        if (sorted.IsEmpty)
        {
            return;
        }

        // Two passes over the runs of equal hashes: the length first, then the scaled weights.
        var squared = 0f;
        for (var start = 0; start < sorted.Length;)
        {
            var end = RunEnd(sorted, start);
            var weight = Weight(end - start);
            squared += weight * weight;
            start = end;
        }

        var factor = scale / MathF.Sqrt(squared);
        for (var start = 0; start < sorted.Length;)
        {
            var end = RunEnd(sorted, start);
            var hash = sorted[start];
            var bucket = (int)(((hash >> 32) * (ulong)Dimensions) >> 32);
            var weight = Weight(end - start) * factor;
            destination[bucket] += (hash & 1) == 0 ? weight : -weight;
            start = end;
        }
    }

    private static float Weight(int tf) => 1 + MathF.Log(tf);

    private static int RunEnd(ReadOnlySpan<ulong> sorted, int start)
    {
        var end = start + 1;
        while (end < sorted.Length && sorted[end] == sorted[start])
        {
            end++;
        }

        return end;
    }

    /// <summary>Feature hashes of one text: words from the front of the buffer, characters from the back.</summary>
    private struct Collected(ulong[] buffer)
    {
        public readonly ulong[] Buffer = buffer;
        public int Words;
        public int Characters;

        public void Add(ulong hash, NgramKind kind)
        {
            if (kind == NgramKind.Character)
            {
                Buffer[Buffer.Length - ++Characters] = hash;
            }
            else
            {
                Buffer[Words++] = hash;
            }
        }
    }
}
