using Recal.Domain;

namespace Recal.Ingest;

/// <summary>
/// A piece of one interaction read from a source that spreads interactions over several records (spans, runs,
/// observations, scores): a trace, or only feedback for a trace that may already be stored. Parts with the same key
/// are merged into one stored trace (<see cref="TraceMerge"/>), whatever file or batch they arrive in.
/// </summary>
/// <param name="Key">The deduplication key (<see cref="TraceKeys"/>) of the trace the part belongs to.</param>
/// <param name="Trace">The trace this part makes; null when the part carries feedback only.</param>
/// <param name="Feedback">Feedback for the trace (for a trace part, the same as <c>Trace.Feedback</c>).</param>
/// <param name="Place">Where the part was read, for diagnostics ("span 5fb3… in resourceSpans[0]…", "run 0b1c…").</param>
public sealed record TracePart(string Key, Trace? Trace, Feedback Feedback, string Place)
{
    /// <summary>
    /// Metadata for the trace from a record without content of its own (the root span of an OTel trace, arriving
    /// after its GenAI spans): merged into the stored trace, keys it already has kept.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>The model, from a record without content of its own (a model-call span whose messages came as log events).</summary>
    public string? Model { get; init; }

    public static TracePart ForTrace(Trace trace, string place) => new(TraceKeys.For(trace), trace, trace.Feedback, place);

    public static TracePart ForFeedback(string traceId, Feedback feedback, string place) => new(TraceKeys.IdPrefix + traceId, null, feedback, place);
}

/// <summary>A part after classification: what the store merges (<see cref="Storage.ITraceStore.MergeTracesAsync"/>).</summary>
/// <param name="Trace">The classified trace; null for feedback only.</param>
/// <param name="Metadata">Metadata from a part without a trace (<see cref="TracePart.Metadata"/>).</param>
/// <param name="Model">The model from such a part (<see cref="TracePart.Model"/>).</param>
public sealed record TraceUpdate(string Key, ClassifiedTrace? Trace, Feedback Feedback, IReadOnlyDictionary<string, string>? Metadata = null, string? Model = null);
