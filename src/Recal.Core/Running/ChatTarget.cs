using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Polly;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Storage;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Recal.Running;

/// <summary>What a target answered for one case, and what it cost.</summary>
/// <param name="FromCache">The answer came from the response cache: no call was made.</param>
public sealed record TargetResponse(string Text, TimeSpan Latency, long? InputTokens, long? OutputTokens, int Attempts, string? Model, bool FromCache = false);

/// <summary>Where responses are cached and what identifies the target in the cache key.</summary>
/// <param name="TimeToLive">How long a cached response is served; null: until replaced.</param>
public sealed record ResponseCacheSettings(IRecalStore Store, string TargetKind, string Endpoint, string Model, TimeSpan? TimeToLive = null, TimeProvider? Clock = null);

/// <summary>
/// A chat target: the system under test behind an <see cref="IChatClient"/>. The case's input becomes the user
/// turn (or the conversation), after an optional system prompt; every call goes through the retry pipeline.
/// </summary>
public sealed class ChatTarget(IChatClient client, ResiliencePipeline pipeline, ChatOptions? options = null, string? systemPrompt = null, ResponseCacheSettings? cache = null, CallGuard? guard = null)
    : ITarget
{
    private static readonly JsonSerializerOptions CacheJson = new(JsonSerializerDefaults.Web);

    public async ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrWhiteSpace(systemPrompt))
        {
            messages.Add(new ChatMessage(ChatRole.System, systemPrompt));
        }

        if (evalCase.Input.Text is { } text)
        {
            messages.Add(new ChatMessage(ChatRole.User, text));
        }
        else
        {
            messages.AddRange(evalCase.Input.Messages!.Select(m => new ChatMessage(new ChatRole(m.Role), m.Content)));
        }

        using var activity = RecalTelemetry.Source.HasListeners()
            ? RecalTelemetry.StartChat(options?.ModelId ?? cache?.Model ?? client.GetService<ChatClientMetadata>()?.DefaultModelId, evalCase.Id)
            : null;
        var key = cache is null ? null : CacheKey.For(cache.TargetKind, cache.Endpoint, cache.Model, Parameters(options), [.. messages.Select(m => (m.Role.Value, m.Text))]);
        var now = (cache?.Clock ?? TimeProvider.System).GetUtcNow();
        if (cache is not null && await cache.Store.GetCachedResponseAsync(key!, now, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            var hit = JsonSerializer.Deserialize<TargetResponse>(cached, CacheJson)! with { FromCache = true, Attempts = 0 };
            RecalTelemetry.EndChat(activity, true, hit.Model, hit.InputTokens, hit.OutputTokens);
            return hit;
        }

        var watch = Stopwatch.StartNew();
        ChatResponse response;
        int attempts;
        try
        {
            (response, attempts) = await (guard ?? CallGuard.None).ExecuteAsync(pipeline, t => client.GetResponseAsync(messages, options, t), cache?.Endpoint ?? "chat target", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            RecalTelemetry.Fail(activity, e);
            throw;
        }

        var result = new TargetResponse(response.Text, watch.Elapsed, response.Usage?.InputTokenCount, response.Usage?.OutputTokenCount, attempts, response.ModelId);
        RecalTelemetry.EndChat(activity, false, result.Model, result.InputTokens, result.OutputTokens);
        if (cache is not null)
        {
            await cache.Store.PutCachedResponseAsync(key!, JsonSerializer.SerializeToUtf8Bytes(result, CacheJson), now, now + cache.TimeToLive, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>The generation parameters that change a response, as cache-key material.</summary>
    private static Dictionary<string, JsonElement> Parameters(ChatOptions? options)
    {
        var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        void Add(string name, object? value)
        {
            if (value is not null)
            {
                parameters[name] = JsonSerializer.SerializeToElement(value);
            }
        }

        Add("temperature", options?.Temperature);
        Add("top_p", options?.TopP);
        Add("max_tokens", options?.MaxOutputTokens);
        Add("seed", options?.Seed);
        Add("stop", options?.StopSequences);
        return parameters;
    }
}
