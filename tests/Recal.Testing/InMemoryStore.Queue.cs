using Recal.Running;
using Recal.Storage;

namespace Recal.Testing;

/// <summary>
/// The queue of distributed runs in memory (<see cref="IRunQueue"/>), under the store's one lock: what the PostgreSQL
/// store does with row locks, done here by holding the lock for each call, with <see cref="Clock"/> as the store's clock.
/// It passes the queue's contract suite (<see cref="RunQueueContract"/>), so the workers' logic is tested without a server.
/// </summary>
public sealed partial class InMemoryStore : IRunQueue
{
    private readonly Dictionary<string, QueuedRun> _queued = new(StringComparer.Ordinal);
    private readonly Dictionary<string, QueueWorker> _workers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _slots = new(StringComparer.Ordinal);

    /// <summary>The store's clock for leases, heartbeats and call slots.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    private DateTimeOffset Now => Clock.GetUtcNow();

    // Completed (and replaced) by each run queued: the waits begun before it return.
    private TaskCompletionSource _queuedRun = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask WaitForRunsAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        try
        {
            await Volatile.Read(ref _queuedRun).Task.WaitAsync(timeout, Clock, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
    }

    public ValueTask EnqueueRunAsync(RunInfo run, IReadOnlyList<string> caseIds, DistributedRunSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(caseIds);
        ArgumentNullException.ThrowIfNull(settings);
        lock (_lock)
        {
            if (_runs.ContainsKey(run.Id))
            {
                throw new InvalidOperationException($"run '{run.Id}' is already stored");
            }

            var cases = new SortedDictionary<string, QueuedCase>(StringComparer.Ordinal);
            foreach (var id in caseIds)
            {
                if (!cases.TryAdd(id, new QueuedCase()))
                {
                    throw new InvalidOperationException($"case '{id}' is queued twice");
                }
            }

            _runs[run.Id] = run with { Finished = null };
            _results[run.Id] = new SortedDictionary<string, RunCaseRecord>(StringComparer.Ordinal);
            _queued[run.Id] = new QueuedRun(settings, cases);
            Interlocked.Exchange(ref _queuedRun, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<IReadOnlyList<(RunInfo Run, DistributedRunSettings Settings)>> GetOpenRunsAsync(string project, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        lock (_lock)
        {
            IReadOnlyList<(RunInfo, DistributedRunSettings)> open = [.. _queued
                .Select(q => (Run: _runs[q.Key], q.Value.Settings))
                .Where(q => q.Run.Project == project && q.Run.Status == RunStatus.Running)
                .OrderBy(q => q.Run.Started)
                .ThenBy(q => q.Run.Id, StringComparer.Ordinal)];
            return ValueTask.FromResult(open);
        }
    }

    public ValueTask<IReadOnlyList<ClaimedCase>> ClaimCasesAsync(string worker, IReadOnlyCollection<string> runIds, int max, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(runIds);
        lock (_lock)
        {
            var now = Now;
            var claimed = new List<ClaimedCase>();
            foreach (var runId in runIds.Distinct().Order(StringComparer.Ordinal))
            {
                if (claimed.Count >= max || !_queued.TryGetValue(runId, out var queued) || _runs[runId].Status != RunStatus.Running)
                {
                    continue;
                }

                var room = max - claimed.Count;
                if (queued.Settings.MaxInFlight is { } cap)
                {
                    room = Math.Min(room, Math.Max(0, cap - queued.Cases.Values.Count(c => c.State == CaseState.Leased && c.LeaseUntil >= now)));
                }

                foreach (var (caseId, queuedCase) in queued.Cases)
                {
                    if (room == 0)
                    {
                        break;
                    }

                    if (queuedCase.State == CaseState.Queued || (queuedCase.State == CaseState.Leased && queuedCase.LeaseUntil < now))
                    {
                        (queuedCase.State, queuedCase.Worker, queuedCase.LeaseUntil) = (CaseState.Leased, worker, now + lease);
                        queuedCase.Claims++;
                        claimed.Add(new ClaimedCase(runId, caseId, queuedCase.Claims));
                        room--;
                    }
                }
            }

            return ValueTask.FromResult<IReadOnlyList<ClaimedCase>>(claimed);
        }
    }

    public ValueTask HeartbeatAsync(string worker, int concurrency, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        lock (_lock)
        {
            var now = Now;
            _workers[worker] = _workers.TryGetValue(worker, out var known)
                ? known with { Concurrency = concurrency, Lease = lease, Heartbeat = now, Stopped = false }
                : new QueueWorker(concurrency, lease, now, false);
            foreach (var held in HeldBy(worker))
            {
                held.LeaseUntil = now + lease;
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<CaseCompletion> CompleteCasesAsync(string runId, string worker, IReadOnlyList<RunCaseRecord> results, int retries = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(results);
        lock (_lock)
        {
            if (!_queued.TryGetValue(runId, out var queued))
            {
                throw new InvalidOperationException($"run '{runId}' is not a distributed run");
            }

            var stored = _results[runId];
            var mine = new List<RunCaseRecord>();
            foreach (var result in results.OrderBy(r => r.CaseId, StringComparer.Ordinal))
            {
                if (stored.TryAdd(result.CaseId, result))
                {
                    mine.Add(result);
                    if (queued.Cases.TryGetValue(result.CaseId, out var queuedCase) && queuedCase.State != CaseState.Done)
                    {
                        (queuedCase.State, queuedCase.Worker, queuedCase.LeaseUntil) = (CaseState.Done, worker, null);
                        queued.Remaining--;
                    }
                }
            }

            var totals = queued.Totals.TryGetValue(worker, out var known) ? known : new WorkerTotals();
            queued.Totals[worker] = totals with
            {
                Done = totals.Done + mine.Count,
                Calls = totals.Calls + results.Count(r => r is { FromCache: false, Attempts: > 0, LatencyMs: not null }),
                CacheHits = totals.CacheHits + mine.Count(r => r.FromCache),
                Errors = totals.Errors + mine.Count(r => r.Error is not null),
                Discarded = totals.Discarded + results.Count - mine.Count,
                Retries = totals.Retries + Math.Max(0, retries),
            };
            RunStatus? finished = null;
            var run = _runs[runId];
            if (mine.Count > 0 && queued.Remaining == 0 && run.Status == RunStatus.Running)
            {
                var errors = stored.Values.Count(r => r.Error is not null);
                finished = stored.Count > 0 && (double)errors / stored.Count > queued.Settings.MaxErrorShare ? RunStatus.Degraded : RunStatus.Completed;
                _runs[runId] = run with { Status = finished.Value, Finished = Milliseconds(Now) };
            }

            return ValueTask.FromResult(new CaseCompletion(mine.Count, results.Count - mine.Count, finished));
        }
    }

    public ValueTask ReleaseWorkerAsync(string worker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        lock (_lock)
        {
            foreach (var held in HeldBy(worker))
            {
                (held.State, held.Worker, held.LeaseUntil) = (CaseState.Queued, null, null);
            }

            if (_workers.TryGetValue(worker, out var known))
            {
                _workers[worker] = known with { Stopped = true };
            }

            return ValueTask.CompletedTask;
        }
    }

    public ValueTask<CancelOutcome> CancelRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        lock (_lock)
        {
            if (!_queued.TryGetValue(runId, out var queued))
            {
                return ValueTask.FromResult(new CancelOutcome(null, false, 0, 0));
            }

            var run = _runs[runId];
            if (run.Status != RunStatus.Running)
            {
                return ValueTask.FromResult(new CancelOutcome(run, false, 0, _results[runId].Count));
            }

            var released = 0;
            foreach (var leased in queued.Cases.Values.Where(c => c.State == CaseState.Leased))
            {
                (leased.State, leased.Worker, leased.LeaseUntil) = (CaseState.Queued, null, null);
                released++;
            }

            run = _runs[runId] = run with { Status = RunStatus.Cancelled, Finished = Milliseconds(Now) };
            return ValueTask.FromResult(new CancelOutcome(run, true, released, _results[runId].Count));
        }
    }

    public ValueTask<DistributedRunState?> GetRunStateAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        lock (_lock)
        {
            if (!_queued.TryGetValue(runId, out var queued))
            {
                return ValueTask.FromResult<DistributedRunState?>(null);
            }

            var now = Now;
            var cases = queued.Cases.Values;
            var stored = _results[runId].Values;
            var workers = _workers
                .Where(w => queued.Totals.ContainsKey(w.Key) || cases.Any(c => c.State == CaseState.Leased && c.Worker == w.Key))
                .OrderBy(w => w.Key, StringComparer.Ordinal)
                .Select(w =>
                {
                    var t = queued.Totals.GetValueOrDefault(w.Key) ?? new WorkerTotals();
                    var age = now - w.Value.Heartbeat;
                    return new WorkerState(w.Key, w.Value.Concurrency, age < TimeSpan.Zero ? TimeSpan.Zero : age, w.Value.Lease, w.Value.Stopped, t.Done, t.Calls, t.CacheHits, t.Errors, t.Discarded, t.Retries);
                })
                .ToList();
            var state = new DistributedRunState(
                _runs[runId],
                queued.Settings,
                cases.Count(c => c.State == CaseState.Queued || (c.State == CaseState.Leased && c.LeaseUntil < now)),
                cases.Count(c => c.State == CaseState.Leased && c.LeaseUntil >= now),
                cases.Count(c => c.State == CaseState.Done),
                stored.Count(r => r.Passed),
                stored.Count(r => r.Error is not null),
                cases.Count(c => c.Claims > 1),
                workers,
                [.. stored.Where(r => r.Error is not null).OrderByDescending(r => r.Finished).ThenBy(r => r.CaseId, StringComparer.Ordinal).Take(5).Select(r => (r.CaseId, r.Error!))]);
            return ValueTask.FromResult<DistributedRunState?>(state);
        }
    }

    public ValueTask<TimeSpan> ReserveCallSlotAsync(string key, TimeSpan spacing, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            var now = Now;
            var slot = _slots.TryGetValue(key, out var next) && next > now ? next : now;
            _slots[key] = slot + spacing;
            return ValueTask.FromResult(slot - now);
        }
    }

    private IEnumerable<QueuedCase> HeldBy(string worker) =>
        _queued.Values.SelectMany(q => q.Cases.Values).Where(c => c.State == CaseState.Leased && c.Worker == worker);

    private static DateTimeOffset Milliseconds(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);

    private enum CaseState
    {
        Queued,
        Leased,
        Done,
    }

    private sealed class QueuedCase
    {
        public CaseState State { get; set; }

        public string? Worker { get; set; }

        public DateTimeOffset? LeaseUntil { get; set; }

        public int Claims { get; set; }
    }

    private sealed class QueuedRun(DistributedRunSettings settings, SortedDictionary<string, QueuedCase> cases)
    {
        public DistributedRunSettings Settings { get; } = settings;

        public SortedDictionary<string, QueuedCase> Cases { get; } = cases;

        public int Remaining { get; set; } = cases.Count;

        public Dictionary<string, WorkerTotals> Totals { get; } = new(StringComparer.Ordinal);
    }

    private sealed record QueueWorker(int Concurrency, TimeSpan Lease, DateTimeOffset Heartbeat, bool Stopped);

    private sealed record WorkerTotals(int Done = 0, int Calls = 0, int CacheHits = 0, int Errors = 0, int Discarded = 0, int Retries = 0);
}
