using Recal.Running;

namespace Recal.Storage;

/// <summary>How the workers execute a distributed run: what <c>recal run --distributed</c> was asked, stored with the run.</summary>
/// <param name="UseCache">Read and fill the response cache (false: <c>--no-cache</c>).</param>
/// <param name="UseJudges">Score with the project's judge ensemble (false: <c>--no-judge</c>, or no judge configured).</param>
/// <param name="RequestsPerMinute">The target's limit for this run (<c>--rpm</c>), null for the target's own setting.</param>
/// <param name="MaxErrorShare">Above this share of errored cases the finished run is degraded.</param>
/// <param name="MaxInFlight">
/// The run's cap on cases leased at once across all its workers (<c>recal run --distributed --concurrency N</c>), so on
/// calls in flight to its target; null for no cap beyond each worker's own concurrency.
/// </param>
/// <param name="Holdout">How the run opens the sealed holdout, when it covers it; null when it does not.</param>
public sealed record DistributedRunSettings(bool UseCache, bool UseJudges, double? RequestsPerMinute, double MaxErrorShare, int? MaxInFlight = null, SealedHoldoutUse? Holdout = null);

/// <summary>
/// A distributed run over the sealed holdout (docs/running.md#the-sealed-holdout): each worker opens it in memory with its
/// own key, only if the seal still has the commitment the submitter verified, and before its sealed-until date only when
/// the submitter opened it early (<c>--unseal</c>, with the key). The store holds case ids only, never a holdout input.
/// </summary>
/// <param name="Commitment">The seal's SHA-256 commitment the submitter opened and verified.</param>
/// <param name="Early">The submitter opened it before its sealed-until date with <c>--unseal</c>.</param>
public sealed record SealedHoldoutUse(string Commitment, bool Early);

/// <summary>What <see cref="IRunQueue.CancelRunAsync"/> found and did.</summary>
/// <param name="Run">The run as it is now (status cancelled when this or an earlier cancel stopped it); null when no distributed run has the id.</param>
/// <param name="Cancelled">This call cancelled it; false when it was cancelled already or had finished.</param>
/// <param name="Released">Leased cases taken back from their workers by this call.</param>
/// <param name="Stored">Cases with a stored result when the run was cancelled (kept: the partial run).</param>
public sealed record CancelOutcome(RunInfo? Run, bool Cancelled, int Released, int Stored);

/// <summary>A case a worker claimed: its run, its id, and how many times it has been claimed (2 or more: reclaimed).</summary>
public sealed record ClaimedCase(string RunId, string CaseId, int Claims);

/// <summary>What storing a batch of a worker's results did.</summary>
/// <param name="Written">Results stored (the case had none yet).</param>
/// <param name="Discarded">Results dropped because the case already had one (a worker whose lease expired, then finished it anyway).</param>
/// <param name="Finished">The run's status when this batch wrote its last case (the one transaction that finished the run), else null.</param>
public sealed record CaseCompletion(int Written, int Discarded, RunStatus? Finished);

/// <summary>One worker as the store sees it, with its work on one run.</summary>
/// <param name="Worker">The worker's name, <c>host:pid:nonce</c>.</param>
/// <param name="HeartbeatAge">Since its last heartbeat, by the store's clock; a worker silent for longer than its lease has stopped or been killed.</param>
/// <param name="Stopped">It said goodbye (its leased cases went back to the queue).</param>
/// <param name="Retries">Retries of target and judge calls (as a local run counts them) in this worker's results of the run.</param>
public sealed record WorkerState(string Worker, int Concurrency, TimeSpan HeartbeatAge, TimeSpan Lease, bool Stopped, int Done, int Calls, int CacheHits, int Errors, int Discarded, int Retries = 0);

/// <summary>A distributed run's progress, read from the store in one go.</summary>
/// <param name="Reclaimed">Cases claimed more than once: their first worker stopped, was killed or lost its lease while they were in flight, so their call may have reached the endpoint twice.</param>
/// <param name="RecentErrors">The latest errored cases (case id, error), newest first.</param>
public sealed record DistributedRunState(
    RunInfo Run,
    DistributedRunSettings Settings,
    int Queued,
    int Leased,
    int Done,
    int Passed,
    int Errors,
    int Reclaimed,
    IReadOnlyList<WorkerState> Workers,
    IReadOnlyList<(string CaseId, string Error)> RecentErrors)
{
    public int Total => Queued + Leased + Done;

    public bool IsFinished => Run.Status is not RunStatus.Running;

    /// <summary>Retries of calls made by every worker of the run, as <c>recal run</c> counts a local run's.</summary>
    public int Retries => Workers.Sum(w => w.Retries);
}

