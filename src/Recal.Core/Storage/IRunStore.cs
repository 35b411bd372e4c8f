using Recal.Running;

namespace Recal.Storage;

/// <summary>Who holds the lease on a run, and until when (renewed while the run goes on).</summary>
public sealed record RunLeaseHolder(string Owner, DateTimeOffset Until);

/// <summary>Eval runs and their per-case results: created, filled case by case (durably), leased, finished and queried.</summary>
public interface IRunStore
{
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

    /// <summary>
    /// The stored runs that match <paramref name="query"/>, newest first (by start, then id), at most its limit. The store
    /// filters before it limits, so a matching run is never dropped for newer ones that do not match.
    /// </summary>
    ValueTask<IReadOnlyList<RunInfo>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken = default);

    /// <summary>Stored runs, newest first, at most <paramref name="limit"/>: every run, whatever its status.</summary>
    ValueTask<IReadOnlyList<RunInfo>> ListRunsAsync(int limit = 50, CancellationToken cancellationToken = default) =>
        QueryRunsAsync(new RunQuery(Limit: limit), cancellationToken);

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
}
