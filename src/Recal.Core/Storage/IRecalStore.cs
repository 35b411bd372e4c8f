using Recal.Domain;
using Recal.Running;

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
    /// <summary>Traces that say whether the user continued the conversation; counted by <see cref="IRecalStore.CountFeedbackByModelAsync"/> only.</summary>
    public long ContinuedKnown { get; init; }

    /// <summary>... of which the user continued.</summary>
    public long Continued { get; init; }

    /// <summary>Traces that say whether the user's task was completed; counted by <see cref="IRecalStore.CountFeedbackByModelAsync"/> only.</summary>
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

    /// <summary>The sum of two counts, every signal included.</summary>
    public FeedbackCount Plus(FeedbackCount other) =>
        new(Traces + other.Traces, Rated + other.Rated, Up + other.Up, Escalated + other.Escalated)
        {
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
/// <param name="Position">Where the store keeps the trace: among traces of one timestamp, the order <see cref="IRecalStore.ScanTracesAsync"/> visits them in; the handle <see cref="IRecalStore.GetClassificationTextsAsync"/> takes.</param>
/// <param name="Priority">The trace's sampling priority under <see cref="Ingest.SamplePriority.StoredSeed"/>, kept by the store beside the trace.</param>
/// <param name="Key">The trace's key, when the scan was asked for keys.</param>
public readonly record struct TraceHead(long Position, DateTimeOffset Timestamp, string Intent, string CohortKey, ulong Priority, string? Key = null);

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

/// <summary>Who holds the lease on a run, and until when (renewed while the run goes on).</summary>
public sealed record RunLeaseHolder(string Owner, DateTimeOffset Until);

/// <summary>
/// An ingest in progress, as <see cref="IRecalStore.BeginIngestAsync"/> starts it: the handle a writer passes with each batch
/// it stores, so the traces are tagged with this ingest and no other (two ingests into one store, at once, keep their own).
/// </summary>
/// <param name="Id">The ingest log entry's id (<see cref="IngestLogEntry.Id"/>).</param>
public sealed record IngestSession(long Id, string Source, DateTimeOffset Started);

/// <summary>A record of one ingest of one file.</summary>
public sealed record IngestLogEntry(long Id, string Source, DateTimeOffset Started, DateTimeOffset? Finished, long Read, long Added, long Duplicates, long Quarantined);

/// <summary>
/// The store behind every stage. Implementations are safe to kill at any point: a batch is stored whole or not at all.
/// </summary>
public interface IRecalStore : IAsyncDisposable
{
    /// <summary>The schema version the store is at after opening (migrations applied).</summary>
    int SchemaVersion { get; }

    /// <summary>
    /// Stores a batch in one transaction, skipping traces whose key is already stored; the traces added are tagged with
    /// <paramref name="ingest"/> (null: stored outside any ingest).
    /// </summary>
    ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, IngestSession? ingest, CancellationToken cancellationToken = default);

    /// <summary>Stores a batch outside any ingest (<see cref="AddTracesAsync(IReadOnlyList{ClassifiedTrace}, IngestSession?, CancellationToken)"/>).</summary>
    ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, CancellationToken cancellationToken = default) =>
        AddTracesAsync(batch, null, cancellationToken);

    /// <summary>
    /// Stores a batch of trace parts in one transaction: a part whose key is new is added (a feedback-only part then is
    /// <see cref="MergeBatchResult.Missing"/>); a part whose key is stored is merged into the stored trace by
    /// <paramref name="merge"/> (null: nothing changes). Parts of one key in the batch are merged in order. A trace the
    /// batch adds is tagged with <paramref name="ingest"/>; a merged trace keeps the ingest that first stored it.
    /// </summary>
    ValueTask<MergeBatchResult> MergeTracesAsync(IReadOnlyList<Ingest.TraceUpdate> batch, Func<ClassifiedTrace, Ingest.TraceUpdate, ClassifiedTrace?> merge, IngestSession? ingest, CancellationToken cancellationToken = default);

    /// <summary>Counts stored traffic by bucket, intent and cohort key.</summary>
    ValueTask<IReadOnlyList<TrafficCount>> CountTrafficAsync(TrafficQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Counts the online signals of the traces in [<paramref name="from"/>, <paramref name="to"/>). A store that can
    /// read the feedback columns alone overrides this; the default visits every trace.
    /// </summary>
    async ValueTask<FeedbackCount> CountFeedbackAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        long traces = 0, rated = 0, up = 0, escalated = 0;
        await ScanTracesAsync(from, to, trace =>
        {
            var feedback = trace.Trace.Feedback;
            traces++;
            rated += feedback.Thumbs is null ? 0 : 1;
            up += feedback.Thumbs > 0 ? 1 : 0;
            escalated += feedback.Escalated == true ? 1 : 0;
        }, cancellationToken).ConfigureAwait(false);
        return new FeedbackCount(traces, rated, up, escalated);
    }

    /// <summary>
    /// The online signals of the traces in [<paramref name="from"/>, <paramref name="to"/>) per intent and cohort key
    /// (cells with no trace absent, in no promised order). A store that can read the feedback columns alone overrides
    /// this; the default visits every trace.
    /// </summary>
    async ValueTask<IReadOnlyList<FeedbackCell>> CountFeedbackByCellAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        var cells = new Dictionary<(string Intent, string Cohort), FeedbackCount>();
        await ScanTracesAsync(from, to, trace =>
        {
            var feedback = trace.Trace.Feedback;
            var (traces, rated, up, escalated) = cells.GetValueOrDefault((trace.Intent, trace.CohortKey));
            cells[(trace.Intent, trace.CohortKey)] = new FeedbackCount(
                traces + 1, rated + (feedback.Thumbs is null ? 0 : 1), up + (feedback.Thumbs > 0 ? 1 : 0), escalated + (feedback.Escalated == true ? 1 : 0));
        }, cancellationToken).ConfigureAwait(false);
        return [.. cells.Select(kv => new FeedbackCell(kv.Key.Intent, kv.Key.Cohort, kv.Value))];
    }

    /// <summary>
    /// <see cref="CountFeedbackByCellAsync"/> for each of <paramref name="segments"/> (ascending, not overlapping), one
    /// list of cells per segment. A store that can read adjacent segments in one pass overrides this; the default asks
    /// for each segment in turn.
    /// </summary>
    async ValueTask<IReadOnlyList<IReadOnlyList<FeedbackCell>>> CountFeedbackBySegmentsAsync(IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> segments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var counted = new IReadOnlyList<FeedbackCell>[segments.Count];
        for (var i = 0; i < segments.Count; i++)
        {
            counted[i] = await CountFeedbackByCellAsync(segments[i].From, segments[i].To, cancellationToken).ConfigureAwait(false);
        }

        return counted;
    }

    /// <summary>
    /// The online signals of every stored trace answered by one of <paramref name="models"/>, per model, intent and
    /// cohort key (cells with no trace absent, in no promised order). A store that can read these columns alone
    /// overrides this; the default visits every trace.
    /// </summary>
    async ValueTask<IReadOnlyList<ModelFeedbackCell>> CountFeedbackByModelAsync(IReadOnlyCollection<string> models, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        var wanted = models.ToHashSet(StringComparer.Ordinal);
        var cells = new Dictionary<(string Model, string Intent, string Cohort), ModelFeedbackCell>();
        await ScanTracesAsync(null, null, trace =>
        {
            if (trace.Trace.Model is not { } model || !wanted.Contains(model))
            {
                return;
            }

            var (feedback, time) = (trace.Trace.Feedback, trace.Trace.Timestamp);
            var key = (model, trace.Intent, trace.CohortKey);
            var cell = cells.GetValueOrDefault(key) ?? new ModelFeedbackCell(model, trace.Intent, trace.CohortKey, default, time, time);
            cells[key] = cell with
            {
                Count = cell.Count.Plus(new FeedbackCount(1, feedback.Thumbs is null ? 0 : 1, feedback.Thumbs > 0 ? 1 : 0, feedback.Escalated == true ? 1 : 0)).WithOutcome(feedback.Continued, feedback.Completed),
                First = time < cell.First ? time : cell.First,
                Last = time > cell.Last ? time : cell.Last,
            };
        }, cancellationToken).ConfigureAwait(false);
        return [.. cells.Values];
    }

    /// <summary>
    /// The span windows are anchored to: the first and last timestamps and the number of stored traces, with isolated
    /// outliers at either end left out (<see cref="TrafficAnchoring"/>); null when the store is empty.
    /// </summary>
    ValueTask<TrafficSpan?> GetTrafficSpanAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Starts an ingest log entry and returns the session to store its batches with. The store keeps no current ingest:
    /// any number may be open at once.
    /// </summary>
    ValueTask<IngestSession> BeginIngestAsync(string source, CancellationToken cancellationToken = default);

    /// <summary>Completes an ingest log entry with its counts.</summary>
    ValueTask EndIngestAsync(IngestSession ingest, long read, long added, long duplicates, long quarantined, CancellationToken cancellationToken = default);

    /// <summary>
    /// How many stored traces each ingest added, by ingest id (<see cref="IngestSession.Id"/>); traces stored outside any
    /// ingest are not counted, ingests that added none are absent.
    /// </summary>
    ValueTask<IReadOnlyDictionary<long, long>> CountTracesByIngestAsync(CancellationToken cancellationToken = default);

    /// <summary>A cached artefact (a trained classifier, say) by key; null when absent.</summary>
    ValueTask<byte[]?> GetBlobAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Stores or replaces a cached artefact.</summary>
    ValueTask PutBlobAsync(string key, byte[] value, CancellationToken cancellationToken = default);

    /// <summary>A cached model response that has not expired at <paramref name="now"/>; null when absent or expired.</summary>
    ValueTask<byte[]?> GetCachedResponseAsync(string key, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Caches a model response; <paramref name="expires"/> null keeps it until replaced.</summary>
    ValueTask PutCachedResponseAsync(string key, byte[] response, DateTimeOffset created, DateTimeOffset? expires, CancellationToken cancellationToken = default);

    /// <summary>Records a new run (status <see cref="RunStatus.Running"/>).</summary>
    ValueTask CreateRunAsync(RunInfo run, CancellationToken cancellationToken = default);

    /// <summary>Stores one case's result, replacing an earlier result of the same case in the run; durable on return.</summary>
    ValueTask AddRunCaseAsync(string runId, RunCaseRecord result, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores several cases' results at once (one transaction where the store has them), each replacing an earlier
    /// result of the same case in the run; durable on return.
    /// </summary>
    async ValueTask AddRunCasesAsync(string runId, IReadOnlyList<RunCaseRecord> results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(results);
        foreach (var result in results)
        {
            await AddRunCaseAsync(runId, result, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Claims (or renews) the lease on a run for <paramref name="owner"/> until <paramref name="until"/>: granted when
    /// nobody holds it, the owner already does, the lease expired before <paramref name="now"/>, or it is held by
    /// <paramref name="takeOverFrom"/> (a holder known to be gone). Returns null when granted, else who holds it.
    /// A store without leases grants every claim.
    /// </summary>
    ValueTask<RunLeaseHolder?> ClaimRunAsync(string runId, string owner, DateTimeOffset now, DateTimeOffset until, string? takeOverFrom = null, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<RunLeaseHolder?>(null);

    /// <summary>Gives up the lease on a run if <paramref name="owner"/> holds it.</summary>
    ValueTask ReleaseRunAsync(string runId, string owner, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    /// <summary>Sets a run's status and finish time.</summary>
    ValueTask FinishRunAsync(string runId, RunStatus status, DateTimeOffset? finished, CancellationToken cancellationToken = default);

    /// <summary>A run by id; null when there is none.</summary>
    ValueTask<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>Stored runs, newest first.</summary>
    ValueTask<IReadOnlyList<RunInfo>> ListRunsAsync(int limit = 50, CancellationToken cancellationToken = default);

    /// <summary>A run's case results in case-id order.</summary>
    ValueTask<IReadOnlyList<RunCaseRecord>> GetRunCasesAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Every stored result in one pool, as (run, case) ids: what each case was evaluated in. A run stores one result per
    /// case, so a resumed run counts a case once.
    /// </summary>
    async ValueTask<IReadOnlyList<(string RunId, string CaseId)>> GetPoolResultIdsAsync(string pool, CancellationToken cancellationToken = default)
    {
        var ids = new List<(string, string)>();
        foreach (var run in await ListRunsAsync(int.MaxValue, cancellationToken).ConfigureAwait(false))
        {
            ids.AddRange((await GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false)).Where(r => r.Pool == pool).Select(r => (run.Id, r.CaseId)));
        }

        return ids;
    }

    /// <summary>The production outputs recorded on traces, by trace id (for replay); ids not found are absent.</summary>
    ValueTask<IReadOnlyDictionary<string, string>> GetTraceOutputsAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default);

    /// <summary>Visits every stored trace with <paramref name="from"/> ≤ timestamp &lt; <paramref name="to"/>, oldest first.</summary>
    ValueTask ScanTracesAsync(DateTimeOffset? from, DateTimeOffset? to, Action<ClassifiedTrace> visit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Visits the head (position, time, intent, cohort, stored sampling priority; the key only when
    /// <paramref name="withKeys"/>) of every stored trace with <paramref name="from"/> ≤ timestamp &lt; <paramref name="to"/>,
    /// in no promised order, reading as little of each trace as the store can: what sampling needs before it knows which
    /// traces it keeps.
    /// </summary>
    ValueTask ScanTraceHeadsAsync(DateTimeOffset? from, DateTimeOffset? to, bool withKeys, Action<TraceHead> visit, CancellationToken cancellationToken = default);

    /// <summary>
    /// The keys and classification texts of the traces at the given positions (<see cref="TraceHead.Position"/>);
    /// positions holding no trace are absent.
    /// </summary>
    ValueTask<IReadOnlyDictionary<long, TraceText>> GetClassificationTextsAsync(IReadOnlyCollection<long> positions, CancellationToken cancellationToken = default);

    /// <summary>
    /// The cached embeddings of <paramref name="embedder"/> (an embedder id, e.g. <c>HashedEmbeddingGenerator.Id</c>) for
    /// the given text hashes (<see cref="Embeddings.TextHash"/>); hashes with no cached vector are absent.
    /// </summary>
    ValueTask<IReadOnlyDictionary<UInt128, float[]>> GetEmbeddingsAsync(string embedder, IReadOnlyCollection<UInt128> textHashes, CancellationToken cancellationToken = default);

    /// <summary>Caches embeddings of <paramref name="embedder"/> by text hash in one transaction, replacing any cached before.</summary>
    ValueTask PutEmbeddingsAsync(string embedder, IReadOnlyList<KeyValuePair<UInt128, float[]>> embeddings, CancellationToken cancellationToken = default);

    /// <summary>The ingest log, newest first.</summary>
    ValueTask<IReadOnlyList<IngestLogEntry>> GetIngestLogAsync(int limit = 50, CancellationToken cancellationToken = default);
}
