using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Judging;
using Recal.Scoring;
using Recal.Storage;

namespace Recal.Running;

/// <summary>What a worker executes one run's cases with, built by the host for each run it joins.</summary>
/// <param name="Cases">The worker's own copy of the run's cases, by id.</param>
/// <param name="Resources">What the target and judges hold (HTTP clients, processes): disposed by the worker once the run is finished or cancelled and its last case here is scored, or when the worker stops.</param>
/// <param name="Retries">The retries of calls the target and judges made so far (a local run's count), reported with each write.</param>
public sealed record WorkerRunSession(
    IReadOnlyDictionary<string, EvalCase> Cases,
    ITarget Target,
    IReadOnlyList<IScorer> Scorers,
    JudgePanel? Judges,
    TokenPrice? Price,
    RunOptions Options,
    IAsyncDisposable? Resources = null,
    Func<int>? Retries = null);

/// <summary>Builds a worker's session for a run, or says why this worker cannot run it (its project differs, a key is missing).</summary>
public delegate Task<(WorkerRunSession? Session, string? Problem)> WorkerSessionFactory(RunInfo run, DistributedRunSettings settings, CancellationToken cancellationToken);

/// <summary>How a worker works.</summary>
/// <param name="Concurrency">Cases in flight at once; the worker holds leases on up to three times as many (in flight, waiting, being stored), so a call never waits on a claim.</param>
public sealed record WorkerOptions(int Concurrency = 8)
{
    /// <summary>How long a claimed case stays leased without a heartbeat; heartbeats come every third of it.</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often an idle worker looks for work (and for new runs).</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a group commit of results waits for more after its first (docs/performance.md#distributed-runs): a few
    /// cases per transaction instead of one, at the cost of holding their leases that much longer (the worker holds three
    /// times its concurrency, so its calls do not wait). Zero commits as soon as the previous commit is done.
    /// </summary>
    public TimeSpan CommitLinger { get; init; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Stop once no distributed run of the project is open, instead of waiting for the next.</summary>
    public bool Once { get; init; }

    /// <summary>The worker's name in the store: host, process and a nonce, as a run lease's owner.</summary>
    public string Name { get; init; } = RunLease.NewOwner();
}

public enum WorkerEventKind
{
    /// <summary>The worker took up a run.</summary>
    Joined,

    /// <summary>The worker cannot run this run (<see cref="WorkerEvent.Detail"/> says why) and leaves its cases to others.</summary>
    Skipped,

    /// <summary>This worker wrote the run's last case and finished it (<see cref="WorkerEvent.Detail"/>: its status).</summary>
    Finished,

