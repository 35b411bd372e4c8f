using Recal.Domain;
using Recal.Ingest;
using Recal.Running;
using Recal.Storage;

namespace Recal.Core.Tests.Drift;

/// <summary>An in-memory store for instrument tests: traffic counting, scanning traces added whole, and the embedding cache.</summary>
internal sealed class InMemoryStore : IRecalStore
{
    private readonly List<(DateTimeOffset Time, string Intent, string Cohort)> _traces = [];
    private readonly List<ClassifiedTrace> _whole = [];
    private readonly Dictionary<(string Embedder, UInt128 Hash), float[]> _embeddings = [];

    public int SchemaVersion => 0;

    /// <summary>Adds traces; without a cohort, one in five is plan=free like the test projects' cases.</summary>
    public void Add(DateTimeOffset time, string intent, int count, string? cohort = null)
    {
        for (var i = 0; i < count; i++)
        {
            _traces.Add((time.AddSeconds(i), intent, cohort ?? (i % 5 == 0 ? "plan=free" : "plan=pro")));
        }
    }

    /// <summary>Adds a whole trace: counted, and visited by <see cref="ScanTracesAsync"/>.</summary>
    public void Add(ClassifiedTrace trace)
    {
        _traces.Add((trace.Trace.Timestamp, trace.Intent, trace.CohortKey));
        _whole.Add(trace);
    }

    /// <summary>How many embedding lookups and stores were asked for, in batches.</summary>
    public int EmbeddingLookups { get; private set; }

    public int EmbeddingWrites { get; private set; }

    public int CachedEmbeddings => _embeddings.Count;

    /// <summary>Traces added.</summary>
    public int Count => _traces.Count;

    public ValueTask<IReadOnlyDictionary<UInt128, float[]>> GetEmbeddingsAsync(string embedder, IReadOnlyCollection<UInt128> textHashes, CancellationToken cancellationToken = default)
    {
        EmbeddingLookups++;
        var found = new Dictionary<UInt128, float[]>();
        foreach (var hash in textHashes)
        {
            if (_embeddings.TryGetValue((embedder, hash), out var vector))
            {
                found[hash] = vector;
            }
        }

        return ValueTask.FromResult<IReadOnlyDictionary<UInt128, float[]>>(found);
    }

