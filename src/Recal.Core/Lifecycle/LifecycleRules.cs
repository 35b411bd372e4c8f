using System.Globalization;
using Recal.Classification;
using Recal.Domain;
using Recal.Running;
using Recal.Storage;

namespace Recal.Lifecycle;

/// <summary>A case the retirement rules propose to retire, with the rule and the finding.</summary>
public sealed record RetirementCandidate(EvalCase Case, string Rule, string Reason);

/// <summary>A stratum seen in shadow but not in gold, with its traffic share in each of the last cycles.</summary>
/// <param name="Shares">Traffic share per cycle, oldest first.</param>
/// <param name="Promote">It held at least the policy's minimum weight in every one of the policy's cycles.</param>
public sealed record PromotionProposal(string Stratum, IReadOnlyList<double> Shares, IReadOnlyList<EvalCase> Cases, bool Promote, string Reason);

/// <summary>Traffic counts per stratum in consecutive cycles (refresh cadence) ending at the newest trace.</summary>
/// <param name="Cycles">Cycle windows, oldest first.</param>
/// <param name="Counts">Per cycle, traces per stratum.</param>
public sealed record CycleTraffic(IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> Cycles, IReadOnlyList<IReadOnlyDictionary<string, long>> Counts)
{
    public double Share(int cycle, string stratum)
    {
        var total = Counts[cycle].Values.Sum();
        return total == 0 ? 0 : (double)Counts[cycle].GetValueOrDefault(stratum) / total;
    }
}

