using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Ingest;
using Recal.Storage;

namespace Recal.Server;

/// <summary>What the writer did with one request's parts, once they are committed.</summary>
/// <param name="FeedbackHeld">Feedback parts whose trace is not stored yet: held and tried again (docs/serve.md#feedback-before-its-trace).</param>
public sealed record IngestCommit(int FeedbackHeld);

/// <summary>
/// The one writer of the server: requests' parsed parts wait in a queue bounded by their count, and one loop merges
/// them into the store, several requests to a transaction, through the same merge as <c>recal ingest</c>
/// (<see cref="ITraceStore.MergeTracesAsync"/> with <see cref="TraceMerge"/>), so the spans of one trace that arrive in
/// different requests become the stored trace a file ingest of those requests makes. A request's task completes only
/// after the transaction holding its parts has committed.
/// </summary>
public sealed class IngestQueue : BackgroundService
{
    /// <summary>How many feedback parts for traces not stored yet are held (in memory) to try again after later commits.</summary>
    public const int MaxHeldFeedback = 10_000;

    private readonly Channel<Entry> _queue = Channel.CreateUnbounded<Entry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IRecalStore _store;
    private readonly Func<ClassifiedTrace, TraceUpdate, ClassifiedTrace?> _merge;
    private readonly RecalServerOptions _options;
    private readonly ILogger _logger;
    private readonly QuarantineWriter _quarantine;
    private readonly string _source;
    private readonly List<(TraceUpdate Update, string Place)> _held = [];
    private long _queued;
    private IngestSession? _session;
    private long _read, _added, _unchanged, _quarantined;

    public IngestQueue(RecalServerContext context, RecalServerOptions options, ILogger<IngestQueue> logger)
    {
        ArgumentNullException.ThrowIfNull(context);
        _store = context.Store;
        var classify = context.Classify;
        _merge = (stored, update) => TraceMerge.Merge(stored, update, classify);
        _options = options;
        _logger = logger;
        _source = context.Source;
        _quarantine = new QuarantineWriter(context.QuarantinePath, context.Source, logger);
    }

    /// <summary>Parts waiting for the writer, requests not yet committed included.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Traces the writer added to the store since the server started.</summary>
    public long TracesAdded => Interlocked.Read(ref _added);

    /// <summary>Spans and log records received in committed requests since the server started.</summary>
    public long RecordsRead => Interlocked.Read(ref _read);

    /// <summary>Whether a request would be turned away now, before its body is read.</summary>
    public bool IsFull => Queued >= _options.QueueParts;

    /// <summary>
    /// Queues one request's parts; false when they do not fit (the queue holds other requests' parts and these would
    /// take it past its bound). An empty queue takes any request, so a large one is never refused for its size alone.
    /// </summary>
    public bool TryEnqueue(IngestPipeline.PartBatch batch, out Task<IngestCommit> committed)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var count = Math.Max(1, batch.Updates.Count);
        var after = Interlocked.Add(ref _queued, count);
        if (after > _options.QueueParts && after != count)
        {
            Interlocked.Add(ref _queued, -count);
            committed = Task.FromResult(new IngestCommit(0));
            return false;
        }

        var entry = new Entry(batch, count, new TaskCompletionSource<IngestCommit>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(entry))
        {
            Interlocked.Add(ref _queued, -count);
            committed = Task.FromException<IngestCommit>(new InvalidOperationException("the server is stopping"));
            return false;
        }

