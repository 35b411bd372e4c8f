using System.Threading.Channels;
using Recal.Storage;

namespace Recal.Running;

/// <summary>
/// Stores a run's case results in group commits: one writer takes every result queued while the previous write was
/// in progress and stores them in one transaction. A case counts as done only once its transaction has committed —
/// its slot waits for that — so a kill at any moment loses no completed case; at a high rate the store still commits
/// once per batch of concurrent cases instead of once per case.
/// </summary>
internal sealed class RunCaseWriter
{
    private const int MaxBatch = 1024;
    private readonly Channel<(RunCaseRecord Record, TaskCompletionSource Stored)> _queue =
        Channel.CreateUnbounded<(RunCaseRecord, TaskCompletionSource)>(new UnboundedChannelOptions { SingleReader = true });

    private readonly Func<IReadOnlyList<RunCaseRecord>, Task> _write;
    private readonly TimeSpan _linger;
    private readonly Task _writer;

    public RunCaseWriter(IRecalStore store, string runId)
        : this(batch => store.AddRunCasesAsync(runId, batch, CancellationToken.None).AsTask())
    {
    }

    /// <summary>A writer that stores each batch with <paramref name="write"/> (a worker's: results of a distributed run).</summary>
    /// <param name="linger">How long a batch waits for more results after its first arrives: fewer, larger transactions where a result's commit may wait (a worker's lease, not its call slot, waits for it).</param>
    public RunCaseWriter(Func<IReadOnlyList<RunCaseRecord>, Task> write, TimeSpan linger = default)
    {
        _write = write;
        _linger = linger;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Queues a result and completes once it is committed; throws when its write failed.</summary>
    public Task AddAsync(RunCaseRecord record)
    {
        var stored = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_queue.Writer.TryWrite((record, stored)))
        {
            // The writer stopped after a failed write: the run must not go on without storing.
            return _writer.IsFaulted ? _writer : Task.FromException(new InvalidOperationException("the run's result writer has stopped"));
        }

        return stored.Task;
    }

    /// <summary>Writes what is still queued and stops; rethrows a failed write.</summary>
    public Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        return _writer;
    }

    private async Task WriteAsync()
    {
        var batch = new List<(RunCaseRecord Record, TaskCompletionSource Stored)>();
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                if (_linger > TimeSpan.Zero)
                {
                    await Task.Delay(_linger).ConfigureAwait(false);
                }

                while (batch.Count < MaxBatch && reader.TryRead(out var item))
                {
                    batch.Add(item);
                }

                // Stored whatever happens to the run's token: a completed call is never lost to a Ctrl-C.
                await _write([.. batch.Select(b => b.Record)]).ConfigureAwait(false);
                foreach (var (_, stored) in batch)
                {
                    stored.TrySetResult();
                }

                batch.Clear();
            }
        }
        catch (Exception e)
        {
            _queue.Writer.TryComplete();
            foreach (var (_, stored) in batch)
            {
                stored.TrySetException(e);
            }

            while (reader.TryRead(out var item))
            {
                item.Stored.TrySetException(e);
            }

            throw;
        }
    }
}
