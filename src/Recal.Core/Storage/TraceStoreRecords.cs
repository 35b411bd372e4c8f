using Recal.Domain;

namespace Recal.Storage;

/// <summary>A time bucket for traffic series.</summary>
public enum Period
{
    /// <summary>One bucket over the whole window.</summary>
    None,
    Day,

    /// <summary>ISO weeks, starting Monday 00:00 UTC.</summary>
    Week,
    Month,
}

/// <summary>Which stored traffic to count.</summary>
/// <param name="From">Inclusive lower bound on the trace timestamp; null for no bound.</param>
/// <param name="To">Exclusive upper bound on the trace timestamp; null for no bound.</param>
public sealed record TrafficQuery(DateTimeOffset? From = null, DateTimeOffset? To = null, Period Period = Period.None);

/// <summary>How many stored traces fall in one bucket, intent and cohort.</summary>
/// <param name="BucketStart">Start of the period bucket (UTC); null when the query had no period.</param>
public sealed record TrafficCount(DateTimeOffset? BucketStart, string Intent, string CohortKey, long Count);

/// <summary>The online signals of the stored traffic in a window.</summary>
/// <param name="Rated">Traces with a thumb.</param>
/// <param name="Up">Thumbs up among them.</param>
/// <param name="Escalated">Traces escalated to a human.</param>
public readonly record struct FeedbackCount(long Traces, long Rated, long Up, long Escalated)
{
    /// <summary>Traces that say whether they were escalated (the rest have no escalation field): the escalation rate's denominator.</summary>
    public long EscalationKnown { get; init; }

    /// <summary>Traces that say whether the user continued the conversation; counted by <see cref="ITraceStore.CountFeedbackByModelAsync"/> only.</summary>
    public long ContinuedKnown { get; init; }

    /// <summary>... of which the user continued.</summary>
    public long Continued { get; init; }

    /// <summary>Traces that say whether the user's task was completed; counted by <see cref="ITraceStore.CountFeedbackByModelAsync"/> only.</summary>
    public long CompletedKnown { get; init; }

    /// <summary>... of which it was.</summary>
    public long Completed { get; init; }

    /// <summary>This count with one more trace's continuation and completion signals.</summary>
    public FeedbackCount WithOutcome(bool? continued, bool? completed) => this with
    {
        ContinuedKnown = ContinuedKnown + (continued is null ? 0 : 1),
        Continued = Continued + (continued == true ? 1 : 0),
        CompletedKnown = CompletedKnown + (completed is null ? 0 : 1),
        Completed = Completed + (completed == true ? 1 : 0),
    };

    /// <summary>One trace's thumb and escalation (<see cref="WithOutcome"/> adds its continuation and completion).</summary>
    public static FeedbackCount Of(Recal.Domain.Feedback feedback)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        return new FeedbackCount(1, feedback.Thumbs is null ? 0 : 1, feedback.Thumbs > 0 ? 1 : 0, feedback.Escalated == true ? 1 : 0) { EscalationKnown = feedback.Escalated is null ? 0 : 1 };
    }

    /// <summary>The sum of two counts, every signal included.</summary>
    public FeedbackCount Plus(FeedbackCount other) =>
        new(Traces + other.Traces, Rated + other.Rated, Up + other.Up, Escalated + other.Escalated)
        {
            EscalationKnown = EscalationKnown + other.EscalationKnown,
            ContinuedKnown = ContinuedKnown + other.ContinuedKnown,
            Continued = Continued + other.Continued,
            CompletedKnown = CompletedKnown + other.CompletedKnown,
            Completed = Completed + other.Completed,
        };
}

/// <summary>The online signals of the stored traffic of one intent and cohort key in a window.</summary>
public sealed record FeedbackCell(string Intent, string CohortKey, FeedbackCount Count);

/// <summary>The online signals of one model's stored traffic in one intent and cohort key, and the span of its traces.</summary>
public sealed record ModelFeedbackCell(string Model, string Intent, string CohortKey, FeedbackCount Count, DateTimeOffset First, DateTimeOffset Last);

/// <summary>What a sampler needs of a stored trace, read without the trace's key, text, metadata or output.</summary>
/// <param name="Position">Where the store keeps the trace: among traces of one timestamp, the order <see cref="ITraceStore.ScanTracesAsync"/> visits them in; the handle <see cref="ITraceStore.GetClassificationTextsAsync"/> takes.</param>
/// <param name="Priority">The trace's sampling priority under <see cref="Ingest.SamplePriority.StoredSeed"/>, kept by the store beside the trace.</param>
/// <param name="Key">The trace's key, when the scan was asked for keys.</param>
/// <param name="TextHash">
/// The <see cref="Embeddings.TextHash"/> of the trace's classification text, the embedding cache's key, when the store
/// keeps it beside the head (zero when not read): a sample's vectors are then found without reading its texts.
/// </param>
public readonly record struct TraceHead(long Position, DateTimeOffset Timestamp, string Intent, string CohortKey, ulong Priority, string? Key = null, UInt128 TextHash = default);

