using Microsoft.Extensions.AI;

namespace Recal.Embeddings;

/// <summary>What Recal's own embedders answer to <c>GetService</c>: their metadata, or themselves.</summary>
public static class EmbedderServices
{
    public static object? Get(object embedder, EmbeddingGeneratorMetadata metadata, Type serviceType, object? serviceKey)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? metadata
            : serviceType.IsInstanceOfType(embedder) ? embedder
            : null;
    }
}
