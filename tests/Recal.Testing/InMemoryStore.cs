using Recal.Domain;
using Recal.Ingest;
using Recal.Running;
using Recal.Storage;

namespace Recal.Testing;

/// <summary>
/// A whole store in memory: every role of <see cref="IRecalStore"/>, held in collections under one lock, gone when
/// disposed. It passes the store contract suite (<see cref="StoreContract"/>), so it stands in for SQLite where a test
/// needs a store and not a file, and shows what a second store must do.
/// </summary>
public sealed partial class InMemoryStore : IRecalStore
{
    /// <summary>The version of what this store keeps: there is nothing to migrate.</summary>
    public const int FormatVersion = 1;

    private readonly Lock _lock = new();
    private readonly List<(ClassifiedTrace Trace, long? Ingest)> _traces = [];
    private readonly Dictionary<string, int> _positions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<TraceUpdate>> _pending = new(StringComparer.Ordinal);
    private readonly List<IngestLogEntry> _ingests = [];
    private readonly Dictionary<string, (byte[] Value, DateTimeOffset Updated)> _blobs = new(StringComparer.Ordinal);
    // Positions of pruned traces: their keys stay in _positions (a pruned key sent again is not stored again) and their
    // counts in what the whole days of a window count (the rollup a store keeps), but no scan sees them.
    private readonly HashSet<int> _pruned = [];
    private DateTimeOffset? _prunedBefore;
    private readonly Dictionary<string, (byte[] Response, DateTimeOffset? Expires)> _responses = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Embedder, UInt128 Hash), float[]> _embeddings = [];
    private readonly Dictionary<string, RunInfo> _runs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedDictionary<string, RunCaseRecord>> _results = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RunLeaseHolder> _leases = new(StringComparer.Ordinal);

    public int SchemaVersion => FormatVersion;

    public ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, CancellationToken cancellationToken = default) =>
        AddTracesAsync(batch, null, cancellationToken);

    public ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, IngestSession? ingest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (_lock)
        {
            var added = batch.Count(trace => Insert(trace ?? throw new ArgumentException("a trace is null", nameof(batch)), ingest));
            return ValueTask.FromResult(new StoreBatchResult(added, batch.Count - added));
        }
    }

    public ValueTask<MergeBatchResult> MergeTracesAsync(IReadOnlyList<TraceUpdate> batch, Func<ClassifiedTrace, TraceUpdate, ClassifiedTrace?> merge, IngestSession? ingest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(merge);
        lock (_lock)
        {
            int added = 0, merged = 0, unchanged = 0;
            var missing = new List<int>();
            for (var i = 0; i < batch.Count; i++)
            {
                var update = batch[i];
                if (!_positions.TryGetValue(update.Key, out var position))
                {
                    if (update.Trace is { } fresh)
                    {
                        // Metadata and models kept for this trace before it came are merged in first.
                        foreach (var early in _pending.Remove(update.Key, out var kept) ? kept : [])
                        {
                            fresh = merge(fresh, early) ?? fresh;
                        }

                        added += Insert(fresh, ingest) ? 1 : 0;
                        continue;
                    }

                    if (update.Metadata is { Count: > 0 } || update.Model is not null)
                    {
                        var kept = _pending.TryGetValue(update.Key, out var list) ? list : _pending[update.Key] = [];
                        var early = update with { Feedback = Feedback.None };
                        if (!kept.Exists(k => k.Model == early.Model && (k.Metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key).SequenceEqual((early.Metadata ?? new Dictionary<string, string>()).OrderBy(p => p.Key))))
                        {
                            kept.Add(early);
                        }
                    }

                    missing.Add(i);
                    continue;
                }

                var stored = _traces[position];
                if (_pruned.Contains(position))
                {
                    unchanged++;
                }
                else if (merge(stored.Trace, update) is { } result)
                {
                    _traces[position] = (result, stored.Ingest);
                    merged++;
                }
                else
                {
                    unchanged++;
                }
            }

            return ValueTask.FromResult(new MergeBatchResult(added, merged, unchanged, missing));
        }
    }

    public ValueTask<IReadOnlyList<TrafficCount>> CountTrafficAsync(TrafficQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_lock)
        {
            IReadOnlyList<TrafficCount> counts = [.. Counted(query.From, query.To)
                .GroupBy(t => (Bucket: query.Period == Period.None ? (DateTimeOffset?)null : PeriodMath.Start(t.Trace.Timestamp, query.Period), t.Intent, t.CohortKey))
                .Select(g => new TrafficCount(g.Key.Bucket, g.Key.Intent, g.Key.CohortKey, g.LongCount()))
                .OrderBy(c => c.BucketStart)
                .ThenBy(c => c.Intent, StringComparer.Ordinal)
                .ThenBy(c => c.CohortKey, StringComparer.Ordinal)];
            return ValueTask.FromResult(counts);
        }
    }

    public ValueTask<TrafficSpan?> GetTrafficSpanAsync(CancellationToken cancellationToken = default) =>
        TrafficAnchoring.AnchorAsync(
            (from, to, _) =>
            {
                lock (_lock)
                {
                    // A pruned day's traces are known by their day only, as a store's rollup knows them: its midnight and its last instant.
                    var times = Window(from, to).Select(t => t.Trace.Timestamp)
                        .Concat(PrunedDaysIn(from, to).SelectMany(d => new[] { d, d.AddMilliseconds(TrafficDays.DayMs - 1) }))
                        .ToList();
                    return ValueTask.FromResult(times.Count == 0 ? null : new TrafficSpan(times.Min(), times.Max(), Counted(from, to).Count()));
                }
            },
            cancellationToken);

    public ValueTask ScanTracesAsync(DateTimeOffset? from, DateTimeOffset? to, Action<ClassifiedTrace> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        List<ClassifiedTrace> window;
        lock (_lock)
        {
            // OrderBy is stable: traces of one timestamp in the order they were stored, as their positions are.
            window = [.. Window(from, to).OrderBy(t => t.Trace.Timestamp)];
        }

        // Visited outside the lock: a visitor may read the store again.
        foreach (var trace in window)
        {
            cancellationToken.ThrowIfCancellationRequested();
            visit(trace);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask ScanTraceHeadsAsync(DateTimeOffset? from, DateTimeOffset? to, bool withKeys, Action<TraceHead> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        List<TraceHead> heads;
        lock (_lock)
        {
            heads = [.. _traces.Select((t, position) => (t.Trace, Position: position))
                .Where(t => !_pruned.Contains(t.Position) && InWindow(t.Trace, from, to))
                .Select(t => new TraceHead(t.Position, t.Trace.Trace.Timestamp, t.Trace.Intent, t.Trace.CohortKey, SamplePriority.Of(SamplePriority.StoredSeed, t.Trace.Key), withKeys ? t.Trace.Key : null))];
        }

        foreach (var head in heads)
        {
            cancellationToken.ThrowIfCancellationRequested();
            visit(head);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyDictionary<long, TraceText>> GetClassificationTextsAsync(IReadOnlyCollection<long> positions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(positions);
        lock (_lock)
        {
            var texts = new Dictionary<long, TraceText>();
            foreach (var position in positions.Where(p => p >= 0 && p < _traces.Count && !_pruned.Contains((int)p)))
            {
                var trace = _traces[(int)position].Trace;
                texts[position] = new TraceText(trace.Key, trace.Trace.Input.ClassificationText);
            }

            return ValueTask.FromResult<IReadOnlyDictionary<long, TraceText>>(texts);
        }
    }

    public ValueTask<IReadOnlyDictionary<string, string>> GetTraceOutputsAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traceIds);
        lock (_lock)
        {
            var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var id in traceIds)
            {
                if (_positions.TryGetValue(TraceKeys.IdPrefix + id, out var position) && !_pruned.Contains(position) && _traces[position].Trace.Trace.Output is { } output)
                {
                    outputs[id] = output;
                }
            }

            return ValueTask.FromResult<IReadOnlyDictionary<string, string>>(outputs);
        }
    }

    public ValueTask<IngestSession> BeginIngestAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        lock (_lock)
        {
            var session = new IngestSession(_ingests.Count + 1, source, DateTimeOffset.UtcNow);
            _ingests.Add(new IngestLogEntry(session.Id, source, session.Started, null, 0, 0, 0, 0));
            return ValueTask.FromResult(session);
        }
    }

    public ValueTask EndIngestAsync(IngestSession ingest, long read, long added, long duplicates, long quarantined, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ingest);
        lock (_lock)
        {
            var index = _ingests.FindIndex(e => e.Id == ingest.Id);
            if (index >= 0)
            {
                _ingests[index] = _ingests[index] with { Finished = DateTimeOffset.UtcNow, Read = read, Added = added, Duplicates = duplicates, Quarantined = quarantined };
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<IReadOnlyDictionary<long, long>> CountTracesByIngestAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IReadOnlyDictionary<long, long> counts = _traces.Where((t, position) => t.Ingest is not null && !_pruned.Contains(position)).GroupBy(t => t.Ingest!.Value).ToDictionary(g => g.Key, g => g.LongCount());
            return ValueTask.FromResult(counts);
        }
    }

    public ValueTask<IReadOnlyList<IngestLogEntry>> GetIngestLogAsync(int limit = 50, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult<IReadOnlyList<IngestLogEntry>>([.. Enumerable.Reverse(_ingests).Take(Math.Max(0, limit))]);
        }
    }

    public ValueTask<byte[]?> GetBlobAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            return ValueTask.FromResult(_blobs.TryGetValue(key, out var blob) ? blob.Value.ToArray() : null);
        }
    }

    public ValueTask PutBlobAsync(string key, byte[] value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        lock (_lock)
        {
            _blobs[key] = (value.ToArray(), DateTimeOffset.UtcNow);
            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<IReadOnlyList<BlobInfo>> ListBlobsAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        lock (_lock)
        {
            return ValueTask.FromResult<IReadOnlyList<BlobInfo>>([.. _blobs.Where(b => b.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(b => new BlobInfo(b.Key, b.Value.Updated, b.Value.Value.Length))]);
        }
    }

    public ValueTask DeleteBlobsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        lock (_lock)
        {
            foreach (var key in keys)
            {
                _blobs.Remove(key);
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<PruneSummary> PlanPruneAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(Summary(Retention.Cutoff(before), PrunableBefore(Retention.Cutoff(before)).Select(p => _traces[p].Trace).ToList()));
        }
    }

    /// <summary>In steps of <see cref="PruneStep"/> traces, as a store on disk prunes, each step reported.</summary>
    public ValueTask<PruneSummary> PruneTracesAsync(DateTimeOffset before, IProgress<PruneSummary>? progress = null, CancellationToken cancellationToken = default)
    {
        var cutoff = Retention.Cutoff(before);
        var done = new List<ClassifiedTrace>();
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lock (_lock)
            {
                var step = PrunableBefore(cutoff).Take(PruneStep).ToList();
                if (step.Count == 0)
                {
                    return ValueTask.FromResult(Summary(cutoff, done));
                }

                _prunedBefore = Retention.Later(_prunedBefore, cutoff);
                foreach (var position in step)
                {
                    _pruned.Add(position);
                    done.Add(_traces[position].Trace);
                }
            }

            progress?.Report(Summary(cutoff, done));
        }
    }

    public ValueTask<DateTimeOffset?> GetPrunedBeforeAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_prunedBefore);
        }
    }

    /// <summary>The traces a step of a prune deletes at most.</summary>
    public int PruneStep { get; init; } = 4096;

    /// <summary>The online signals of a window as a store with a daily rollup counts them (pruned whole days included).</summary>
    public ValueTask<FeedbackCount> CountFeedbackAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(Counted(from, to).Aggregate(default(FeedbackCount), (sum, t) => sum.Plus(FeedbackCount.Of(t.Trace.Feedback))));
        }
    }

    public ValueTask<IReadOnlyList<FeedbackCell>> CountFeedbackByCellAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult<IReadOnlyList<FeedbackCell>>([.. Counted(from, to)
                .GroupBy(t => (t.Intent, t.CohortKey))
                .Select(g => new FeedbackCell(g.Key.Intent, g.Key.CohortKey, g.Aggregate(default(FeedbackCount), (sum, t) => sum.Plus(FeedbackCount.Of(t.Trace.Feedback)))))]);
        }
    }

    private IEnumerable<int> PrunableBefore(DateTimeOffset cutoff) =>
        Enumerable.Range(0, _traces.Count).Where(p => !_pruned.Contains(p) && _traces[p].Trace.Trace.Timestamp < cutoff).OrderBy(p => _traces[p].Trace.Trace.Timestamp);

    private static PruneSummary Summary(DateTimeOffset cutoff, IReadOnlyCollection<ClassifiedTrace> traces) => new(
        cutoff,
        traces.Count,
        traces.Select(t => TrafficDays.DayOf(t.Trace.Timestamp.ToUnixTimeMilliseconds())).Distinct().Count(),
        [.. traces.Select(t => Retention.MonthOf(t.Trace.Timestamp.ToUnixTimeMilliseconds())).Distinct().Order(StringComparer.Ordinal)],
        [],
        null);

    public ValueTask<byte[]?> GetCachedResponseAsync(string key, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            return ValueTask.FromResult(_responses.TryGetValue(key, out var cached) && (cached.Expires is null || cached.Expires > now) ? cached.Response.ToArray() : null);
        }
    }

    public ValueTask PutCachedResponseAsync(string key, byte[] response, DateTimeOffset created, DateTimeOffset? expires, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(response);
        lock (_lock)
        {
            _responses[key] = (response.ToArray(), expires);
            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<IReadOnlyDictionary<UInt128, float[]>> GetEmbeddingsAsync(string embedder, IReadOnlyCollection<UInt128> textHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(textHashes);
        lock (_lock)
        {
            var found = new Dictionary<UInt128, float[]>();
            foreach (var hash in textHashes)
            {
                if (_embeddings.TryGetValue((embedder, hash), out var vector))
                {
                    found[hash] = vector.ToArray();
                }
            }

            return ValueTask.FromResult<IReadOnlyDictionary<UInt128, float[]>>(found);
        }
    }

    public ValueTask PutEmbeddingsAsync(string embedder, IReadOnlyList<KeyValuePair<UInt128, float[]>> embeddings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(embeddings);
        lock (_lock)
        {
            foreach (var (hash, vector) in embeddings)
            {
                ArgumentNullException.ThrowIfNull(vector, nameof(embeddings));
                _embeddings[(embedder, hash)] = vector.ToArray();
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask CreateRunAsync(RunInfo run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        lock (_lock)
        {
            if (!_runs.TryAdd(run.Id, run with { Finished = null }))
            {
                throw new InvalidOperationException($"run '{run.Id}' is already stored");
            }

            _results[run.Id] = new SortedDictionary<string, RunCaseRecord>(StringComparer.Ordinal);
            return ValueTask.CompletedTask;
        }
    }

    public ValueTask AddRunCaseAsync(string runId, RunCaseRecord result, CancellationToken cancellationToken = default) =>
        AddRunCasesAsync(runId, [result], cancellationToken);

    public ValueTask AddRunCasesAsync(string runId, IReadOnlyList<RunCaseRecord> results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(results);
        lock (_lock)
        {
            if (!_results.TryGetValue(runId, out var stored))
            {
                throw new InvalidOperationException($"run '{runId}' is not stored");
            }

            foreach (var result in results)
            {
                ArgumentNullException.ThrowIfNull(result, nameof(results));
                stored[result.CaseId] = result;
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<RunLeaseHolder?> ClaimRunAsync(string runId, string owner, DateTimeOffset now, DateTimeOffset until, string? takeOverFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(owner);
        lock (_lock)
        {
            if (!_runs.ContainsKey(runId))
            {
                return ValueTask.FromResult<RunLeaseHolder?>(new RunLeaseHolder("nobody (the run is not in the store)", now));
            }

            if (_leases.TryGetValue(runId, out var holder) && holder.Owner != owner && holder.Until >= now && holder.Owner != takeOverFrom)
            {
                return ValueTask.FromResult<RunLeaseHolder?>(holder);
            }

            _leases[runId] = new RunLeaseHolder(owner, until);
            return ValueTask.FromResult<RunLeaseHolder?>(null);
        }
    }

    public ValueTask ReleaseRunAsync(string runId, string owner, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (_leases.TryGetValue(runId, out var holder) && holder.Owner == owner)
            {
                _leases.Remove(runId);
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask FinishRunAsync(string runId, RunStatus status, DateTimeOffset? finished, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        lock (_lock)
        {
            if (_runs.TryGetValue(runId, out var run))
            {
                _runs[runId] = run with { Status = status, Finished = finished };
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        lock (_lock)
        {
            return ValueTask.FromResult(_runs.GetValueOrDefault(runId));
        }
    }

    public ValueTask<IReadOnlyList<RunInfo>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_lock)
        {
            IReadOnlyList<RunInfo> runs = [.. _runs.Values
                .Where(query.Matches)
                .OrderByDescending(r => r.Started)
                .ThenByDescending(r => r.Id, StringComparer.Ordinal)
                .Take(query.Limit is { } limit and >= 0 ? limit : int.MaxValue)];
            return ValueTask.FromResult(runs);
        }
    }

    public ValueTask<IReadOnlyList<RunCaseRecord>> GetRunCasesAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        lock (_lock)
        {
            return ValueTask.FromResult<IReadOnlyList<RunCaseRecord>>(_results.TryGetValue(runId, out var stored) ? [.. stored.Values] : []);
        }
    }

    /// <summary>Nothing in memory can be damaged the way a file can: the check finds no problem.</summary>
    public ValueTask<IReadOnlyList<string>> CheckIntegrityAsync(bool quick = false, int limit = 100, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<string>>([]);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Stores a trace whose key is new (under the lock); false when the key is stored.</summary>
    private bool Insert(ClassifiedTrace trace, IngestSession? ingest)
    {
        if (!_positions.TryAdd(trace.Key, _traces.Count))
        {
            return false;
        }

        _traces.Add((trace, ingest?.Id));
        return true;
    }

    private IEnumerable<ClassifiedTrace> Window(DateTimeOffset? from, DateTimeOffset? to) =>
        _traces.Where((_, position) => !_pruned.Contains(position)).Select(t => t.Trace).Where(t => InWindow(t, from, to));

    /// <summary>
    /// What a count of [from, to) counts: the window's stored traces, and the pruned ones of the whole UTC days the window
    /// covers (what a store's daily rollup still holds of them; the parts of a day at a window's ends are read from traces).
    /// </summary>
    private IEnumerable<ClassifiedTrace> Counted(DateTimeOffset? from, DateTimeOffset? to)
    {
        var split = TrafficDays.Split(from?.ToUnixTimeMilliseconds() ?? long.MinValue, to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        return Window(from, to).Concat(_pruned.Select(p => _traces[p].Trace).Where(t =>
        {
            var day = TrafficDays.DayOf(t.Trace.Timestamp.ToUnixTimeMilliseconds());
            return split.HasDays && day >= split.DaysFrom && day < split.DaysTo;
        }));
    }

    /// <summary>The UTC days of pruned traces that [from, to) covers whole.</summary>
    private IEnumerable<DateTimeOffset> PrunedDaysIn(DateTimeOffset? from, DateTimeOffset? to)
    {
        var split = TrafficDays.Split(from?.ToUnixTimeMilliseconds() ?? long.MinValue, to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        return _pruned.Select(p => TrafficDays.DayOf(_traces[p].Trace.Trace.Timestamp.ToUnixTimeMilliseconds()))
            .Where(d => split.HasDays && d >= split.DaysFrom && d < split.DaysTo)
            .Distinct()
            .Select(DateTimeOffset.FromUnixTimeMilliseconds);
    }

    private static bool InWindow(ClassifiedTrace trace, DateTimeOffset? from, DateTimeOffset? to) =>
        (from is null || trace.Trace.Timestamp >= from) && (to is null || trace.Trace.Timestamp < to);
}
