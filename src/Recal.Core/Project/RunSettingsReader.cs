using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Recal.Domain;
using Recal.Text;
using YamlDotNet.RepresentationModel;

namespace Recal.Project;

/// <summary>Reads <c>targets:</c>, <c>judge:</c> and <c>run:</c> of recal.yaml (docs/running.md).</summary>
public static partial class RunSettingsReader
{
    /// <summary>The spellings of <see cref="TargetKind"/> in recal.yaml.</summary>
    public static IReadOnlyDictionary<string, TargetKind> TargetKinds { get; } = new Dictionary<string, TargetKind>(StringComparer.Ordinal)
    {
        ["openai"] = TargetKind.OpenAI,
        ["http"] = TargetKind.Http,
        ["program"] = TargetKind.Program,
        ["replay"] = TargetKind.Replay,
    };

    private static readonly string[] ChatParameters = ["temperature", "top_p", "max_tokens", "seed", "stop"];

    internal static RunDefaults ReadRun(YamlObject? yaml)
    {
        if (yaml is null)
        {
            return new RunDefaults();
        }

        var defaults = new RunDefaults(
            yaml.Int("concurrency", min: 1, max: 1024) ?? 8,
            yaml.Double("max_error_share", min: 0, max: 1) ?? 0.05,
            yaml.Duration("cache_ttl"),
            yaml.Int("retries", min: 0, max: 20) ?? 4,
            yaml.Duration("timeout", max: TimeSpan.FromHours(24)));
        yaml.RejectUnknownKeys();
        return defaults;
    }

    /// <summary>The spellings of <see cref="EmbedderKind"/> in recal.yaml.</summary>
    public static IReadOnlyDictionary<string, EmbedderKind> EmbedderKinds { get; } = new Dictionary<string, EmbedderKind>(StringComparer.Ordinal)
    {
        ["builtin"] = EmbedderKind.Builtin,
        ["openai"] = EmbedderKind.OpenAI,
        ["minilm"] = EmbedderKind.MiniLM,
    };

    /// <summary>
    /// The <c>retention:</c> section: <c>raw_traces</c> (required, whole days, at least 1d) and <c>every</c> (how often
    /// <c>recal serve</c> prunes, 1min to 7d, default 1h). Null when absent or wrong (the errors say where).
    /// </summary>
    internal static RetentionSettings? ReadRetention(YamlObject? yaml)
    {
        if (yaml is null)
        {
            return null;
        }

        var raw = yaml.Duration("raw_traces", required: true);
        var every = yaml.Duration("every", max: TimeSpan.FromDays(7));
        yaml.RejectUnknownKeys();
        if (raw is { } keep && (keep.Ticks % TimeSpan.TicksPerDay != 0))
        {
            // Raw traces go by whole UTC days: the rollup the pruned days keep is per day.
            yaml.Diagnostics.Error("RC1018", $"'{yaml.Name("raw_traces")}' is {yaml.String("raw_traces")}; raw traces are kept for whole days", yaml.At(yaml.Get("raw_traces")!), $"write days or weeks, e.g. {Math.Max(1, (int)Math.Ceiling(keep.TotalDays))}d");
            return null;
        }

        if (every is { } often && often < TimeSpan.FromMinutes(1))
        {
            yaml.Diagnostics.Error("RC1018", $"'{yaml.Name("every")}' is {yaml.String("every")}; a prune runs at most once a minute", yaml.At(yaml.Get("every")!), "write 1min or more, e.g. 1h (the default)");
            return null;
        }

        return raw is { } days ? new RetentionSettings(days, every ?? RetentionSettings.DefaultEvery) { Location = yaml.At(yaml.Get("raw_traces")!) } : null;
    }

