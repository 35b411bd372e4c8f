namespace Recal.Embeddings.MiniLM.Tests;

/// <summary>One loaded model for the tests that need no generator of their own (loading it takes about a second).</summary>
public sealed class SharedGenerator : IDisposable
{
    public MiniLMEmbeddingGenerator Generator { get; } = new();

    public void Dispose() => Generator.Dispose();
}