        committed = entry.Done.Task;
        return true;
    }

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        _session = await _store.BeginIngestAsync(_source, cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // What was accepted is committed before the store closes: the queue is drained, not dropped.
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);

        // Past the host's shutdown timeout too: the store has one connection, and the writer may still be using it.
        if (ExecuteTask is { } writing)
        {
            await writing.ConfigureAwait(false);
        }
        foreach (var (update, place) in _held)
        {
            QuarantineHeld(update, place);
        }

        _quarantine.Flush();
        if (_session is not null)
        {
            await _store.EndIngestAsync(_session, _read, _added, _unchanged, _quarantined, CancellationToken.None).ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        _quarantine.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var entries = new List<Entry>();
        var updates = new List<TraceUpdate>();

        // The stop token is not passed on: a stop drains the queue (StopAsync completes it) rather than abandoning it.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            entries.Clear();
            updates.Clear();
            while (updates.Count < _options.MaxPartsPerCommit && _queue.Reader.TryRead(out var entry))
            {
                entries.Add(entry);
                updates.AddRange(entry.Batch.Updates);
            }

            await CommitAsync(entries, updates).ConfigureAwait(false);
        }
    }

    private async Task CommitAsync(List<Entry> entries, List<TraceUpdate> updates)
    {
        using var activity = RecalTelemetry.StartCommit(entries.Count, updates.Count);
        MergeBatchResult result;
        try
        {
            result = updates.Count == 0 ? new MergeBatchResult(0, 0, 0, []) : await _store.MergeTracesAsync(updates, _merge, _session, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            RecalTelemetry.EndCommit(activity, 0, 0, 0, e);
            // Nothing of these requests is stored: each is answered 503 and its client retries.
            _logger.LogWarning(new EventId(3001, "CommitFailed"), "Storing {Requests} request(s) failed: {Reason}", entries.Count, e.Message);
            foreach (var entry in entries)
            {
                Interlocked.Add(ref _queued, -entry.Count);
                entry.Done.TrySetException(e);
            }

            return;
        }

        // The store reports Missing by position in the transaction: each request gets its own. The parts are
        // committed, so each request is answered whatever happens to its quarantine records.
        var missing = new HashSet<int>(result.Missing);
        var offset = 0;
        var quarantinedBefore = _quarantined;
        foreach (var entry in entries)
        {
            var own = 0;
            var batch = entry.Batch;
            for (var i = 0; i < batch.Updates.Count; i++)
            {
                if (missing.Contains(offset + i) && batch.Updates[i].Feedback != Feedback.None)
                {
                    own++;
                    Hold(batch.Updates[i], batch.Places[i].Place);
                }
            }

            offset += batch.Updates.Count;
            Interlocked.Add(ref _read, batch.Records);
            Quarantine(batch);
            entry.Done.TrySetResult(new IngestCommit(own));
            Interlocked.Add(ref _queued, -entry.Count);
        }

        RecalTelemetry.EndCommit(activity, result.Added, result.Merged, _quarantined - quarantinedBefore);
        Interlocked.Add(ref _added, result.Added);
        _unchanged += result.Unchanged;
        if (result.Added > 0 && _held.Count > 0)
        {
            await RetryHeldAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Writes a request's rejects to the quarantine file; a failure to write it is logged, never fatal to the writer.</summary>
    private void Quarantine(IngestPipeline.PartBatch batch)
    {
        if (batch.Rejects.Count == 0)
        {
            return;
        }

        try
        {
            foreach (var reject in batch.Rejects)
            {
                _quarantine.Write(reject.Line, reject.Code, reject.Reason, reject.Raw.Span, reject.Place);
                _quarantined++;
            }

            _quarantine.Flush();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(new EventId(3003, "QuarantineFailed"), "Writing {Count} rejected record(s) to the quarantine file failed: {Reason}", batch.Rejects.Count, e.Message);
        }
    }

    private void Hold(TraceUpdate update, string place)
    {
        if (_held.Count >= MaxHeldFeedback)
        {
            var (oldest, where) = _held[0];
            _held.RemoveAt(0);
            QuarantineHeld(oldest, where);
        }

        _held.Add((update, place));
    }

    /// <summary>Feedback held for a trace that has not arrived: tried again after a commit that added traces.</summary>
    private async Task RetryHeldAsync()
    {
        var held = _held.ToList();
        _held.Clear();
        try
        {
            var result = await _store.MergeTracesAsync([.. held.Select(h => h.Update)], _merge, _session, CancellationToken.None).ConfigureAwait(false);
            foreach (var index in result.Missing)
            {
                _held.Add(held[index]);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _held.AddRange(held);
            _logger.LogWarning(new EventId(3002, "RetryFailed"), "Attaching held feedback failed: {Reason}", e.Message);
        }
    }

    private void QuarantineHeld(TraceUpdate update, string place)
    {
        try
        {
            _quarantine.Write(0, "RC2011", $"feedback for trace '{update.Key[TraceKeys.IdPrefix.Length..]}', which is not stored: its interaction had not arrived when the server let the feedback go (send the trace's spans first)", default, $"{_source} {place}");
            _quarantined++;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _logger.LogWarning(new EventId(3003, "QuarantineFailed"), "Writing held feedback to the quarantine file failed: {Reason}", e.Message);
        }
    }

    private sealed record Entry(IngestPipeline.PartBatch Batch, int Count, TaskCompletionSource<IngestCommit> Done);
}