    internal static EmbeddingSettings ReadEmbeddings(YamlObject? yaml)
    {
        if (yaml is null)
        {
            return new EmbeddingSettings();
        }

        var typeName = yaml.String("type") ?? "builtin";
        if (!EmbedderKinds.TryGetValue(typeName, out var kind))
        {
            yaml.Diagnostics.Error("RC1007", $"'{yaml.Name("type")}' has the unknown value '{typeName}'", yaml.At(yaml.Get("type")!), Spelling.Hint(typeName, [.. EmbedderKinds.Keys]));
            yaml.RejectUnknownKeys();
            return new EmbeddingSettings();
        }

        var settings = kind == EmbedderKind.OpenAI
            ? new EmbeddingSettings(kind, Url(yaml, "base_url", required: true), yaml.String("model", required: true), ApiKeyEnv(yaml), yaml.Int("dimensions", min: 1, max: 65_536))
            : new EmbeddingSettings(kind);
        if (kind != EmbedderKind.OpenAI)
        {
            foreach (var key in new[] { "base_url", "model", "api_key_env", "dimensions" })
            {
                if (yaml.Get(key) is { } node)
                {
                    yaml.Diagnostics.Error("RC1503", $"'{yaml.Name(key)}' is only read with type: openai", yaml.At(node), "remove it, or set type: openai");
                }
            }
        }

        yaml.RejectUnknownKeys();
        return settings;
    }

    internal static IReadOnlyList<TargetSettings> ReadTargets(YamlObject? yaml, string root)
    {
        if (yaml is null)
        {
            return [];
        }

        var targets = new List<TargetSettings>();
        foreach (var (keyNode, valueNode) in yaml.Node.Children)
        {
            var name = ((YamlScalarNode)keyNode).Value ?? string.Empty;
            if (yaml.Object(name) is not { } target)
            {
                continue;
            }

            if (!NamePattern().IsMatch(name))
            {
                yaml.Diagnostics.Error("RC1501", $"target name '{name}' must be letters, digits, '.', '_' or '-'", yaml.At(keyNode));
            }

            if (ReadTarget(name, target, root) is { } settings)
            {
                targets.Add(settings);
            }
        }

        return targets;
    }