/// <summary>
/// The promotion and retirement rules of the sampling policy (docs/lifecycle.md#rules): every result is a
/// proposal with its reason; commands apply them only when asked.
/// </summary>
public static class LifecycleRules
{
    /// <summary>The stratum of a case under the policy's <c>strata.by</c>.</summary>
    public static string StratumOf(SamplingPolicy policy, EvalCase evalCase)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(evalCase);
        return Sampler.StratumOf(policy.Strata.By, evalCase.Intent, CohortResolver.FormatKey(evalCase.Cohort.OrderBy(c => c.Key, StringComparer.Ordinal)));
    }

    /// <summary>
    /// When the set was last refreshed (the newest shadow case's added date) and rotated (the last rotation in the
    /// changelog, else the holdout's sealing); null when never.
    /// </summary>
    public static (DateTimeOffset? LastRefresh, DateTimeOffset? LastRotation) Schedule(EvalProject project)
    {
        ArgumentNullException.ThrowIfNull(project);
        var refresh = project.Cases.Where(c => c.Pool == Pool.Shadow).Select(c => (DateOnly?)c.Added).Max();
        var (entries, _) = Changelog.Read(project.Root);
        return (
            refresh is { } day ? new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null,
            entries.LastOrDefault(e => e.Rule == "rotation")?.At ?? project.Seal?.Sealed);
    }

    /// <summary>Counts stored traffic by stratum in the last <paramref name="cycles"/> refresh cycles before the newest trace.</summary>
    public static async Task<CycleTraffic?> CountCyclesAsync(IRecalStore store, SamplingPolicy policy, int cycles, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(policy);
        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is null)
        {
            return null;
        }

        var end = span.Last.AddMilliseconds(1);
        var windows = new List<(DateTimeOffset, DateTimeOffset)>();
        var counts = new List<IReadOnlyDictionary<string, long>>();
        for (var i = cycles; i >= 1; i--)
        {
            var from = end - (policy.RefreshCadence * i);
            var to = from + policy.RefreshCadence;
            windows.Add((from, to));
            var rows = await store.CountTrafficAsync(new TrafficQuery(from, to), cancellationToken).ConfigureAwait(false);
            counts.Add(rows.GroupBy(r => Sampler.StratumOf(policy.Strata.By, r.Intent, r.CohortKey), StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Sum(r => r.Count), StringComparer.Ordinal));
        }

        return new CycleTraffic(windows, counts);
    }

    /// <summary>
    /// Retirement candidates among gold cases: past <c>valid_until</c>; in a stratum no traffic matched for the
    /// policy's number of cycles; failing in <paramref name="before"/> and passing in <paramref name="after"/> (two runs
    /// around a model upgrade). Each rule applies only when the policy enables it.
    /// </summary>
    /// <param name="neighbourhood">Gold cases no recent trace comes near (<see cref="NeighbourhoodResult.MeasureAsync"/>), for the neighbourhood rule.</param>
    public static IReadOnlyList<RetirementCandidate> Retirements(EvalProject project, DateOnly today, CycleTraffic? traffic, IReadOnlyList<RunCaseRecord>? before = null, IReadOnlyList<RunCaseRecord>? after = null, NeighbourhoodResult? neighbourhood = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        var rules = project.Policy.Retirement;
        var candidates = new List<RetirementCandidate>();
        var gold = project.Cases.Where(c => c.Pool == Pool.Gold).ToList();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(EvalCase evalCase, string rule, string reason)
        {
            if (seen.Add(evalCase.Id))
            {
                candidates.Add(new RetirementCandidate(evalCase, rule, reason));
            }
        }

        if (rules.RetireExpired)
        {
            foreach (var evalCase in gold.Where(c => c.ValidUntil is { } until && until < today))
            {
                Add(evalCase, "expired", string.Create(CultureInfo.InvariantCulture, $"valid until {evalCase.ValidUntil:yyyy-MM-dd}: its right answer may have changed"));
            }
        }

        if (traffic is not null && rules.UnmatchedCycles > 0 && traffic.Counts.Count >= rules.UnmatchedCycles)
        {
            var recent = traffic.Counts.TakeLast(rules.UnmatchedCycles).ToList();
            foreach (var evalCase in gold)
            {
                var stratum = StratumOf(project.Policy, evalCase);
                if (recent.All(c => c.GetValueOrDefault(stratum) == 0))
                {
                    Add(evalCase, "unmatched", $"no traffic in stratum '{stratum}' for the last {rules.UnmatchedCycles} cycles");
                }
            }
        }

        if (rules.Neighbourhood && neighbourhood is not null)
        {
            foreach (var evalCase in gold.Where(c => neighbourhood.Unmatched.ContainsKey(c.Id)))
            {
                Add(evalCase, "unmatched_neighbourhood", string.Create(CultureInfo.InvariantCulture,
                    $"no trace of the last {rules.UnmatchedCycles} cycles ({neighbourhood.Traces:N0} traces) within r = {neighbourhood.Radius:0.000} of it (nearest {neighbourhood.Unmatched[evalCase.Id]:0.000}): nobody asks this any more"));
            }
        }

        if (rules.RetireNewlyPassing && before is not null && after is not null)
        {
            var failedBefore = before.Where(r => r.Error is null && !r.Passed).Select(r => r.CaseId).ToHashSet(StringComparer.Ordinal);
            var passedAfter = after.Where(r => r.Passed).Select(r => r.CaseId).ToHashSet(StringComparer.Ordinal);
            foreach (var evalCase in gold.Where(c => failedBefore.Contains(c.Id) && passedAfter.Contains(c.Id)))
            {
                Add(evalCase, "newly_passing", "failed before the upgrade and passes after it: it no longer tells versions apart");
            }
        }

        return candidates;
    }

    /// <summary>
    /// Strata that shadow cases cover and gold does not. A stratum is proposed for gold only when its traffic share
    /// reached the policy's minimum weight in each of the policy's last cycles: a one-cycle spike is not promoted.
    /// </summary>
    public static IReadOnlyList<PromotionProposal> Promotions(EvalProject project, CycleTraffic traffic)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(traffic);
        var rule = project.Policy.Promotion;
        var goldStrata = project.Cases.Where(c => c.Pool == Pool.Gold).Select(c => StratumOf(project.Policy, c)).ToHashSet(StringComparer.Ordinal);
        var cycles = Math.Min(rule.Cycles, traffic.Counts.Count);
        var proposals = new List<PromotionProposal>();
        foreach (var group in project.Cases.Where(c => c.Pool == Pool.Shadow).GroupBy(c => StratumOf(project.Policy, c), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            if (goldStrata.Contains(group.Key))
            {
                continue;
            }

            var shares = Enumerable.Range(traffic.Counts.Count - cycles, cycles).Select(i => traffic.Share(i, group.Key)).ToList();
            var promote = cycles >= rule.Cycles && shares.All(s => s >= rule.MinWeight);
            var reason = promote
                ? string.Create(CultureInfo.InvariantCulture, $"at least {rule.MinWeight:0.##%} of traffic in each of the last {rule.Cycles} cycles ({string.Join(", ", shares.Select(s => s.ToString("0.00%", CultureInfo.InvariantCulture)))})")
                : cycles < rule.Cycles
                    ? $"only {cycles} cycle(s) of traffic stored; the policy asks for {rule.Cycles}"
                    : string.Create(CultureInfo.InvariantCulture, $"below {rule.MinWeight:0.##%} in {shares.Count(s => s < rule.MinWeight)} of the last {rule.Cycles} cycles ({string.Join(", ", shares.Select(s => s.ToString("0.00%", CultureInfo.InvariantCulture)))})");
            proposals.Add(new PromotionProposal(group.Key, shares, [.. group], promote, reason));
        }

        return proposals;
    }
}
