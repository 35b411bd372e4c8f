using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Ingest.Otel;
using Recal.Storage;

namespace Recal.Server;

/// <summary>
/// What the host (the <c>recal serve</c> command, a test) composes for the server: the project's store, opened for
/// writing, and its classifier, as <c>recal ingest</c> uses them. The server owns neither: the host closes the store.
/// </summary>
/// <param name="Classify">The project's trace classifier (thread-safe: requests are parsed and classified in parallel).</param>
/// <param name="QuarantinePath">Where rejected records go, as for <c>recal ingest</c> (.recal/quarantine.jsonl).</param>
/// <param name="Mapping">Which spans make a trace and how feedback maps (the <c>ingest:</c> section of recal.yaml).</param>
/// <param name="ProjectName">Shown on the home page.</param>
public sealed record RecalServerContext(
    IRecalStore Store,
    Func<Trace, string, ClassifiedTrace> Classify,
    string QuarantinePath,
    OtelMappingOptions Mapping,
    string ProjectName)
{
    /// <summary>The ingest session's source and the quarantine's source name.</summary>
    public string Source { get; init; } = "recal serve";

    /// <summary>The clock that dates the ingest (future-dated traces are refused against it).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// The store the dashboard reads (and fills the embedding cache of): a connection of its own, so a long read never
    /// holds up the receiver's writer; by default the receiver's store.
    /// </summary>
    public IRecalStore? ViewStore { get; init; }

    /// <summary>The project folder the dashboard reads (again whenever its files change); null: the dashboard has no project to show.</summary>
    public string? ProjectRoot { get; init; }

    /// <summary>How long raw traces are kept (the project's <c>retention:</c> setting when the server started); null keeps them all.</summary>
    public RetentionSettings? Retention { get; init; }

    /// <summary>Makes the project's embedder for the coverage instruments, its cache id, or why there is none; null: coverage is unknown.</summary>
    public Func<EvalProject, (IEmbeddingGenerator<string, Embedding<float>>? Generator, string? Id, string? Error)>? Embedder { get; init; }
}
