using System.Text.Json;
using Polly;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Providers.OpenAI;
using Recal.Storage.Sqlite;
using Recal.Testing;

namespace Recal.Running.Tests;

/// <summary>A temporary folder with a store, and helpers to build cases, runs and chat targets against the fake server.</summary>
internal sealed class RunFixture : IAsyncDisposable
{
    /// <summary>Quick retries so fault-injection tests stay short; Retry-After from the server still wins.</summary>
    public static readonly RetrySettings FastRetries = new(MaxRetries: 3, BaseDelay: TimeSpan.FromMilliseconds(5), MaxDelay: TimeSpan.FromSeconds(2));

    private readonly List<IDisposable> _owned = [];
    private int _runs;

    private RunFixture(string folder, SqliteStore store)
    {
        Folder = folder;
        Store = store;
    }

    public string Folder { get; }

    public SqliteStore Store { get; }

    public static async Task<RunFixture> CreateAsync(CancellationToken cancellationToken)
    {
        var folder = Path.Combine(Path.GetTempPath(), "recal-run-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var store = await SqliteStore.OpenAsync(Path.Combine(folder, ".recal", "recal.db"), cancellationToken);
        return new RunFixture(folder, store);
    }

    /// <summary>A case whose input is <paramref name="input"/> and that passes when the output contains it.</summary>
    public static EvalCase Case(string id, string input, string intent = "balance", IReadOnlyDictionary<string, string>? cohort = null, Pool pool = Pool.Gold, string? traceId = null) =>
        new(id, TraceInput.FromText(input), [new Reference("The answer to " + input, ReferenceGrade.High)],
            [new Assertion("contains", JsonSerializer.SerializeToElement(input), new Dictionary<string, JsonElement>())],
            intent, cohort ?? new Dictionary<string, string>(), Difficulty.Easy,
            new Provenance(traceId is null ? ProvenanceKind.Manual : ProvenanceKind.Sampled, traceId), new DateOnly(2026, 1, 1), null, pool, [], new SourceLocation("cases.jsonl", 1));

    /// <summary><paramref name="count"/> cases with ids c00, c01, … and inputs q00, q01, ….</summary>
    public static IReadOnlyList<EvalCase> Cases(int count) =>
        [.. Enumerable.Range(0, count).Select(i => Case($"c{i:00}", $"q{i:00}"))];

    /// <summary>Stores a new run over <paramref name="cases"/> and returns it.</summary>
    public async Task<RunInfo> NewRunAsync(IReadOnlyList<EvalCase> cases, string target = "bot", string? judges = null)
    {
        var run = new RunInfo($"run-{Interlocked.Increment(ref _runs)}-{target}", "demo", target, "{}", "suite", PoolSet.Parse("gold"), cases.Count, judges, DateTimeOffset.UtcNow, null, RunStatus.Running);
        await Store.CreateRunAsync(run);
        return run;
    }

    public OpenAICompatibleChatClient Client(FakeOpenAIServer server, string model)
    {
        var (client, error) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(server.BaseUrl, model));
        if (client is null)
        {
            throw new InvalidOperationException(error);
        }

        _owned.Add(client);
        return client;
    }

    /// <summary>A chat target for <paramref name="model"/> on the fake server, optionally cached in the fixture's store.</summary>
    public ChatTarget Target(FakeOpenAIServer server, string model = "bot", bool cache = false, TimeSpan? ttl = null, TimeProvider? clock = null, CallGuard? guard = null, ResiliencePipeline? pipeline = null)
    {
        var client = Client(server, model);
        var settings = cache ? new ResponseCacheSettings(Store, "openai", server.BaseUrl.ToString(), model, ttl, clock) : null;
        return new ChatTarget(client, pipeline ?? RetryPolicy.Create(FastRetries), new Microsoft.Extensions.AI.ChatOptions { Temperature = 0 }, null, settings, guard);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        await Store.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start;

    public override DateTimeOffset GetUtcNow() => Now;
}
