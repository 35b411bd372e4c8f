using System.Text.Json;
using Recal.Diagnostics;

namespace Recal.Domain;

/// <summary>How a target is reached.</summary>
public enum TargetKind
{
    /// <summary>An OpenAI-compatible chat completions endpoint.</summary>
    OpenAI,

    /// <summary>Any HTTP endpoint taking and returning JSON.</summary>
    Http,

    /// <summary>A local program speaking JSON lines on stdin/stdout, kept alive across cases.</summary>
    Program,

    /// <summary>Outputs that already exist: recorded on the production trace, or in a results file.</summary>
    Replay,
}

/// <summary>Token prices in a currency per million tokens, for the cost of a run.</summary>
public sealed record TokenPrice(double InputPerMillion, double OutputPerMillion)
{
    public double Cost(long? inputTokens, long? outputTokens) =>
        ((inputTokens ?? 0) * InputPerMillion + (outputTokens ?? 0) * OutputPerMillion) / 1_000_000;
}

/// <summary>
/// One system under test as configured under <c>targets:</c> in recal.yaml. Only the fields of its kind are set.
/// Secrets are never here: <see cref="ApiKeyEnv"/> names the environment variable that holds the key.
/// </summary>
public sealed record TargetSettings(
    string Name,
    TargetKind Kind,
    SourceLocation Location)
{
    /// <summary>OpenAI: the API root, after <c>${VAR:-default}</c> expansion.</summary>
    public string? BaseUrl { get; init; }

    public string? Model { get; init; }

    public string? ApiKeyEnv { get; init; }

    /// <summary>OpenAI: temperature, top_p, max_tokens, seed, stop.</summary>
    public IReadOnlyDictionary<string, JsonElement> Parameters { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>OpenAI: the system prompt template file (project-relative), versioned with the project.</summary>
    public string? PromptPath { get; init; }

    /// <summary>The prompt file's text, read when the project loads.</summary>
    public string? Prompt { get; init; }

    /// <summary>HTTP: the endpoint, after expansion.</summary>
    public string? Url { get; init; }

    /// <summary>HTTP: the request body with <c>{{input}}</c> where the input goes as a JSON string.</summary>
    public string? RequestTemplate { get; init; }

    /// <summary>HTTP: where the answer is in the response, e.g. <c>$.answer</c>.</summary>
    public string? ResponsePath { get; init; }

    /// <summary>HTTP: extra headers; values may name environment variables as <c>${VAR}</c>, expanded at call time only.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Program: the executable and its arguments.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    /// <summary>Replay: a results file (JSONL of <c>{"case_id", "output"}</c>); null replays the outputs recorded on traces.</summary>
    public string? ReplayFile { get; init; }

    /// <summary>Cases in flight at once; null uses the run default.</summary>
    public int? Concurrency { get; init; }

    /// <summary>A cap on calls per minute; null for none.</summary>
    public double? RequestsPerMinute { get; init; }

    /// <summary>Per-attempt timeout; null uses the run default.</summary>
    public TimeSpan? Timeout { get; init; }

    public TokenPrice? Price { get; init; }

    /// <summary>
    /// The release this target is: the traces' <c>model</c> value its production answers carry, so its offline score can
    /// be set against that release's online signals (docs/running.md#offline-vs-online-across-releases).
    /// </summary>
    public string? Release { get; init; }
}

/// <summary>One judge of the ensemble: an OpenAI-compatible model, optionally with a fixed seed.</summary>
public sealed record JudgeModelSettings(string Name, string BaseUrl, string Model, string? ApiKeyEnv, int? Seed, double? Temperature);

/// <summary>The LLM-judge ensemble under <c>judge:</c> in recal.yaml.</summary>
public sealed record JudgeSettings(string RubricPath, IReadOnlyList<JudgeModelSettings> Judges, string ReviewQueuePath, int? Concurrency, double? RequestsPerMinute);

/// <summary>Which embedder the gap instruments use (coverage, blind spots, retirement by neighbourhood).</summary>
public enum EmbedderKind
{
    /// <summary>The built-in hashed n-gram embedder: deterministic, no model, no network.</summary>
    Builtin,

    /// <summary>An OpenAI-compatible <c>/v1/embeddings</c> endpoint.</summary>
    OpenAI,

    /// <summary>all-MiniLM-L6-v2 run locally by ONNX Runtime (Recal.Embeddings.MiniLM): neural, no network.</summary>
    MiniLM,
}

/// <summary>The embedder under <c>embeddings:</c> in recal.yaml; the built-in one when the section is absent.</summary>
/// <param name="BaseUrl">OpenAI: the API root, after <c>${VAR:-default}</c> expansion.</param>
/// <param name="ApiKeyEnv">OpenAI: the environment variable holding the key (the key itself is never in the file).</param>
/// <param name="Dimensions">OpenAI: ask the model for this many dimensions.</param>
public sealed record EmbeddingSettings(EmbedderKind Kind = EmbedderKind.Builtin, string? BaseUrl = null, string? Model = null, string? ApiKeyEnv = null, int? Dimensions = null);

/// <summary>Run defaults under <c>run:</c> in recal.yaml.</summary>
public sealed record RunDefaults(int Concurrency = 8, double MaxErrorShare = 0.05, TimeSpan? CacheTtl = null, int Retries = 4, TimeSpan? Timeout = null)
{
    public TimeSpan EffectiveTimeout => Timeout ?? TimeSpan.FromSeconds(60);
}

/// <summary>
/// The <c>retention:</c> setting (docs/store.md#retention-of-raw-traces): raw traces are kept for <see cref="RawTraces"/>
/// (whole days), and <c>recal serve</c> prunes the older ones every <see cref="Every"/>. The daily rollup and the keys
/// are kept regardless.
/// </summary>
public sealed record RetentionSettings(TimeSpan RawTraces, TimeSpan Every)
{
    /// <summary>Where <c>raw_traces</c> is written, for what is said of it later (the policy's window checked against it).</summary>
    public Diagnostics.SourceLocation? Location { get; init; }

    /// <summary>How often <c>recal serve</c> prunes when <c>every:</c> is not given.</summary>
    public static readonly TimeSpan DefaultEvery = TimeSpan.FromHours(1);

    /// <summary>The cutoff at <paramref name="now"/>: raw traces before the UTC midnight <see cref="RawTraces"/> ago go.</summary>
    public DateTimeOffset CutoffAt(DateTimeOffset now) => Storage.Retention.Cutoff(now - RawTraces);
}