    /// <summary>
    /// The run is no longer open (<see cref="WorkerEvent.Detail"/>: its status, e.g. cancelled): the worker starts no more
    /// of its cases and, once those in flight are scored, frees its target and judges.
    /// </summary>
    Left,
}

public sealed record WorkerEvent(WorkerEventKind Kind, string RunId, string? Detail = null);

/// <summary>A worker's own totals over every run it worked on.</summary>
/// <param name="Errors">Errored cases among those it computed.</param>
/// <param name="Discarded">Results it computed for cases another worker had written first (its lease had expired).</param>
public sealed record WorkerSummary(string Worker, int Done, int Calls, int CacheHits, int Errors, int Discarded, int RunsFinished);

/// <summary>
/// One worker of distributed runs (docs/running.md#distributed-runs): claims batches of the project's queued cases, keeps
/// their leases alive by heartbeats, executes each case exactly as a local run does (<see cref="RunExecutor"/>'s case,
/// <see cref="EvalRunner"/>'s record) and stores the results in group commits through the queue, where each case keeps
/// its first result and the last one finishes the run.
/// </summary>
public sealed class DistributedWorker(IRunQueue queue, string project, WorkerSessionFactory sessions, WorkerOptions options, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly ConcurrentDictionary<string, JoinedRun> _joined = new(StringComparer.Ordinal);
    private readonly HashSet<string> _skipped = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RunCaseWriter> _writers = new(StringComparer.Ordinal);
    private int _done, _calls, _hits, _errors, _discarded, _finished, _held;

    public string Name => options.Name;

    /// <summary>The totals so far (also after a stop).</summary>
    public WorkerSummary Summary => new(options.Name, Volatile.Read(ref _done), Volatile.Read(ref _calls), Volatile.Read(ref _hits), Volatile.Read(ref _errors), Volatile.Read(ref _discarded), Volatile.Read(ref _finished));

    /// <summary>
    /// Works until cancelled (or, with <see cref="WorkerOptions.Once"/>, until no run is open). On a stop, results already
    /// computed are stored and the cases still held go back to the queue for other workers.
    /// </summary>
    public async Task<WorkerSummary> RunAsync(IProgress<WorkerEvent>? events = null, CancellationToken cancellationToken = default)
    {
        var concurrency = Math.Max(1, options.Concurrency);
        var capacity = concurrency * 3;
        // Not disposed: the last commits release their slots after the worker has returned.
        var slots = new SemaphoreSlim(capacity, capacity);
        var work = Channel.CreateUnbounded<(JoinedRun Run, EvalCase Case)>(new UnboundedChannelOptions { SingleWriter = true });
        await queue.HeartbeatAsync(options.Name, concurrency, options.Lease, cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var heartbeat = Task.WhenAll(HeartbeatAsync(concurrency, stop.Token), WatchRunsAsync(events, stop.Token));
        var producer = Task.Run(() => ClaimAsync(work.Writer, slots, concurrency, capacity, events, stop.Token), CancellationToken.None);
        try
        {
            await Parallel.ForEachAsync(
                work.Reader.ReadAllAsync(CancellationToken.None),
                new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = stop.Token },
                async (item, token) =>
                {
                    if (!item.Run.TryEnter())
                    {
                        // The run was closed after this case was claimed: cancelled (the cancel took its lease back) or
                        // finished by another worker (which wrote this case first). Nothing to call.
                        Interlocked.Decrement(ref _held);
                        slots.Release();
                        return;
                    }

                    // The call's slot is free once the case is scored; its lease is given back once its result has
                    // committed. A result lost before that (a kill) is the case of a lease that expires: claimed again.
                    Task stored;
                    try
                    {
                        stored = await ExecuteAsync(item.Run, item.Case, events, token).ConfigureAwait(false);
                    }
                    finally
                    {
                        await item.Run.ExitAsync().ConfigureAwait(false);
                    }

                    _ = stored.ContinueWith(
                        write =>
                        {
                            Interlocked.Decrement(ref _held);
                            slots.Release();
                            if (write.IsFaulted)
                            {
                                // The writer has stopped; SettleAsync rethrows its failure once the worker is stopped.
                                try
                                {
                                    stop.Cancel();
                                }
                                catch (ObjectDisposedException)
                                {
                                    // The worker has already stopped.
                                }
                            }
                        },
                        CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously,
                        TaskScheduler.Default);
                }).ConfigureAwait(false);
            await producer.ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await SettleAsync(producer, heartbeat).ConfigureAwait(false);
        }

        return Summary;
    }

    /// <summary>Claims a batch whenever a concurrency's worth of the leases it may hold is free, so the cases in flight never wait on the store.</summary>
    private async Task ClaimAsync(ChannelWriter<(JoinedRun, EvalCase)> work, SemaphoreSlim slots, int concurrency, int capacity, IProgress<WorkerEvent>? events, CancellationToken cancellationToken)
    {
        try
        {
            IReadOnlyList<string> runnable = [];
            var refreshed = DateTimeOffset.MinValue;
            while (!cancellationToken.IsCancellationRequested)
            {
                if (runnable.Count == 0 || DateTimeOffset.UtcNow - refreshed >= options.Poll)
                {
                    runnable = await JoinOpenRunsAsync(events, cancellationToken).ConfigureAwait(false);
                    refreshed = DateTimeOffset.UtcNow;
                    if (runnable.Count == 0)
                    {
                        if (options.Once && Volatile.Read(ref _held) == 0)
                        {
                            return;
                        }

                        // Woken by a run queued meanwhile when the store can tell, else after the poll interval.
                        await queue.WaitForRunsAsync(options.Poll, cancellationToken).ConfigureAwait(false);
                        continue;
                    }
                }

                var wanted = concurrency;
                for (var i = 0; i < wanted; i++)
                {
                    await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                }

                var taken = wanted;
                while (taken < capacity && slots.Wait(0))
                {
                    taken++;
                }

                IReadOnlyList<ClaimedCase> claimed;
                try
                {
                    claimed = await queue.ClaimCasesAsync(options.Name, runnable, taken, options.Lease, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    slots.Release(taken);
                    throw;
                }

                if (claimed.Count < taken)
                {
                    slots.Release(taken - claimed.Count);
                }

                foreach (var item in claimed)
                {
                    var joined = _joined[item.RunId];
                    var evalCase = joined.Session.Cases.TryGetValue(item.CaseId, out var found) ? found
                        : throw new InvalidOperationException($"run {item.RunId} queued case '{item.CaseId}', which this worker's project does not have although its suite version matched");
                    Interlocked.Increment(ref _held);
                    work.TryWrite((joined, evalCase));
                }

                if (claimed.Count == 0)
                {
                    // The open runs' cases are all leased (to workers alive, or whose leases will expire): look again shortly.
                    runnable = [];
                    await Task.Delay(options.Poll, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
        finally
        {
            work.TryComplete();
        }
    }

    /// <summary>The open runs this worker can execute, joining the ones it has not seen yet.</summary>
    private async Task<IReadOnlyList<string>> JoinOpenRunsAsync(IProgress<WorkerEvent>? events, CancellationToken cancellationToken)
    {
        var runnable = new List<string>();
        foreach (var (run, settings) in await queue.GetOpenRunsAsync(project, cancellationToken).ConfigureAwait(false))
        {
            if (_skipped.Contains(run.Id))
            {
                continue;
            }

            if (!_joined.TryGetValue(run.Id, out var joined))
            {
                var (session, problem) = await sessions(run, settings, cancellationToken).ConfigureAwait(false);
                if (session is null)
                {
                    _skipped.Add(run.Id);
                    events?.Report(new WorkerEvent(WorkerEventKind.Skipped, run.Id, problem));
                    continue;
                }

                _joined[run.Id] = joined = new JoinedRun(run.Id, session);
                events?.Report(new WorkerEvent(WorkerEventKind.Joined, run.Id));
            }

            if (!joined.IsClosed)
            {
                runnable.Add(run.Id);
            }
        }

        return runnable;
    }

    /// <summary>
    /// Every poll, the runs this worker joined that are no longer open (cancelled, or finished by another worker): no more
    /// of their cases start here, and their target and judges are freed once the cases in flight are scored.
    /// </summary>
    private async Task WatchRunsAsync(IProgress<WorkerEvent>? events, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(options.Poll, cancellationToken).ConfigureAwait(false);
                if (_joined.Values.All(j => j.IsClosed))
                {
                    continue;
                }

                try
                {
                    var open = (await queue.GetOpenRunsAsync(project, cancellationToken).ConfigureAwait(false)).Select(r => r.Run.Id).ToHashSet(StringComparer.Ordinal);
                    foreach (var joined in _joined.Values.Where(j => !j.IsClosed && !open.Contains(j.RunId)))
                    {
                        var state = await queue.GetRunStateAsync(joined.RunId, cancellationToken).ConfigureAwait(false);
                        await LeaveAsync(joined, state?.Run.Status ?? RunStatus.Cancelled, events).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    // Looked at again on the next poll; the store's failure shows in the claims and writes too.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private async Task LeaveAsync(JoinedRun joined, RunStatus status, IProgress<WorkerEvent>? events)
    {
        if (await joined.CloseAsync().ConfigureAwait(false))
        {
            events?.Report(new WorkerEvent(WorkerEventKind.Left, joined.RunId, status.ToString().ToLowerInvariant()));
        }
    }

    /// <summary>Runs and scores the case; returns its result's write, complete once committed.</summary>
    private async Task<Task> ExecuteAsync(JoinedRun joined, EvalCase evalCase, IProgress<WorkerEvent>? events, CancellationToken cancellationToken)
    {
        var (runId, session) = (joined.RunId, joined.Session);
        var result = await RunExecutor.ScoreCaseAsync(evalCase, session.Target.InvokeAsync, session.Scorers, session.Judges, runId, cancellationToken).ConfigureAwait(false);
        var (call, hit) = EvalRunner.HowAnswered(result);
        if (call)
        {
            Interlocked.Increment(ref _calls);
        }
        else if (hit)
        {
            Interlocked.Increment(ref _hits);
        }

        var record = EvalRunner.ToRecord(evalCase, result, session.Price, session.Options.Redactor);
        if (record.Error is { } error)
        {
            RecalLog.CaseFailed(_logger, runId, evalCase.Id, error);
        }

        var writer = _writers.GetOrAdd(runId, _ => new RunCaseWriter(batch => CompleteAsync(joined, batch, events), options.CommitLinger));
        return writer.AddAsync(record);
    }

    private async Task CompleteAsync(JoinedRun joined, IReadOnlyList<RunCaseRecord> batch, IProgress<WorkerEvent>? events)
    {
        // Stored whatever happens to the worker's token: a completed call is never lost to a stop. The retries are those
        // made since the last write (this run's writes come one at a time), the batch's among them.
        var runId = joined.RunId;
        var retries = joined.Session.Retries?.Invoke() ?? 0;
        var completion = await queue.CompleteCasesAsync(runId, options.Name, batch, retries - joined.ReportedRetries, CancellationToken.None).ConfigureAwait(false);
        joined.ReportedRetries = retries;
        Interlocked.Add(ref _done, completion.Written);
        Interlocked.Add(ref _discarded, completion.Discarded);
        Interlocked.Add(ref _errors, batch.Count(r => r.Error is not null));
        if (completion.Finished is { } status)
        {
            Interlocked.Increment(ref _finished);
            events?.Report(new WorkerEvent(WorkerEventKind.Finished, runId, status.ToString().ToLowerInvariant()));
            await joined.CloseAsync().ConfigureAwait(false);
        }
    }

    private async Task HeartbeatAsync(int concurrency, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Lease / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await queue.HeartbeatAsync(options.Name, concurrency, options.Lease, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    // A missed heartbeat is retried on the next tick; the store's failure shows in the writes too.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>Stores what was computed, hands the cases still held back to the queue, and frees each run's resources.</summary>
    private async Task SettleAsync(Task producer, Task heartbeat)
    {
        await Task.WhenAll(producer, heartbeat).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Exception? failure = null;
        foreach (var writer in _writers.Values)
        {
            try
            {
                await writer.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure ??= e;
            }
        }

        try
        {
            await queue.ReleaseWorkerAsync(options.Name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The store is failing: the leases simply expire and other workers claim the cases.
            failure ??= e;
        }

        foreach (var joined in _joined.Values)
        {
            await joined.CloseAsync().ConfigureAwait(false);
        }

        if (failure is not null && producer.Exception is null)
        {
            throw failure;
        }
    }

    /// <summary>
    /// A run this worker joined: its session, the cases of it being executed here, and whether it is closed (no longer
    /// open in the store, or the worker stopping). Its resources are disposed once, when it is closed and no case of it
    /// is executing.
    /// </summary>
    private sealed class JoinedRun(string runId, WorkerRunSession session)
    {
        private readonly Lock _lock = new();
        private int _active;
        private bool _closed, _disposed;

        public string RunId { get; } = runId;

        public WorkerRunSession Session { get; } = session;

        /// <summary>The retries already written with this run's results (read and set by its one writer).</summary>
        public int ReportedRetries { get; set; }

        public bool IsClosed
        {
            get
            {
                lock (_lock)
                {
                    return _closed;
                }
            }
        }

        /// <summary>A case starts executing; false once the run is closed.</summary>
        public bool TryEnter()
        {
            lock (_lock)
            {
                if (_closed)
                {
                    return false;
                }

                _active++;
                return true;
            }
        }

        /// <summary>A case has been scored; the last one of a closed run frees its resources.</summary>
        public ValueTask ExitAsync()
        {
            lock (_lock)
            {
                _active--;
            }

            return DisposeIfDoneAsync();
        }

        /// <summary>Closes the run; true when this call closed it.</summary>
        public async ValueTask<bool> CloseAsync()
        {
            bool first;
            lock (_lock)
            {
                first = !_closed;
                _closed = true;
            }

            await DisposeIfDoneAsync().ConfigureAwait(false);
            return first;
        }

        private ValueTask DisposeIfDoneAsync()
        {
            lock (_lock)
            {
                if (!_closed || _active > 0 || _disposed)
                {
                    return ValueTask.CompletedTask;
                }

                _disposed = true;
            }

            return Session.Resources?.DisposeAsync() ?? ValueTask.CompletedTask;
        }
    }
}
