using Recal.Decisions;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Storage;

namespace Recal.Workflows;

/// <summary>What <c>recal status</c> is asked: the project and the date to judge what is due by.</summary>
public sealed record StatusRequest(EvalProject Project, DateTimeOffset Now);

/// <summary>One stratum's pools: cases per pool (the sealed holdout counted in when strata are intents) and drafts waiting for labels.</summary>
public sealed record StratumPools(string Stratum, int Gold, int Shadow, int Holdout, int Retired, int Drafts);

/// <summary>
/// The set's lifecycle as of a date: pools per stratum, their totals, the clock (refresh, rotation, hand-over), the
/// seal, what is past its date or below the floor, and how much gold has been looked at since the last rotation.
/// </summary>
/// <param name="DraftProblems">Draft lines that could not be read, located (file and line); the other drafts are counted.</param>
public sealed record StatusResult(
    IReadOnlyList<StratumPools> Strata,
    int Gold,
    int Shadow,
    int Holdout,
    int Retired,
    int Drafts,
    LifecycleClock Clock,
    int Expired,
    int Thin,
    ContaminationEstimate? Contamination,
    IReadOnlyList<string> DraftProblems)
{
    /// <summary>The tasks to do now (the command's exit code is 1 when there is one).</summary>
    public int DueNow => Clock.DueNow;
}

/// <summary>The lifecycle's state, as <c>recal status</c> prints it and the dashboard's lifecycle view shows it.</summary>
public static class StatusUseCase
{
    /// <param name="store">The project's store, or null when there is none yet (no contamination estimate then).</param>
    public static async Task<StatusResult> RunAsync(StatusRequest request, IRecalStore? store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (project, now) = (request.Project, request.Now);
        var policy = project.Policy;
        var strata = project.Cases.GroupBy(c => LifecycleRules.StratumOf(policy, c), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.GroupBy(c => c.Pool).ToDictionary(p => p.Key, p => p.Count()), StringComparer.Ordinal);
        var sealedCounts = project.Seal?.Intents ?? new Dictionary<string, int>();
        var (stored, problems) = LabelImportUseCase.ReadDrafts(project.Root);
        var drafts = stored.Select(d => d.Draft).ToList();
        var byIntent = policy.Strata.By is ["intent"];

        int Count(string stratum, Pool pool) => strata.TryGetValue(stratum, out var pools) ? pools.GetValueOrDefault(pool) : 0;
        var rows = strata.Keys.Concat(byIntent ? sealedCounts.Keys : []).Concat(drafts.Select(d => d.Stratum)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(s => new StratumPools(s, Count(s, Pool.Gold), Count(s, Pool.Shadow), Count(s, Pool.Holdout) + (byIntent ? sealedCounts.GetValueOrDefault(s) : 0), Count(s, Pool.Retired), drafts.Count(d => d.Stratum == s)))
            .ToList();

        var clock = LifecycleClock.Of(project, now);
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var expired = project.Cases.Count(c => c.Pool == Pool.Gold && c.ValidUntil is { } until && until < today);
        var thin = strata.Count(s => s.Value.GetValueOrDefault(Pool.Gold) is > 0 and var n && n < policy.Strata.Floor);

        // How often gold has been looked at since the last rotation (runs stored in the store, when there is one).
        var contamination = store is null ? null : await Contamination.EstimateAsync(project, store, clock.Rotation.Last, cancellationToken: cancellationToken).ConfigureAwait(false);
        return new StatusResult(
            rows,
            project.Cases.Count(c => c.Pool == Pool.Gold),
            project.Cases.Count(c => c.Pool == Pool.Shadow),
            project.Cases.Count(c => c.Pool == Pool.Holdout) + (project.Seal?.Cases ?? 0),
            project.Cases.Count(c => c.Pool == Pool.Retired),
            drafts.Count,
            clock,
            expired,
            thin,
            contamination is { Runs: > 0 } ? contamination : null,
            problems);
    }
}
