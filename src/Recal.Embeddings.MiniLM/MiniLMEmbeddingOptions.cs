namespace Recal.Embeddings.MiniLM;

/// <summary>How <see cref="MiniLMEmbeddingGenerator"/> spreads its work; none of these change a vector.</summary>
public sealed record MiniLMEmbeddingOptions
{
    /// <summary>
    /// Batches run at the same time on the one ONNX Runtime session (a session may be run from several threads), each
    /// with <see cref="ThreadsPerWorker"/> threads. Default: one per core, each on one thread, which measured faster on
    /// two cores than one worker with two intra-op threads (docs/performance.md#local-neural-embeddings).
    /// </summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>ONNX Runtime's intra-op threads per batch.</summary>
    public int ThreadsPerWorker { get; init; } = 1;

    /// <summary>
    /// Texts tokenised and embedded together: the token arrays of one chunk at a time are held, so memory stays
    /// bounded however many texts a request has (the vectors themselves are the result).
    /// </summary>
    public int ChunkSize { get; init; } = 1024;

    /// <summary>
    /// Tokens per ONNX run (texts × their token count): bounds the model's activations, whose attention part grows with
    /// the square of the length (a batch of 8 texts of 512 tokens).
    /// </summary>
    public int MaxBatchTokens { get; init; } = 4096;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Workers, 1, nameof(Workers));
        ArgumentOutOfRangeException.ThrowIfLessThan(ThreadsPerWorker, 1, nameof(ThreadsPerWorker));
        ArgumentOutOfRangeException.ThrowIfLessThan(ChunkSize, 1, nameof(ChunkSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchTokens, MiniLMEmbeddingGenerator.MaxTokens, nameof(MaxBatchTokens));
    }
}
