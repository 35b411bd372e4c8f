using System.CommandLine;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Embeddings;
using Recal.Embeddings.MiniLM;
using Recal.Project;
using Recal.Providers.OpenAI;
using Recal.Running;

namespace Recal.Cli;

/// <summary>
/// The embedder options the gap commands share. Each overrides <c>embeddings:</c> in recal.yaml for one command; with
/// none given the project's embedder is used (the built-in one when recal.yaml names none).
/// </summary>
internal sealed class EmbedderOptions
{
    private readonly Option<string?> kind = new("--embedder")
    {
        Description = "Which embedder: builtin (hashed n-grams, no model), openai (an OpenAI-compatible /v1/embeddings endpoint) or minilm (all-MiniLM-L6-v2 run locally, no network); default: embeddings: in recal.yaml, else builtin",
        HelpName = "name",
    };

    private readonly Option<string?> url = new("--embedding-url") { Description = "--embedder openai: the API root, e.g. http://127.0.0.1:8000/v1", HelpName = "url" };
    private readonly Option<string?> model = new("--embedding-model") { Description = "--embedder openai: the embedding model", HelpName = "model" };
    private readonly Option<string?> keyVariable = new("--embedding-key-env") { Description = "--embedder openai: the environment variable holding the API key", HelpName = "variable" };
    private readonly Option<int?> dimensions = new("--embedding-dimensions") { Description = "--embedder openai: ask the model for this many dimensions", HelpName = "n" };

    public EmbedderOptions()
    {
        kind.AcceptOnlyFromAmong([.. RunSettingsReader.EmbedderKinds.Keys]);

        // A key pasted in place of the variable's name is refused without being repeated.
        keyVariable.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } name && !RunSettingsReader.IsVariableName(name))
            {
                result.AddError("--embedding-key-env must name an environment variable (letters, digits and _), not hold the key; the value given is not shown");
            }
        });
    }

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { kind, url, model, keyVariable, dimensions })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>The project's embedder settings with the command line's overrides applied.</summary>
    public EmbeddingSettings Resolve(ParseResult parse, EmbeddingSettings configured)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(configured);
        var settings = configured;
        if (parse.GetValue(kind) is { } name)
        {
            var chosen = RunSettingsReader.EmbedderKinds[name];
            settings = chosen == configured.Kind ? configured : new EmbeddingSettings(chosen);
        }

        return settings with
        {
            BaseUrl = parse.GetValue(url) is { Length: > 0 } u ? RunSettingsReader.Expand(u) : settings.BaseUrl,
            Model = parse.GetValue(model) is { Length: > 0 } m ? m : settings.Model,
            ApiKeyEnv = parse.GetValue(keyVariable) ?? settings.ApiKeyEnv,
            Dimensions = parse.GetValue(dimensions) ?? settings.Dimensions,
        };
    }

    /// <summary>
    /// The embedder the settings name (the endpoint's calls retried as a run's are) and its id, which keys the store's
    /// vector cache; or the reason there is none.
    /// </summary>
    public static (IEmbeddingGenerator<string, Embedding<float>>? Embedder, string? Id, string? Error) Create(EmbeddingSettings settings, RunDefaults run)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(run);
        if (settings.Kind == EmbedderKind.Builtin)
        {
            var builtin = new HashedEmbeddingGenerator();
            return (builtin, builtin.Id, null);
        }

        if (settings.Kind == EmbedderKind.MiniLM)
        {
            var minilm = new MiniLMEmbeddingGenerator();
            return (minilm, minilm.Id, null);
        }

        if (string.IsNullOrEmpty(settings.BaseUrl) || string.IsNullOrEmpty(settings.Model))
        {
            return (null, null, "the openai embedder needs a base URL and a model: set embeddings.base_url and embeddings.model in recal.yaml, or give --embedding-url and --embedding-model");
        }

        if (!Uri.TryCreate(settings.BaseUrl, UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            return (null, null, $"the embedding URL {settings.BaseUrl} is not an http(s) URL");
        }

        var (client, error) = OpenAICompatibleEmbeddingGenerator.Create(new OpenAICompatibleSettings(baseUrl, settings.Model, settings.ApiKeyEnv), settings.Dimensions, timeout: run.EffectiveTimeout);
        if (client is null)
        {
            return (null, null, error);
        }

        return (new RetryingEmbeddingGenerator(client, RetryPolicy.Create(new RetrySettings(run.Retries))), client.Id, null);
    }
}