/// <summary>
/// The queue of distributed runs, shared by every worker of a store (docs/running.md): cases claimed in batches under row
/// locks that skip each other (<c>FOR UPDATE SKIP LOCKED</c>), leases kept alive by heartbeats and claimed again once
/// they expire, results written once per (run, case), the run finished by the transaction that writes its last case, and
/// call slots of each target's request limit handed out by the store's clock.
/// </summary>
public interface IRunQueue
{
    /// <summary>Records the run and queues its cases, in one transaction.</summary>
    ValueTask EnqueueRunAsync(RunInfo run, IReadOnlyList<string> caseIds, DistributedRunSettings settings, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until a run may have been queued, or for <paramref name="timeout"/>: an idle worker calls it between its
    /// looks for work. A store that hears of each queued run (PostgreSQL's <c>LISTEN</c>/<c>NOTIFY</c>) returns as soon
    /// as one is, so a waiting worker starts on a run at once rather than at its next look; the default waits the
    /// timeout out. Returning early is only a hint: the caller looks for work again either way.
    /// </summary>
    async ValueTask WaitForRunsAsync(TimeSpan timeout, CancellationToken cancellationToken = default) =>
        await Task.Delay(timeout, cancellationToken).ConfigureAwait(false);

    /// <summary>The project's distributed runs still running, oldest first, with their settings.</summary>
    ValueTask<IReadOnlyList<(RunInfo Run, DistributedRunSettings Settings)>> GetOpenRunsAsync(string project, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims up to <paramref name="max"/> cases of the given runs still running for <paramref name="worker"/>: queued
    /// ones, and leased ones whose lease expired; of a run with <see cref="DistributedRunSettings.MaxInFlight"/>, no more
    /// than keep its live leases within the cap. Each claimed case is leased for <paramref name="lease"/> by the store's clock.
    /// </summary>
    ValueTask<IReadOnlyList<ClaimedCase>> ClaimCasesAsync(string worker, IReadOnlyCollection<string> runIds, int max, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>Records that the worker is alive and extends the leases of every case it holds by <paramref name="lease"/>.</summary>
    ValueTask HeartbeatAsync(string worker, int concurrency, TimeSpan lease, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a worker's results in one transaction: each case's first result is kept and marks it done; a later one is
    /// discarded. The transaction that writes the run's last case also sets its status and finish time (a cancelled
    /// run keeps its status). <paramref name="retries"/> are the call retries made since the worker's last completion
    /// of the run, added to its totals.
    /// </summary>
    ValueTask<CaseCompletion> CompleteCasesAsync(string runId, string worker, IReadOnlyList<RunCaseRecord> results, int retries = 0, CancellationToken cancellationToken = default);

    /// <summary>
    /// Cancels a distributed run still running, in one transaction: its status becomes cancelled with a finish time, no
    /// case of it is claimed again, and its leased cases are taken back from their workers. Stored results are kept. A
    /// run already cancelled or finished is left as it is (the outcome says which).
    /// </summary>
    ValueTask<CancelOutcome> CancelRunAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>A worker that stops puts the cases it still holds back in the queue and is marked stopped.</summary>
    ValueTask ReleaseWorkerAsync(string worker, CancellationToken cancellationToken = default);

    /// <summary>The progress of a distributed run; null when no distributed run has this id.</summary>
    ValueTask<DistributedRunState?> GetRunStateAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reserves the next call slot of the limit named <paramref name="key"/>, slots <paramref name="spacing"/> apart by the
    /// store's clock for every worker; returns how long to wait before calling (zero when the slot is now).
    /// </summary>
    ValueTask<TimeSpan> ReserveCallSlotAsync(string key, TimeSpan spacing, CancellationToken cancellationToken = default);
}
