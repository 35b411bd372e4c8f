using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Embeddings;
using Recal.Embeddings;
using AIEmbeddingOptions = Microsoft.Extensions.AI.EmbeddingGenerationOptions;
using OpenAIEmbeddingOptions = OpenAI.Embeddings.EmbeddingGenerationOptions;

namespace Recal.Providers.OpenAI;

/// <summary>
/// An <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> over the OpenAI .NET SDK's <see cref="EmbeddingClient"/>,
/// for any OpenAI-compatible <c>/v1/embeddings</c> endpoint (OpenAI, vLLM, Ollama, LM Studio, gateways). Texts go in
/// batches of <see cref="BatchSize"/> per request. The SDK's own retries are off: failures surface as
/// <see cref="Running.TargetCallException"/>s, classified for the caller's retry policy.
/// </summary>
public sealed class OpenAICompatibleEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>Inputs per request: well under the 2,048 OpenAI accepts, so a slow batch costs little to retry.</summary>
    public const int DefaultBatchSize = 128;

    private readonly EmbeddingClient _client;
    private readonly OpenAICompatibleSettings _settings;
    private readonly int? _dimensions;

    private OpenAICompatibleEmbeddingGenerator(EmbeddingClient client, OpenAICompatibleSettings settings, int? dimensions, int batchSize)
    {
        _client = client;
        _settings = settings;
        _dimensions = dimensions;
        BatchSize = batchSize;
        Id = string.Create(CultureInfo.InvariantCulture, $"openai-compatible/{Recal.Running.SecretRedactor.None.RedactUrl(settings.BaseUrl.AbsoluteUri).TrimEnd('/')}/{settings.Model}{(dimensions is { } d ? $"/d{d}" : string.Empty)}");
        Metadata = new EmbeddingGeneratorMetadata("openai-compatible", settings.BaseUrl, settings.Model, dimensions);
    }

    /// <summary>The endpoint, model and dimensions: what determines the vectors, and so the cache key prefix.</summary>
    public string Id { get; }

    public int BatchSize { get; }

    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>Creates the generator, or says which environment variable is missing.</summary>
    /// <param name="dimensions">Dimensions to ask for (models that can shorten their vectors); null for the model's own.</param>
    public static (OpenAICompatibleEmbeddingGenerator? Generator, string? Error) Create(
        OpenAICompatibleSettings settings, int? dimensions = null, int batchSize = DefaultBatchSize, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (dimensions is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "dimensions must be positive");
        }

        var (key, error) = settings.ResolveApiKey();
        if (key is null)
        {
            return (null, error);
        }

        var options = new OpenAIClientOptions
        {
            Endpoint = settings.BaseUrl,
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = timeout ?? TimeSpan.FromSeconds(100),
        };
        return (new OpenAICompatibleEmbeddingGenerator(new EmbeddingClient(settings.Model, new ApiKeyCredential(key), options), settings, dimensions, batchSize), null);
    }

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, AIEmbeddingOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? [.. values];
        var dimensions = options?.Dimensions ?? _dimensions;
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        long inputTokens = 0, totalTokens = 0;
        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            var batch = texts.Skip(start).Take(BatchSize).ToList();
            OpenAIEmbeddingCollection collection;
            try
            {
                collection = (await _client.GenerateEmbeddingsAsync(batch, new OpenAIEmbeddingOptions { Dimensions = dimensions }, cancellationToken).ConfigureAwait(false)).Value;
            }
            catch (Exception e) when (OpenAICallErrors.Translate(e, _settings, cancellationToken) is { } error)
            {
                throw error;
            }

            if (collection.Count != batch.Count || collection.Select(e => e.Index).Order().Where((index, i) => index != i).Any())
            {
                throw new Running.TargetCallException(
                    $"{_settings.BaseUrl} returned {collection.Count} embeddings for {batch.Count} inputs", 200, null, transient: false);
            }

            foreach (var embedding in collection.OrderBy(e => e.Index))
            {
                result.Add(new Embedding<float>(embedding.ToFloats()) { ModelId = collection.Model ?? _settings.Model, CreatedAt = DateTimeOffset.UtcNow });
            }

            inputTokens += collection.Usage?.InputTokenCount ?? 0;
            totalTokens += collection.Usage?.TotalTokenCount ?? 0;
        }

        result.Usage = new UsageDetails { InputTokenCount = inputTokens, TotalTokenCount = totalTokens };
        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => EmbedderServices.Get(this, Metadata, serviceType, serviceKey);

    public void Dispose()
    {
    }
}
