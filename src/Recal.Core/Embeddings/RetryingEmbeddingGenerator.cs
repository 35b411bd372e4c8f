using Microsoft.Extensions.AI;
using Polly;

namespace Recal.Embeddings;

/// <summary>
/// Sends every request of an embedder through a resilience pipeline (<see cref="Running.RetryPolicy"/>): transient
/// failures (429 with its Retry-After, 5xx, timeouts, truncated bodies) are retried, the others surface at once.
/// </summary>
public sealed class RetryingEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner, ResiliencePipeline pipeline)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? [.. values];
        return await pipeline.ExecuteAsync(
            async token => await base.GenerateAsync(texts, options, token).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
    }
}
