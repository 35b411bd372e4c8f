using System.Text.Json;
using Recal.Domain;
using Recal.Storage;

namespace Recal.Running;

/// <summary>
/// The response cache for targets that are not chat models (HTTP JSON endpoints, local programs): keyed like chat
/// calls by the target's kind, endpoint and configuration and the case input, so a warm re-run makes no calls.
/// </summary>
public sealed class CachingTarget(ITarget inner, IRecalStore store, string kind, string endpoint, IReadOnlyDictionary<string, JsonElement> configuration, TimeSpan? timeToLive)
    : ITarget
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        var messages = evalCase.Input.Messages is { } conversation
            ? conversation.Select(m => (m.Role, m.Content)).ToList()
            : [("user", evalCase.Input.Text!)];
        var key = CacheKey.For(kind, endpoint, string.Empty, configuration, messages);
        var now = DateTimeOffset.UtcNow;
        if (await store.GetCachedResponseAsync(key, now, cancellationToken).ConfigureAwait(false) is { } cached)
        {
            return JsonSerializer.Deserialize<TargetResponse>(cached, Json)! with { FromCache = true, Attempts = 0 };
        }

        var response = await inner.InvokeAsync(evalCase, cancellationToken).ConfigureAwait(false);
        await store.PutCachedResponseAsync(key, JsonSerializer.SerializeToUtf8Bytes(response, Json), now, now + timeToLive, cancellationToken).ConfigureAwait(false);
        return response;
    }
}
