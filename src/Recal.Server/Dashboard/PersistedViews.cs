using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;

namespace Recal.Server.Dashboard;

/// <summary>
/// The views computed ahead, kept in the store's blobs (<c>dashboard-view:KEY</c>, one per view, replaced by each
/// round) with the state and project inputs they were computed for, so a server started again over the same store
/// serves them at once. They hold what the pages show (counts, findings, trace texts the store holds anyway), nothing
/// secret. A kept view of other project inputs or another build is not read back; one of another store state is shown
/// as stale until the current one is computed.
/// </summary>
internal sealed class PersistedViews(RecalServerContext context, ILogger? logger)
{
    /// <summary>The version of a kept view's envelope; a kept view of another version is not read back.</summary>
    public const int FormatVersion = 1;

    private const string Prefix = "dashboard-view:";

    private static readonly JsonSerializerOptions Json = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(), new PoolSetConverter() },
    };

    private Storage.IRecalStore Store => context.ViewStore ?? context.Store;

    /// <summary>The kept view of <paramref name="key"/> when it was computed with <paramref name="inputs"/>; null otherwise or when it cannot be read.</summary>
    public async Task<Computed?> LoadAsync<T>(string key, string inputs)
    {
        try
        {
            var bytes = await Store.GetBlobAsync(Prefix + key).ConfigureAwait(false);
            if (bytes is not { Length: > 0 })
            {
                return null;
            }

            var kept = JsonSerializer.Deserialize<Envelope<T>>(bytes, Json);
            return kept is { Format: FormatVersion, Value: not null } && kept.Key == key && kept.Inputs == inputs
                ? new Computed(kept.State, kept.Inputs, kept.Traffic, kept.At, kept.Value)
                : null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A kept view is an optimisation: one that cannot be read (another shape, a store error) is computed again.
            logger?.LogDebug(e, "the kept dashboard view {Key} was not read ({Type})", key, e.GetType().Name);
            return null;
        }
    }

    public async Task SaveAsync<T>(string key, string state, string inputs, long traffic, DateTimeOffset at, T value)
    {
        try
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(new Envelope<T>(FormatVersion, key, state, inputs, traffic, at, value), Json);
            await Store.PutBlobAsync(Prefix + key, bytes).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The view is still shown; only a restart computes it again.
            logger?.LogWarning("the dashboard view {Key} was not kept in the store ({Type}: {Message})", key, e.GetType().Name, e.Message);
        }
    }

    /// <summary>
    /// Keeps the views of <paramref name="ahead"/> and the <paramref name="others"/> most recently used of the rest, and
    /// deletes the other kept views: each window a reader opens is kept, and without a bound they would pile up in the
    /// store. Recency is <paramref name="used"/>'s order for views this server served (higher is more recent), then the
    /// time a view was kept for those only an earlier server used. Failures are logged: an unbounded store is not an
    /// error a reader should see.
    /// </summary>
    public async Task BoundAsync(IReadOnlySet<string> ahead, IReadOnlyDictionary<string, long> used, int others)
    {
        try
        {
            var kept = await Store.ListBlobsAsync(Prefix).ConfigureAwait(false);
            var extra = kept
                .Select(b => (Key: b.Key[Prefix.Length..], b.Updated))
                .Where(b => !ahead.Contains(b.Key))
                .OrderByDescending(b => used.TryGetValue(b.Key, out var order) ? order : long.MinValue)
                .ThenByDescending(b => b.Updated)
                .ThenBy(b => b.Key, StringComparer.Ordinal)
                .Skip(others)
                .Select(b => Prefix + b.Key)
                .ToList();
            if (extra.Count > 0)
            {
                await Store.DeleteBlobsAsync(extra).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            logger?.LogWarning("the dashboard's kept views were not bounded ({Type}: {Message})", e.GetType().Name, e.Message);
        }
    }

    /// <summary>A set of pools as the array of their names (a set has no public way to be filled).</summary>
    private sealed class PoolSetConverter : JsonConverter<Domain.PoolSet>
    {
        public override Domain.PoolSet Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            Domain.PoolSet.Of(JsonSerializer.Deserialize<List<Domain.Pool>>(ref reader, options) ?? []);

        public override void Write(Utf8JsonWriter writer, Domain.PoolSet value, JsonSerializerOptions options) =>
            JsonSerializer.Serialize(writer, value.ToList(), options);
    }

    private sealed record Envelope<T>(int Format, string Key, string State, string Inputs, long Traffic, DateTimeOffset At, T Value);
}
