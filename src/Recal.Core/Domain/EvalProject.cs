namespace Recal.Domain;

/// <summary>The settings in <c>recal.yaml</c>, with paths resolved against the project folder.</summary>
/// <param name="FormatVersion">The project format version the file was written for.</param>
/// <param name="StorePath">
/// The embedded store's database file. For a store at a URI (<see cref="Store"/>), where the default file would be:
/// its folder holds the project's local state (the quarantine) all the same.
/// </param>
/// <param name="CasePaths">Case files (JSONL) found under the configured cases folder or globs.</param>
public sealed record ProjectSettings(int FormatVersion, string Name, string StorePath, string TaxonomyPath, string PolicyPath, IReadOnlyList<string> CasePaths)
{
    /// <summary>Where the store is (the <c>store:</c> setting): the SQLite file <see cref="StorePath"/> unless a URI names another.</summary>
    public Storage.StoreLocation Store
    {
        get => field ?? Storage.StoreLocation.ForFile(StorePath);
        init;
    }

    /// <summary>The systems under test, in the order recal.yaml lists them.</summary>
    public IReadOnlyList<TargetSettings> Targets { get; init; } = [];

    /// <summary>The LLM-judge ensemble; null when the project has none.</summary>
    public JudgeSettings? Judge { get; init; }

    /// <summary>Run defaults.</summary>
    public RunDefaults Run { get; init; } = new();

    /// <summary>The embedder of the gap instruments.</summary>
    public EmbeddingSettings Embeddings { get; init; } = new();

    /// <summary>How long raw traces are kept (the <c>retention:</c> setting); null keeps them all.</summary>
    public RetentionSettings? Retention { get; init; }

    /// <summary>
    /// The environment variables whose values are credentials: every <c>api_key_env</c>, and variables expanded into
    /// a URL's user info or query or into a header. Their values are redacted from stored and printed texts.
    /// </summary>
    public IReadOnlyList<string> SecretVariables { get; init; } = [];

    /// <summary>Credentials written literally into recal.yaml (URL user info, credential headers), redacted the same way.</summary>
    public IReadOnlyList<string> SecretLiterals { get; init; } = [];

    /// <summary>The <c>ingest:</c> section: defaults of <c>recal ingest</c> and the mapping for any JSON; null when absent.</summary>
    public Ingest.Mapping.IngestSettings? Ingest { get; init; }
}

/// <summary>A loaded, validated eval project: immutable once built.</summary>
public sealed record EvalProject(string Root, ProjectSettings Settings, Taxonomy Taxonomy, SamplingPolicy Policy, IReadOnlyList<EvalCase> Cases)
{
    /// <summary>The judge ensemble's rubric, loaded from <see cref="JudgeSettings.RubricPath"/>; null without a judge.</summary>
    public Judging.Rubric? Rubric { get; init; }

    /// <summary>The sealed holdout's record (holdout/seal.json); null when the holdout is not sealed.</summary>
    public Lifecycle.SealRecord? Seal { get; init; }

    /// <summary>The current project format version written by <c>recal init</c>.</summary>
    public const int CurrentFormatVersion = 1;
}