    internal static JudgeSettings? ReadJudge(YamlObject? yaml, string root)
    {
        if (yaml is null)
        {
            return null;
        }

        var rubric = yaml.String("rubric", required: true);
        var queue = yaml.String("review_queue") ?? Path.Combine(".recal", "review-queue.jsonl");
        var concurrency = yaml.Int("concurrency", min: 1, max: 1024);
        var rpm = yaml.Double("rpm", min: 0.001);
        var judges = new List<JudgeModelSettings>();
        foreach (var item in yaml.Sequence("judges", required: true))
        {
            if (item is not YamlMappingNode mapping)
            {
                yaml.Diagnostics.Error("RC1505", "every judge must be a mapping with base_url and model", yaml.At(item));
                continue;
            }

            var judge = new YamlObject(mapping, yaml.File, yaml.Diagnostics, "judge.judges[]");
            var baseUrl = Url(judge, "base_url", required: true);
            var model = judge.String("model", required: true);
            var apiKey = ApiKeyEnv(judge);
            var seed = judge.Int("seed");
            var temperature = judge.Double("temperature", min: 0, max: 2);
            var name = judge.String("name") ?? (seed is null ? model : $"{model}#seed{seed.Value.ToString(CultureInfo.InvariantCulture)}");
            judge.RejectUnknownKeys();
            if (baseUrl is not null && model is not null)
            {
                judges.Add(new JudgeModelSettings(name!, baseUrl, model, apiKey, seed, temperature));
            }
        }

        if (judges.Count == 0 && yaml.Get("judges") is { } node)
        {
            yaml.Diagnostics.Error("RC1505", "'judge.judges' lists no judge", yaml.At(node), "list at least one: - {base_url: ..., model: ...}");
        }

        foreach (var duplicate in judges.GroupBy(j => j.Name, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            yaml.Diagnostics.Error("RC1506", $"two judges are named '{duplicate.Key}'", yaml.Location, "give each judge a different seed, model or name");
        }

        yaml.RejectUnknownKeys();
        return rubric is null ? null : new JudgeSettings(Path.GetFullPath(Path.Combine(root, rubric)), judges, Path.GetFullPath(Path.Combine(root, queue)), concurrency, rpm);
    }

    /// <summary>
    /// Expands <c>${NAME}</c> and <c>${NAME:-default}</c> from the environment. Unset names without a default are
    /// reported in <paramref name="missing"/> and left as written.
    /// </summary>
    public static string Expand(string text, List<string>? missing = null) =>
        VariablePattern().Replace(text, match =>
        {
            var value = Environment.GetEnvironmentVariable(match.Groups[1].Value);
            if (!string.IsNullOrEmpty(value))
            {
                return value;
            }

            if (match.Groups[2].Success)
            {
                return match.Groups[2].Value;
            }

            missing?.Add(match.Groups[1].Value);
            return match.Value;
        });

    private static TargetSettings? ReadTarget(string name, YamlObject yaml, string root)
    {
        var typeName = yaml.String("type", required: true);
        if (typeName is null)
        {
            return null;
        }

        if (!TargetKinds.TryGetValue(typeName, out var kindValue))
        {
            yaml.Diagnostics.Error("RC1007", $"'{yaml.Name("type")}' has the unknown value '{typeName}'", yaml.At(yaml.Get("type")!), Spelling.Hint(typeName, [.. TargetKinds.Keys]));
            return null;
        }

        TargetKind? kind = kindValue;

        var settings = new TargetSettings(name, kind.Value, yaml.Location)
        {
            Concurrency = yaml.Int("concurrency", min: 1, max: 1024),
            RequestsPerMinute = yaml.Double("rpm", min: 0.001),
            Timeout = yaml.Duration("timeout", max: TimeSpan.FromHours(24)),
            Price = ReadPrice(yaml.Object("price")),
            Release = yaml.String("release"),
        };

        switch (kind.Value)
        {
            case TargetKind.OpenAI:
                var promptPath = yaml.String("prompt");
                settings = settings with
                {
                    BaseUrl = Url(yaml, "base_url", required: true),
                    Model = yaml.String("model", required: true),
                    ApiKeyEnv = ApiKeyEnv(yaml),
                    Parameters = ReadParameters(yaml.Object("parameters")),
                    PromptPath = promptPath,
                    Prompt = promptPath is null ? null : ReadPrompt(yaml, root, promptPath),
                };
                break;
            case TargetKind.Http:
                var template = yaml.String("request", required: true);
                if (template is not null && !template.Contains("{{input}}", StringComparison.Ordinal))
                {
                    yaml.Diagnostics.Error("RC1502", $"'{yaml.Name("request")}' has no {{{{input}}}} placeholder", yaml.At(yaml.Get("request")!), "write where the case input goes, e.g. {\"question\": {{input}}}");
                }

                settings = settings with
                {
                    Url = Url(yaml, "url", required: true),
                    RequestTemplate = template,
                    ResponsePath = yaml.String("response_path", required: true),
                    ApiKeyEnv = ApiKeyEnv(yaml),
                    Headers = ReadHeaders(yaml.Object("headers")),
                };
                break;
            case TargetKind.Program:
                var command = yaml.Strings("command", required: true);
                if (command.Count == 1 && command[0].Contains(' ', StringComparison.Ordinal))
                {
                    command = command[0].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                }

                settings = settings with { Command = command };
                break;
            case TargetKind.Replay:
                var source = yaml.String("source") ?? "traces";
                var file = yaml.String("file");
                if (source is not ("traces" or "file"))
                {
                    yaml.Diagnostics.Error("RC1007", $"'{yaml.Name("source")}' has the unknown value '{source}'", yaml.At(yaml.Get("source")!), Spelling.Hint(source, ["traces", "file"]));
                }
                else if (source == "file" && file is null)
                {
                    yaml.Diagnostics.Error("RC1004", $"'{yaml.Name("file")}' is required when source is file", yaml.Location, "name a JSONL file of {\"case_id\": ..., \"output\": ...} lines");
                }
                else if (source == "traces" && file is not null)
                {
                    yaml.Diagnostics.Error("RC1503", $"'{yaml.Name("file")}' is only read with source: file", yaml.At(yaml.Get("file")!));
                }

                settings = settings with { ReplayFile = file is null ? null : Path.GetFullPath(Path.Combine(root, file)) };
                break;
        }

        yaml.RejectUnknownKeys();
        return settings;
    }

    private static string? Url(YamlObject yaml, string key, bool required)
    {
        var text = yaml.String(key, required);
        if (text is null)
        {
            return null;
        }

        var missing = new List<string>();
        var expanded = Expand(text, missing);
        if (missing.Count > 0)
        {
            yaml.Diagnostics.Error("RC1504", $"'{yaml.Name(key)}' names the environment variable {missing[0]}, which is not set", yaml.At(yaml.Get(key)!), $"set {missing[0]}, or give a default: ${{{missing[0]}:-http://...}}");
            return null;
        }

        if (!Uri.TryCreate(expanded, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            yaml.Diagnostics.Error("RC1504", $"'{yaml.Name(key)}' is not an http(s) URL: '{expanded}'", yaml.At(yaml.Get(key)!), "e.g. http://127.0.0.1:8000/v1");
            return null;
        }

        return expanded;
    }

    private static string? ReadPrompt(YamlObject yaml, string root, string path)
    {
        var full = Path.GetFullPath(Path.Combine(root, path));
        if (!File.Exists(full))
        {
            yaml.Diagnostics.Error("RC1001", $"prompt file '{path}' does not exist", yaml.At(yaml.Get("prompt")!), "give a path relative to the project folder");
            return null;
        }

        return File.ReadAllText(full);
    }

    private static Dictionary<string, JsonElement> ReadParameters(YamlObject? yaml)
    {
        var parameters = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (yaml is null)
        {
            return parameters;
        }

        if (yaml.Double("temperature", min: 0, max: 2) is { } temperature)
        {
            parameters["temperature"] = JsonSerializer.SerializeToElement(temperature);
        }

        if (yaml.Double("top_p", min: 0, max: 1) is { } topP)
        {
            parameters["top_p"] = JsonSerializer.SerializeToElement(topP);
        }

        if (yaml.Int("max_tokens", min: 1) is { } maxTokens)
        {
            parameters["max_tokens"] = JsonSerializer.SerializeToElement(maxTokens);
        }

        if (yaml.Int("seed") is { } seed)
        {
            parameters["seed"] = JsonSerializer.SerializeToElement(seed);
        }

        if (yaml.Get("stop") is not null)
        {
            parameters["stop"] = JsonSerializer.SerializeToElement(yaml.Strings("stop"));
        }

        foreach (var key in yaml.Node.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value!).Where(k => !ChatParameters.Contains(k)))
        {
            yaml.Diagnostics.Error("RC1003", $"unknown key '{yaml.Name(key)}'", yaml.Location, Spelling.Hint(key, ChatParameters));
        }

        return parameters;
    }

    /// <summary>
    /// <c>api_key_env</c>: the name of the environment variable holding the key. A value that is not a variable name
    /// is most likely a key pasted in; it is refused without being repeated, so it is not printed again.
    /// </summary>
    /// <summary>Whether <paramref name="name"/> can name an environment variable.</summary>
    public static bool IsVariableName(string name) => VariableNamePattern().IsMatch(name);

    private static string? ApiKeyEnv(YamlObject yaml)
    {
        var name = yaml.String("api_key_env");
        if (name is not null && !IsVariableName(name))
        {
            yaml.Diagnostics.Error(
                "RC1507",
                $"'{yaml.Name("api_key_env")}' must name an environment variable (letters, digits and _, not starting with a digit); the value written there is not one, and is not shown here in case it is a key",
                yaml.At(yaml.Get("api_key_env")!),
                "put the key in an environment variable, e.g. export OPENAI_API_KEY=..., and write api_key_env: OPENAI_API_KEY");
            return null;
        }

        return name;
    }

    private static Dictionary<string, string> ReadHeaders(YamlObject? yaml)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (yaml is null)
        {
            return headers;
        }

        foreach (var (key, value) in yaml.Node.Children)
        {
            if (key is YamlScalarNode { Value: { } name } && value is YamlScalarNode { Value: { } text })
            {
                headers[name] = text;
                if (SecretSources.IsCredentialHeader(name) && !text.Contains("${", StringComparison.Ordinal))
                {
                    yaml.Diagnostics.Warning(
                        "RC1508",
                        $"header '{yaml.Name(name)}' holds a literal credential: recal.yaml is committed to git",
                        yaml.At(value),
                        $"read it from the environment instead, e.g. {name}: \"Bearer ${{MY_TOKEN}}\"");
                }
            }
            else
            {
                yaml.Diagnostics.Error("RC1005", "every header must be 'Name: value'", yaml.At(key));
            }
        }

        return headers;
    }

    private static TokenPrice? ReadPrice(YamlObject? yaml)
    {
        if (yaml is null)
        {
            return null;
        }

        var price = new TokenPrice(yaml.Double("input", required: true, min: 0) ?? 0, yaml.Double("output", required: true, min: 0) ?? 0);
        yaml.RejectUnknownKeys();
        return price;
    }

    [GeneratedRegex("^[A-Za-z0-9._-]+$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableNamePattern();

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")]
    private static partial Regex VariablePattern();
}
