using Recal.Domain;
using Recal.Running;

namespace Recal.Storage;

/// <summary>Which stored runs to read (<see cref="IRunStore.QueryRunsAsync"/>); every condition given must hold.</summary>
/// <param name="Target">Runs of this target only.</param>
/// <param name="Pools">Runs that ran every one of these pools (and maybe others).</param>
/// <param name="Since">Runs started at or after this time.</param>
/// <param name="Statuses">Runs in one of these statuses; null or empty for any.</param>
/// <param name="SuiteVersion">Runs of this suite version only.</param>
/// <param name="Limit">At most this many runs, the newest; null for every match.</param>
public sealed record RunQuery(
    string? Target = null,
    PoolSet? Pools = null,
    DateTimeOffset? Since = null,
    IReadOnlyCollection<RunStatus>? Statuses = null,
    string? SuiteVersion = null,
    int? Limit = null)
{
    /// <summary>The statuses of a run that has a result for every case (<see cref="RunStatus.Completed"/>, <see cref="RunStatus.Degraded"/>).</summary>
    public static IReadOnlyCollection<RunStatus> Finished { get; } = [RunStatus.Completed, RunStatus.Degraded];

    /// <summary>The statuses of a run that can be resumed (<see cref="RunStatus.Running"/>, <see cref="RunStatus.Interrupted"/>).</summary>
    public static IReadOnlyCollection<RunStatus> Resumable { get; } = [RunStatus.Running, RunStatus.Interrupted];

    /// <summary>Whether <paramref name="run"/> matches: what a store that cannot filter where it reads applies itself.</summary>
    public bool Matches(RunInfo run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return (Target is null || string.Equals(run.Target, Target, StringComparison.Ordinal))
            && (Pools is null || Pools.IsSubsetOf(run.Pools))
            && (Since is null || run.Started >= Since)
            && (Statuses is not { Count: > 0 } || Statuses.Contains(run.Status))
            && (SuiteVersion is null || string.Equals(run.SuiteVersion, SuiteVersion, StringComparison.Ordinal));
    }
}
