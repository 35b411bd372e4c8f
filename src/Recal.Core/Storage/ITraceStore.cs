using Recal.Domain;

namespace Recal.Storage;

/// <summary>
/// The stored traffic: traces written in batches (each batch whole or not at all), counted, scanned and read back.
/// A batch written during an ingest carries its <see cref="IngestSession"/>; the store keeps no session of its own.
/// </summary>
public interface ITraceStore
{
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
    /// batch adds is tagged with <paramref name="ingest"/>; a merged trace keeps the ingest that first stored it. A part
    /// without a trace whose key is not stored but which carries metadata or a model is kept (once, however often it
    /// comes) and merged into the trace when one with its key is added, by any later batch; it is still Missing.
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
        var count = default(FeedbackCount);
        await ScanTracesAsync(from, to, trace => count = count.Plus(FeedbackCount.Of(trace.Trace.Feedback)), cancellationToken).ConfigureAwait(false);
        return count;
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
            cells[(trace.Intent, trace.CohortKey)] = cells.GetValueOrDefault((trace.Intent, trace.CohortKey)).Plus(FeedbackCount.Of(trace.Trace.Feedback));
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
                Count = cell.Count.Plus(FeedbackCount.Of(feedback).WithOutcome(feedback.Continued, feedback.Completed)),
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
    /// Whether <see cref="ScanLowestHeadsAsync"/> reads each intent's lowest priorities from an index, so a sampled
    /// window costs what it keeps rather than what it holds; false when it would scan the window's heads like
    /// <see cref="ScanTraceHeadsAsync"/> (then one pass over overlapping windows serves them all, and is cheaper). A
    /// store that says so answers several <see cref="ScanLowestHeadsAsync"/> calls at once (the windows' are made side by side).
    /// </summary>
    bool ChoosesLowestHeads => false;

