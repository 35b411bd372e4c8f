using System.Threading.Channels;
using Recal.Storage;

namespace Recal.Running;

/// <summary>
/// Stores a run's case results as they complete, in group commits: one writer takes every result queued while the
/// previous write was in progress and stores them in one transaction. At a low rate each result is written alone
/// at once; at a high rate the store commits once per batch instead of once per case, and no case waits for the
/// store before its slot takes the next case.
/// </summary>
internal sealed class RunCaseWriter
{
    private const int MaxBatch = 1024;
    private readonly Channel<RunCaseRecord> _queue = Channel.CreateUnbounded<RunCaseRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly IRecalStore _store;
    private readonly string _runId;
    private readonly Task _writer;

    public RunCaseWriter(IRecalStore store, string runId)
    {
        _store = store;
        _runId = runId;
        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Queues a result; throws when an earlier write failed, so a run does not go on without storing.</summary>
    public ValueTask AddAsync(RunCaseRecord record)
    {
        if (_writer.IsFaulted)
        {
            return new ValueTask(_writer);
        }

        _queue.Writer.TryWrite(record);
        return ValueTask.CompletedTask;
    }

    /// <summary>Writes what is still queued and stops; rethrows a failed write.</summary>
    public Task CompleteAsync()
    {
        _queue.Writer.TryComplete();
        return _writer;
    }

    private async Task WriteAsync()
    {
        var batch = new List<RunCaseRecord>();
        var reader = _queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (batch.Count < MaxBatch && reader.TryRead(out var record))
                {
                    batch.Add(record);
                }

                // Stored whatever happens to the run's token: a completed call is never lost to a Ctrl-C.
                await _store.AddRunCasesAsync(_runId, batch, CancellationToken.None).ConfigureAwait(false);
                batch.Clear();
            }
        }
        catch
        {
            _queue.Writer.TryComplete();
            throw;
        }
    }
}
