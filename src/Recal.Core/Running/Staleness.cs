using Recal.Statistics;

namespace Recal.Running;

/// <summary>Two runs over the same cases compared case by case.</summary>
/// <param name="FailingJaccard">|F₁ ∩ F₂| / |F₁ ∪ F₂| of the two failing sets (1 when both are empty).</param>
public sealed record RunPair(string First, string Second, int SharedCases, double FirstRate, double SecondRate, McNemarResult Test, double FailingJaccard);

/// <summary>
/// Staleness across runs of different targets on one suite version (docs/running.md#staleness): a set whose pass
/// rate barely moves between targets, where no pair differs significantly and the same cases fail every time, no
/// longer tells systems apart.
/// </summary>
/// <param name="Spread">Highest minus lowest pass rate among the runs.</param>
/// <param name="MeanJaccard">Mean failing-set Jaccard over all pairs.</param>
/// <param name="Stale">At least three runs, a spread under <see cref="StalenessAnalyzer.MaxSpread"/>, no pair with McNemar p below 0.05, and a mean Jaccard of at least <see cref="StalenessAnalyzer.MinJaccard"/>.</param>
public sealed record StalenessReport(string SuiteVersion, IReadOnlyList<RunInfo> Runs, IReadOnlyList<SegmentRate> Rates, IReadOnlyList<RunPair> Pairs, double Spread, double MeanJaccard, bool Stale);

public static class StalenessAnalyzer
{
    /// <summary>Pass rates closer than this (in share) across targets count as flat.</summary>
    public const double MaxSpread = 0.02;

    /// <summary>Failing sets this similar on average count as the same cases failing every time.</summary>
    public const double MinJaccard = 0.8;

    /// <summary>Compares completed runs of one suite version, each with its stored results; errors are left out of every comparison.</summary>
    public static StalenessReport Analyze(string suiteVersion, IReadOnlyList<(RunInfo Run, IReadOnlyList<RunCaseRecord> Results)> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var rates = runs.Select(r => RunReportBuilder.Rate("run", r.Run.Target, [.. r.Results])).ToList();
        var pairs = new List<RunPair>();
        for (var i = 0; i < runs.Count; i++)
        {
            for (var j = i + 1; j < runs.Count; j++)
            {
                var first = runs[i].Results.Where(r => r.Error is null).ToDictionary(r => r.CaseId, r => r.Passed, StringComparer.Ordinal);
                var second = runs[j].Results.Where(r => r.Error is null).ToDictionary(r => r.CaseId, r => r.Passed, StringComparer.Ordinal);
                var shared = first.Keys.Where(second.ContainsKey).ToList();
                var newlyFailing = shared.Count(id => first[id] && !second[id]);
                var newlyPassing = shared.Count(id => !first[id] && second[id]);
                var failing1 = shared.Where(id => !first[id]).ToHashSet(StringComparer.Ordinal);
                var failing2 = shared.Where(id => !second[id]).ToHashSet(StringComparer.Ordinal);
                var union = failing1.Union(failing2).Count();
                pairs.Add(new RunPair(
                    runs[i].Run.Id,
                    runs[j].Run.Id,
                    shared.Count,
                    shared.Count == 0 ? double.NaN : (double)shared.Count(id => first[id]) / shared.Count,
                    shared.Count == 0 ? double.NaN : (double)shared.Count(id => second[id]) / shared.Count,
                    McNemar.Exact(newlyFailing, newlyPassing),
                    union == 0 ? 1 : (double)failing1.Intersect(failing2).Count() / union));
            }
        }

        var finite = rates.Where(r => double.IsFinite(r.PassRate)).Select(r => r.PassRate).ToList();
        var spread = finite.Count == 0 ? double.NaN : finite.Max() - finite.Min();
        var meanJaccard = pairs.Count == 0 ? double.NaN : pairs.Average(p => p.FailingJaccard);
        var stale = runs.Count >= 3 && spread < MaxSpread && pairs.All(p => p.Test.PValue >= 0.05) && meanJaccard >= MinJaccard;
        return new StalenessReport(suiteVersion, [.. runs.Select(r => r.Run)], rates, pairs, spread, meanJaccard, stale);
    }
}