    /// <summary>
    /// Visits, for each intent in <paramref name="limits"/>, the heads (without keys) of at most its limit of the
    /// intent's stored traces in [<paramref name="from"/>, <paramref name="to"/>) with the lowest stored sampling
    /// priorities (<see cref="Ingest.SamplePriority.StoredSeed"/>; ties by position), in no promised order; intents not
    /// named are not visited. What a sample stratified by intent under the stored seed needs, chosen where the traces
    /// are (docs/store.md#samples-chosen-in-the-store). A store with an index on intent and priority overrides this (and
    /// <see cref="ChoosesLowestHeads"/>); the default scans the window's heads and keeps each intent's lowest.
    /// </summary>
    async ValueTask ScanLowestHeadsAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyDictionary<string, int> limits, Action<TraceHead> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(visit);
        var kept = new Dictionary<string, PriorityQueue<TraceHead, (ulong, long)>>(StringComparer.Ordinal);
        await ScanTraceHeadsAsync(from, to, withKeys: false, head =>
        {
            if (!limits.TryGetValue(head.Intent, out var limit) || limit <= 0)
            {
                return;
            }

            if (!kept.TryGetValue(head.Intent, out var queue))
            {
                // A max-queue on (priority, position): the worst kept head is the first to go.
                kept[head.Intent] = queue = new PriorityQueue<TraceHead, (ulong, long)>(Comparer<(ulong, long)>.Create((a, b) => b.CompareTo(a)));
            }

            if (queue.Count < limit)
            {
                queue.Enqueue(head, (head.Priority, head.Position));
            }
            else if (queue.TryPeek(out _, out var worst) && (head.Priority, head.Position).CompareTo(worst) < 0)
            {
                queue.DequeueEnqueue(head, (head.Priority, head.Position));
            }
        }, cancellationToken).ConfigureAwait(false);
        foreach (var queue in kept.Values)
        {
            foreach (var (head, _) in queue.UnorderedItems)
            {
                visit(head);
            }
        }
    }

    /// <summary>
    /// Visits what a draw needs of every stored trace in [<paramref name="from"/>, <paramref name="to"/>) (key, stratum,
    /// stored priority, classification text and metadata, as UTF-8), in no promised order, building no trace. A store
    /// that can read the columns alone overrides this; the default visits every whole trace.
    /// </summary>
    async ValueTask ScanSampleRowsAsync(DateTimeOffset? from, DateTimeOffset? to, SampleRowVisitor visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        await ScanTracesAsync(from, to, trace =>
        {
            var metadata = trace.Trace.Metadata.Count == 0 ? [] : System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(trace.Trace.Metadata);
            visit(new SampleRow(
                0,
                System.Text.Encoding.UTF8.GetBytes(trace.Key),
                trace.Intent,
                trace.CohortKey,
                Ingest.SamplePriority.Of(Ingest.SamplePriority.StoredSeed, trace.Key),
                System.Text.Encoding.UTF8.GetBytes(trace.Trace.Input.ClassificationText),
                metadata));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Visits what a trace search filters on of every stored trace in [<paramref name="from"/>, <paramref name="to"/>)
    /// (position, key, time, stratum, intent source and confidence, feedback, classification text as UTF-8), in no
    /// promised order, building no trace. A store that can read the columns alone overrides this; the default reads
    /// the window's heads for the positions, then visits every whole trace.
    /// </summary>
    async ValueTask ScanSearchRowsAsync(DateTimeOffset? from, DateTimeOffset? to, SearchRowVisitor visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        var positions = new Dictionary<string, long>(StringComparer.Ordinal);
        await ScanTraceHeadsAsync(from, to, withKeys: true, head => positions[head.Key!] = head.Position, cancellationToken).ConfigureAwait(false);
        await ScanTracesAsync(from, to, trace => visit(new SearchRow(
            positions.GetValueOrDefault(trace.Key),
            System.Text.Encoding.UTF8.GetBytes(trace.Key),
            trace.Trace.Timestamp,
            trace.Intent,
            trace.CohortKey,
            trace.IntentSource,
            trace.Confidence,
            trace.Trace.Feedback,
            System.Text.Encoding.UTF8.GetBytes(trace.Trace.Input.ClassificationText))), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The whole stored traces named, in no promised order; traces not found are absent. A store that can reach a
    /// trace by its position overrides this; the default scans every trace for the keys.
    /// </summary>
    async ValueTask<IReadOnlyList<ClassifiedTrace>> GetTracesAsync(IReadOnlyCollection<TraceRef> traces, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traces);
        var wanted = traces.Select(t => t.Key).ToHashSet(StringComparer.Ordinal);
        var found = new List<ClassifiedTrace>();
        await ScanTracesAsync(null, null, trace =>
        {
            if (wanted.Contains(trace.Key))
            {
                found.Add(trace);
            }
        }, cancellationToken).ConfigureAwait(false);
        return found;
    }

    /// <summary>One stored trace by its key; null when there is none. The default asks <see cref="FindTracesAsync"/> for the one key.</summary>
    async ValueTask<ClassifiedTrace?> FindTraceAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        return (await FindTracesAsync([key], cancellationToken).ConfigureAwait(false)) is [var trace, ..] ? trace : null;
    }

    /// <summary>
    /// The stored traces with the given keys, in no promised order; keys no trace has are absent. A store with an index
    /// on the key overrides this; the default scans every trace once.
    /// </summary>
    async ValueTask<IReadOnlyList<ClassifiedTrace>> FindTracesAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new List<ClassifiedTrace>();
        if (keys.Count == 0)
        {
            return found;
        }

        var wanted = keys.ToHashSet(StringComparer.Ordinal);
        await ScanTracesAsync(null, null, trace =>
        {
            if (wanted.Remove(trace.Key))
            {
                found.Add(trace);
            }
        }, cancellationToken).ConfigureAwait(false);
        return found;
    }

    /// <summary>
    /// The keys and classification texts of the traces at the given positions (<see cref="TraceHead.Position"/>);
    /// positions holding no trace are absent.
    /// </summary>
    ValueTask<IReadOnlyDictionary<long, TraceText>> GetClassificationTextsAsync(IReadOnlyCollection<long> positions, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="GetClassificationTextsAsync"/> for heads as this store visited them, position and timestamp: a store
    /// partitioned by time reads each in its own partition. A head whose position holds no trace is absent. The default
    /// reads by the positions alone.
    /// </summary>
    ValueTask<IReadOnlyDictionary<long, TraceText>> GetHeadTextsAsync(IReadOnlyCollection<TraceHead> heads, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(heads);
        return GetClassificationTextsAsync([.. heads.Select(h => h.Position).Distinct()], cancellationToken);
    }

    /// <summary>The production outputs recorded on traces, by trace id (for replay); ids not found are absent.</summary>
    ValueTask<IReadOnlyDictionary<string, string>> GetTraceOutputsAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default);
}
