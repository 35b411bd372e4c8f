using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Judging;
using Recal.Project;
using Recal.Providers.OpenAI;
using Recal.Running;
using Recal.Storage;

namespace Recal.Cli.Running;

/// <summary>Builds the configured target and judges; owns what they hold open (HTTP clients, programs).</summary>
internal sealed class TargetFactory : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IDisposable> _disposables = [];
    private int _retries;

    /// <summary>Retries made by targets and judges so far.</summary>
    public int Retries => Volatile.Read(ref _retries);

    public RetrySettings Retry { get; init; } = new();

    /// <summary>
    /// Makes a requests-per-minute limit from its name and rate: by default one in this process; a distributed run's
    /// worker passes limits kept in the store, shared by every worker (<see cref="SharedRequestRateLimiter"/>).
    /// </summary>
    public Func<string, double, IRequestLimiter> Limiter { get; init; } = (_, rpm) => new RequestRateLimiter(rpm);

    /// <summary>Builds the target, or says what is missing (an unset API key variable, say).</summary>
    public async Task<(ITarget? Target, string? Error)> CreateTargetAsync(EvalProject project, TargetSettings settings, IRecalStore store, IReadOnlyList<EvalCase> cases, bool useCache, CancellationToken cancellationToken)
    {
        var run = project.Settings.Run;
        var guard = new CallGuard(settings.RequestsPerMinute is { } rpm ? Limiter("target:" + settings.Name, rpm) : null, settings.Timeout ?? run.EffectiveTimeout);
        var pipeline = RetryPolicy.Create(Retry, (_, _, _) => Interlocked.Increment(ref _retries));
        var ttl = run.CacheTtl;
        switch (settings.Kind)
        {
            case TargetKind.OpenAI:
                var (client, error) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(new Uri(settings.BaseUrl!), settings.Model!, settings.ApiKeyEnv), settings.Timeout ?? run.EffectiveTimeout);
                if (client is null)
                {
                    return (null, $"target '{settings.Name}': {error}");
                }

                _disposables.Add(client);
                var cache = useCache ? new ResponseCacheSettings(store, "openai", settings.BaseUrl!, settings.Model!, ttl) : null;
                return (new ChatTarget(client, pipeline, ChatOptionsFor(settings.Parameters), settings.Prompt, cache, guard), null);
            case TargetKind.Http:
                var missing = new List<string>();
                foreach (var value in settings.Headers.Values)
                {
                    RunSettingsReader.Expand(value, missing);
                }

                string? key = null;
                if (settings.ApiKeyEnv is { } variable && string.IsNullOrEmpty(key = Environment.GetEnvironmentVariable(variable)))
                {
                    missing.Add(variable);
                }

                if (missing.Count > 0)
                {
                    return (null, $"target '{settings.Name}': the environment variable {missing[0]} is not set");
                }

                var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
                _disposables.Add(http);
                ITarget target = new HttpJsonTarget(http, new Uri(settings.Url!), settings.RequestTemplate!, settings.ResponsePath!, pipeline, guard, (request, _) =>
                {
                    foreach (var (name, value) in settings.Headers)
                    {
                        request.Headers.TryAddWithoutValidation(name, RunSettingsReader.Expand(value));
                    }

                    if (key is not null)
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
                    }

                    return ValueTask.CompletedTask;
                });
                return (useCache ? new CachingTarget(target, store, "http", settings.Url!, CacheConfiguration(settings), ttl) : target, null);
            case TargetKind.Program:
                var program = new ProgramTarget(settings.Command, project.Root, pipeline, guard);
                _owned.Add(program);
                return (useCache ? new CachingTarget(program, store, "program", string.Join(' ', settings.Command), CacheConfiguration(settings), ttl) : program, null);
            default:
                if (settings.ReplayFile is { } file)
                {
                    if (!File.Exists(file))
                    {
                        return (null, $"target '{settings.Name}': the results file {file} does not exist");
                    }

                    return (ReplayTarget.FromFile(file), null);
                }

                return (await ReplayTarget.FromTracesAsync(store, cases, cancellationToken).ConfigureAwait(false), null);
        }
    }

    /// <summary>Builds the judge panel of the project, or says what is missing.</summary>
    public (JudgePanel? Panel, string? Error) CreateJudges(EvalProject project, IRecalStore store, bool useCache, string reviewQueuePath)
    {
        var settings = project.Settings.Judge!;
        var run = project.Settings.Run;
        var judges = new List<PanelJudge>();
        foreach (var judge in settings.Judges)
        {
            var (client, error) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(new Uri(judge.BaseUrl), judge.Model, judge.ApiKeyEnv), run.EffectiveTimeout);
            if (client is null)
            {
                return (null, $"judge '{judge.Name}': {error}");
            }

            _disposables.Add(client);
            judges.Add(new PanelJudge(judge.Name, client, judge.BaseUrl, judge.Model, new ChatOptions { Temperature = (float)(judge.Temperature ?? 0), Seed = judge.Seed }));
        }

        var guard = new CallGuard(settings.RequestsPerMinute is { } rpm ? Limiter("judges", rpm) : null, run.EffectiveTimeout);
        var pipeline = RetryPolicy.Create(Retry, (_, _, _) => Interlocked.Increment(ref _retries));
        return (new JudgePanel(project.Rubric!, judges, pipeline, useCache ? store : null, run.CacheTtl, guard, new ReviewQueue(reviewQueuePath), settings.Concurrency), null);
    }

    /// <summary>
    /// The target's configuration as stored with a run: secrets excluded (variables are named, never read; URLs with
    /// their user info and credential query values redacted).
    /// </summary>
    public static string Describe(TargetSettings settings, SecretRedactor redactor)
    {
        var description = new Dictionary<string, object?>
        {
            ["name"] = settings.Name,
            ["type"] = settings.Kind.ToString().ToLowerInvariant(),
            ["base_url"] = redactor.RedactOrNull(settings.BaseUrl),
            ["model"] = settings.Model,
            ["api_key_env"] = settings.ApiKeyEnv,
            ["parameters"] = settings.Parameters.Count == 0 ? null : settings.Parameters,
            ["prompt"] = settings.PromptPath,
            ["prompt_sha256"] = settings.Prompt is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(settings.Prompt)))[..12],
            ["url"] = redactor.RedactOrNull(settings.Url),
            ["request"] = settings.RequestTemplate,
            ["response_path"] = settings.ResponsePath,
            ["headers"] = settings.Headers.Count == 0 ? null : settings.Headers.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList(),
            ["command"] = settings.Command.Count == 0 ? null : settings.Command,
            ["replay_file"] = settings.ReplayFile,
            ["rpm"] = settings.RequestsPerMinute,
            ["price"] = settings.Price,
        };
        return JsonSerializer.Serialize(description.Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }
    }

    private static ChatOptions ChatOptionsFor(IReadOnlyDictionary<string, JsonElement> parameters)
    {
        var options = new ChatOptions();
        if (parameters.TryGetValue("temperature", out var t))
        {
            options.Temperature = t.GetSingle();
        }

        if (parameters.TryGetValue("top_p", out var p))
        {
            options.TopP = p.GetSingle();
        }

        if (parameters.TryGetValue("max_tokens", out var m))
        {
            options.MaxOutputTokens = m.GetInt32();
        }

        if (parameters.TryGetValue("seed", out var s))
        {
            options.Seed = s.GetInt64();
        }

        if (parameters.TryGetValue("stop", out var stop))
        {
            options.StopSequences = [.. stop.EnumerateArray().Select(e => e.GetString()!)];
        }

        return options;
    }

    /// <summary>What besides the input determines an HTTP or program target's answer (header values excluded: they may be secrets).</summary>
    private static Dictionary<string, JsonElement> CacheConfiguration(TargetSettings settings) => new(StringComparer.Ordinal)
    {
        ["request_template"] = JsonSerializer.SerializeToElement(settings.RequestTemplate ?? string.Empty),
        ["response_path"] = JsonSerializer.SerializeToElement(settings.ResponsePath ?? string.Empty),
        ["command"] = JsonSerializer.SerializeToElement(settings.Command),
    };
}
