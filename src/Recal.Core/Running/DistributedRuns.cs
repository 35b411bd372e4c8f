using Recal.Domain;
using Recal.Storage;

namespace Recal.Running;

/// <summary>
/// A distributed run from the side of whoever starts or watches it (docs/running.md#distributed-runs): its cases queued in
/// the store for <see cref="DistributedWorker"/>s on any machine, its progress read back, and its summary made from the
/// stored results by the same rule as a local run's.
/// </summary>
public static class DistributedRuns
{
    /// <summary>Records the run and queues every case of it, in one transaction.</summary>
    public static async Task EnqueueAsync(IRunQueue queue, RunInfo run, IReadOnlyList<EvalCase> cases, DistributedRunSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(cases);
        if (cases.Count == 0 || cases.Count != run.Total)
        {
            throw new ArgumentException($"a run of {run.Total} case(s) cannot queue {cases.Count}", nameof(cases));
        }

        await queue.EnqueueRunAsync(run, [.. cases.Select(c => c.Id)], settings, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reports the run's state every <paramref name="interval"/> until it is finished (or the token stops the watch, which
    /// leaves the run to its workers); returns the last state, null when no distributed run has this id.
    /// </summary>
    public static async Task<DistributedRunState?> WatchAsync(IRunQueue queue, string runId, TimeSpan interval, IProgress<DistributedRunState>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        while (true)
        {
            var state = await queue.GetRunStateAsync(runId, cancellationToken).ConfigureAwait(false);
            if (state is null)
            {
                return null;
            }

            progress?.Report(state);
            if (state.IsFinished)
            {
                return state;
            }

            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The run's summary from its stored results, as a local run's (<see cref="EvalRunner.Summarize"/>), with the calls and cache hits of all its workers.</summary>
    public static async Task<RunSummary> SummarizeAsync(IRunStore store, DistributedRunState state, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(state);
        var results = await store.GetRunCasesAsync(state.Run.Id, cancellationToken).ConfigureAwait(false);
        return EvalRunner.Summarize(state.Run, results, state.Settings.MaxErrorShare) with
        {
            Calls = state.Workers.Sum(w => w.Calls),
            CacheHits = state.Workers.Sum(w => w.CacheHits),
        };
    }

    /// <summary>The progress of each of the project's distributed runs still running, oldest first.</summary>
    public static async Task<IReadOnlyList<DistributedRunState>> OpenStatesAsync(IRunQueue queue, string project, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        var states = new List<DistributedRunState>();
        foreach (var (run, _) in await queue.GetOpenRunsAsync(project, cancellationToken).ConfigureAwait(false))
        {
            if (await queue.GetRunStateAsync(run.Id, cancellationToken).ConfigureAwait(false) is { } state)
            {
                states.Add(state);
            }
        }

        return states;
    }

    /// <summary>A worker silent for longer than its lease has stopped or been killed: its cases are claimed again.</summary>
    public static bool IsSilent(WorkerState worker)
    {
        ArgumentNullException.ThrowIfNull(worker);
        return !worker.Stopped && worker.HeartbeatAge > worker.Lease;
    }
}