/// <summary>A stored trace's key and classification text (<see cref="TraceInput.ClassificationText"/>).</summary>
public readonly record struct TraceText(string Key, string Text)
{
    /// <summary>The trace's own id, when it has one: a trace with an id is keyed <c>id:</c> and the id (<see cref="Ingest.TraceKeys"/>).</summary>
    public string? TraceId => Key.StartsWith(Ingest.TraceKeys.IdPrefix, StringComparison.Ordinal) ? Key[Ingest.TraceKeys.IdPrefix.Length..] : null;
}

/// <summary>The time span and size of the stored traffic.</summary>
/// <param name="Outliers">Traces left out of the span as isolated outliers at its ends (<see cref="TrafficAnchoring"/>).</param>
public sealed record TrafficSpan(DateTimeOffset First, DateTimeOffset Last, long Count, long Outliers = 0);

/// <summary>The outcome of storing one batch.</summary>
/// <param name="Added">Traces that were new.</param>
/// <param name="Duplicates">Traces already stored (same key), left unchanged.</param>
public readonly record struct StoreBatchResult(int Added, int Duplicates);

/// <summary>The outcome of merging one batch of trace parts.</summary>
/// <param name="Added">Parts that made a new trace.</param>
/// <param name="Merged">Parts that updated a stored trace (a later part of it, or feedback).</param>
/// <param name="Unchanged">Parts already contained in the stored trace (a rerun).</param>
/// <param name="Missing">Indexes in the batch of feedback-only parts whose trace is not stored.</param>
public sealed record MergeBatchResult(int Added, int Merged, int Unchanged, IReadOnlyList<int> Missing);

/// <summary>
/// What a draw needs to know of one stored trace before it knows whether it keeps it: the key, stratum and stored
/// priority, and the UTF-8 of the classification text and the metadata JSON, for the exclusion rules. The spans are
/// valid only during the visit.
/// </summary>
/// <param name="position">Where the store keeps the trace (<see cref="TraceHead.Position"/>); 0 from a store without positions.</param>
/// <param name="storedPriority">The trace's sampling priority under <see cref="Ingest.SamplePriority.StoredSeed"/>.</param>
/// <param name="metadata">The metadata as a JSON object; empty when the trace has none.</param>
public readonly ref struct SampleRow(long position, ReadOnlySpan<byte> key, string intent, string cohortKey, ulong storedPriority, ReadOnlySpan<byte> input, ReadOnlySpan<byte> metadata)
{
    public long Position { get; } = position;

    public ReadOnlySpan<byte> Key { get; } = key;

    public string Intent { get; } = intent;

    public string CohortKey { get; } = cohortKey;

    public ulong StoredPriority { get; } = storedPriority;

    public ReadOnlySpan<byte> Input { get; } = input;

    public ReadOnlySpan<byte> Metadata { get; } = metadata;
}

/// <summary>Visits one <see cref="SampleRow"/>.</summary>
public delegate void SampleRowVisitor(in SampleRow row);

/// <summary>
/// What a trace search filters on, of one stored trace: its place and time, stratum, how its intent was placed, its
/// feedback and the UTF-8 of its classification text (<see cref="TraceInput.ClassificationText"/>), no trace built.
/// The spans are valid only during the visit.
/// </summary>
/// <param name="position">Where the store keeps the trace (<see cref="TraceHead.Position"/>); 0 from a store without positions.</param>
public readonly ref struct SearchRow(long position, ReadOnlySpan<byte> key, DateTimeOffset timestamp, string intent, string cohortKey, IntentSource source, double confidence, Feedback feedback, ReadOnlySpan<byte> input)
{
    public long Position { get; } = position;

    public ReadOnlySpan<byte> Key { get; } = key;

    public DateTimeOffset Timestamp { get; } = timestamp;

    public string Intent { get; } = intent;

    public string CohortKey { get; } = cohortKey;

    public IntentSource Source { get; } = source;

    public double Confidence { get; } = confidence;

    public Feedback Feedback { get; } = feedback;

    public ReadOnlySpan<byte> Input { get; } = input;
}

/// <summary>Visits one <see cref="SearchRow"/>.</summary>
public delegate void SearchRowVisitor(in SearchRow row);

/// <summary>A stored trace named by its key and, where the store has them, its position (a faster way to it).</summary>
public readonly record struct TraceRef(string Key, long Position);