    public ValueTask PutEmbeddingsAsync(string embedder, IReadOnlyList<KeyValuePair<UInt128, float[]>> embeddings, CancellationToken cancellationToken = default)
    {
        EmbeddingWrites++;
        foreach (var (hash, vector) in embeddings)
        {
            _embeddings[(embedder, hash)] = vector;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<TrafficCount>> CountTrafficAsync(TrafficQuery query, CancellationToken cancellationToken = default)
    {
        var rows = _traces
            .Where(t => (query.From is null || t.Time >= query.From) && (query.To is null || t.Time < query.To))
            .GroupBy(t => (Bucket: query.Period == Period.None ? (DateTimeOffset?)null : PeriodMath.Start(t.Time, query.Period), t.Intent, t.Cohort))
            .Select(g => new TrafficCount(g.Key.Bucket, g.Key.Intent, g.Key.Cohort, g.Count()))
            .ToList();
        return ValueTask.FromResult<IReadOnlyList<TrafficCount>>(rows);
    }

    /// <summary>Every added trace counts; feedback comes from the whole ones (counted traces have none), no scan counted.</summary>
    public ValueTask<IReadOnlyList<FeedbackCell>> CountFeedbackByCellAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        var cells = _traces
            .Where(t => t.Time >= from && t.Time < to)
            .GroupBy(t => (t.Intent, t.Cohort))
            .ToDictionary(g => g.Key, g => new FeedbackCount(g.Count(), 0, 0, 0));
        foreach (var trace in _whole.Where(t => t.Trace.Timestamp >= from && t.Trace.Timestamp < to))
        {
            var (feedback, cell) = (trace.Trace.Feedback, (trace.Intent, trace.CohortKey));
            var c = cells[cell];
            cells[cell] = c with { Rated = c.Rated + (feedback.Thumbs is null ? 0 : 1), Up = c.Up + (feedback.Thumbs > 0 ? 1 : 0), Escalated = c.Escalated + (feedback.Escalated == true ? 1 : 0), EscalationKnown = c.EscalationKnown + (feedback.Escalated is null ? 0 : 1) };
        }

        return ValueTask.FromResult<IReadOnlyList<FeedbackCell>>([.. cells.Select(kv => new FeedbackCell(kv.Key.Intent, kv.Key.Cohort, kv.Value))]);
    }

    public ValueTask<TrafficSpan?> GetTrafficSpanAsync(CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_traces.Count == 0 ? null : new TrafficSpan(_traces.Min(t => t.Time), _traces.Max(t => t.Time), _traces.Count));

    public ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, IngestSession? ingest, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<MergeBatchResult> MergeTracesAsync(IReadOnlyList<TraceUpdate> batch, Func<ClassifiedTrace, TraceUpdate, ClassifiedTrace?> merge, IngestSession? ingest, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<IngestSession> BeginIngestAsync(string source, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask EndIngestAsync(IngestSession ingest, long read, long added, long duplicates, long quarantined, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<IReadOnlyDictionary<long, long>> CountTracesByIngestAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<IReadOnlyList<IngestLogEntry>> GetIngestLogAsync(int limit = 50, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<byte[]?> GetBlobAsync(string key, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask PutBlobAsync(string key, byte[] value, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<IReadOnlyList<BlobInfo>> ListBlobsAsync(string prefix, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask DeleteBlobsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<PruneSummary> PlanPruneAsync(DateTimeOffset before, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<PruneSummary> PruneTracesAsync(DateTimeOffset before, IProgress<PruneSummary>? progress = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<DateTimeOffset?> GetPrunedBeforeAsync(CancellationToken cancellationToken = default) => ValueTask.FromResult<DateTimeOffset?>(null);

    public ValueTask<byte[]?> GetCachedResponseAsync(string key, DateTimeOffset now, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask PutCachedResponseAsync(string key, byte[] response, DateTimeOffset created, DateTimeOffset? expires, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask CreateRunAsync(RunInfo run, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask AddRunCaseAsync(string runId, RunCaseRecord result, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask FinishRunAsync(string runId, RunStatus status, DateTimeOffset? finished, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    /// <summary>Stored runs, newest first as the store lists them, with their results.</summary>
    public List<(RunInfo Run, IReadOnlyList<RunCaseRecord> Results)> Runs { get; } = [];

    public ValueTask<IReadOnlyList<RunInfo>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<RunInfo>>([.. Runs.Select(r => r.Run).Where(query.Matches).OrderByDescending(r => r.Started).Take(query.Limit ?? int.MaxValue)]);

    public ValueTask<IReadOnlyList<string>> CheckIntegrityAsync(bool quick = false, int limit = 100, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IReadOnlyList<string>>([]);

    public ValueTask<IReadOnlyList<RunCaseRecord>> GetRunCasesAsync(string runId, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Runs.Single(r => r.Run.Id == runId).Results);

    public ValueTask<IReadOnlyDictionary<string, string>> GetTraceOutputsAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask ScanTracesAsync(DateTimeOffset? from, DateTimeOffset? to, Action<ClassifiedTrace> visit, CancellationToken cancellationToken = default)
    {
        WholeScans++;
        foreach (var trace in _whole.Where(t => (from is null || t.Trace.Timestamp >= from) && (to is null || t.Trace.Timestamp < to)).OrderBy(t => t.Trace.Timestamp))
        {
            visit(trace);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>How many times traces were read back whole, and their heads alone.</summary>
    public int WholeScans { get; private set; }

    public int HeadScans { get; private set; }

    /// <summary>Head scans that were asked for the traces' keys.</summary>
    public int KeyedHeadScans { get; private set; }

    /// <summary>Positions are the order traces were added in: newest last, as <see cref="ScanTracesAsync"/> breaks ties.</summary>
    public ValueTask ScanTraceHeadsAsync(DateTimeOffset? from, DateTimeOffset? to, bool withKeys, Action<TraceHead> visit, CancellationToken cancellationToken = default)
    {
        HeadScans++;
        KeyedHeadScans += withKeys ? 1 : 0;
        // Newest first: callers may not rely on the order.
        for (var i = _whole.Count - 1; i >= 0; i--)
        {
            var trace = _whole[i];
            if ((from is null || trace.Trace.Timestamp >= from) && (to is null || trace.Trace.Timestamp < to))
            {
                visit(new TraceHead(i, trace.Trace.Timestamp, trace.Intent, trace.CohortKey, SamplePriority.Of(SamplePriority.StoredSeed, trace.Key), withKeys ? trace.Key : null));
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Whether it chooses each intent's lowest heads itself, as a store with an index on intent and priority does.</summary>
    public bool ChoosesLowestHeads { get; init; }

    /// <summary>Whether the heads it chooses carry their text's hash, as the PostgreSQL store's do.</summary>
    public bool HeadsCarryTextHashes { get; init; }

    /// <summary>How many traces' texts were read back by position.</summary>
    public int TextsRead { get; private set; }

    public async ValueTask ScanLowestHeadsAsync(DateTimeOffset from, DateTimeOffset to, IReadOnlyDictionary<string, int> limits, Action<TraceHead> visit, CancellationToken cancellationToken = default)
    {
        var heads = new List<TraceHead>();
        await ScanTraceHeadsAsync(from, to, withKeys: false, heads.Add, cancellationToken);
        foreach (var head in heads.Where(h => limits.GetValueOrDefault(h.Intent) > 0).GroupBy(h => h.Intent).SelectMany(g => g.OrderBy(h => h.Priority).ThenBy(h => h.Position).Take(limits[g.Key])))
        {
            visit(HeadsCarryTextHashes ? head with { TextHash = Recal.Embeddings.TextHash.Of(_whole[(int)head.Position].Trace.Input.ClassificationText) } : head);
        }
    }

    public ValueTask<IReadOnlyDictionary<long, TraceText>> GetClassificationTextsAsync(IReadOnlyCollection<long> positions, CancellationToken cancellationToken = default)
    {
        TextsRead += positions.Count;
        var texts = new Dictionary<long, TraceText>();
        foreach (var position in positions)
        {
            if (position >= 0 && position < _whole.Count)
            {
                texts[position] = new TraceText(_whole[(int)position].Key, _whole[(int)position].Trace.Input.ClassificationText);
            }
        }

        return ValueTask.FromResult<IReadOnlyDictionary<long, TraceText>>(texts);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
