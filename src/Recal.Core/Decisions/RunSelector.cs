using Recal.Running;
using Recal.Storage;

namespace Recal.Decisions;

/// <summary>Finds the run a command names: a run id, or a target name meaning that target's newest finished run.</summary>
public static class RunSelector
{
    /// <returns>The run, or null with why not and what would be right.</returns>
    public static async ValueTask<(RunInfo? Run, string? Error)> FindAsync(IRecalStore store, string idOrTarget, IReadOnlyCollection<string> targets, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(idOrTarget);
        ArgumentNullException.ThrowIfNull(targets);
        if (await store.GetRunAsync(idOrTarget, cancellationToken).ConfigureAwait(false) is { } run)
        {
            return (run, null);
        }

        if ((await store.QueryRunsAsync(new RunQuery(Target: idOrTarget, Statuses: RunQuery.Finished, Limit: 1), cancellationToken).ConfigureAwait(false)) is [var latest])
        {
            return (latest, null);
        }

        if ((await store.QueryRunsAsync(new RunQuery(Target: idOrTarget, Limit: 1), cancellationToken).ConfigureAwait(false)).Count > 0)
        {
            return (null, $"target '{idOrTarget}' has no finished run (only running or interrupted ones); finish one with recal run --resume, or name a run id");
        }

        var runs = await store.ListRunsAsync(int.MaxValue, cancellationToken).ConfigureAwait(false);
        var known = targets.Concat(runs.Select(r => r.Target)).Distinct(StringComparer.Ordinal).ToList();
        return (null, $"'{idOrTarget}' is neither a stored run id nor a target with a finished run; " + (known.Count == 0 ? "the store holds no run yet: start one with recal run" : Text.Spelling.Hint(idOrTarget, known) + "; recal report --list lists the runs"));
    }
}
