using System.Globalization;
using Recal.Classification;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Running;
using Recal.Statistics;

namespace Recal.Decisions;

/// <summary>
/// Which cases two runs share. Cases are matched by id; a case that errored in either run has no verdict to pair
/// and is left out of every comparison.
/// </summary>
/// <param name="SameSuite">Both runs scored the same suite version (cases, taxonomy, policy and rubric).</param>
/// <param name="Paired">Cases with a verdict in both runs: what every figure of the diff rests on.</param>
/// <param name="Errored">Cases in both runs left out because either run has no verdict for them.</param>
/// <param name="OnlyBaseline">Case ids only the baseline ran (the first <see cref="RunDiffBuilder.MaxListed"/>).</param>
public sealed record CaseMatch(
    bool SameSuite,
    string BaselineSuite,
    string CandidateSuite,
    int Paired,
    int Errored,
    int OnlyBaselineCount,
    int OnlyCandidateCount,
    IReadOnlyList<string> OnlyBaseline,
    IReadOnlyList<string> OnlyCandidate);

/// <summary>One segment's paired change: candidate − baseline over the cases both runs judged.</summary>
/// <param name="Dimension"><c>overall</c>, <c>pool</c>, <c>intent</c>, <c>difficulty</c>, <c>provenance</c> or a cohort dimension.</param>
public sealed record SegmentDelta(string Dimension, string Value, PairedComparison Change);

/// <summary>One case whose verdict changed, with what each run answered and why it was judged so.</summary>
public sealed record CaseFlip(
    string CaseId,
    string Intent,
    string Pool,
    string CohortKey,
    string? Difficulty,
    string? BaselineOutput,
    string? CandidateOutput,
    string BaselineEvidence,
    string CandidateEvidence);

/// <summary>A judge dimension's paired change in the ensemble's median score, over the cases both runs have it for.</summary>
public sealed record DimensionDelta(string Rubric, string Dimension, PairedMeanDifference Change);

/// <summary>
/// A stratum where the eval passes and production's users are unhappy: the candidate's pass rate there is at least its
/// overall rate while the stratum's thumbs-up rate in the traffic window is significantly below the rest of traffic.
/// </summary>
/// <param name="PValue">One-sided Fisher p of the stratum's thumbs-up rate below the rest of the window's.</param>
/// <param name="Alpha">The level it is judged at: 0.05 shared by Bonferroni over the strata tested.</param>
public sealed record BlindStratum(string Stratum, int Cases, double CandidatePassRate, long Traces, long Rated, double ThumbsUpRate, double RestThumbsUpRate, double? EscalationRate, double PValue, double Alpha);

/// <summary>
/// Everything <c>recal diff BASELINE CANDIDATE</c> shows (docs/running.md#diff): the paired change overall and per
/// segment, the cases that flipped, judge dimensions, and where the bench is blind; <see cref="FormatVersion"/> versions its JSON.
/// </summary>
public sealed record RunDiff(
    int FormatVersion,
    RunInfo Baseline,
    RunInfo Candidate,
    CaseMatch Match,
    PairedComparison Overall,
    IReadOnlyList<SegmentDelta> Segments,
    IReadOnlyList<CaseFlip> NewlyFailing,
    IReadOnlyList<CaseFlip> NewlyPassing,
    IReadOnlyList<DimensionDelta> JudgeDimensions,
    DateTimeOffset? SignalsFrom,
    DateTimeOffset? SignalsTo,
    IReadOnlyList<BlindStratum> BlindStrata)
{
    public const int CurrentFormatVersion = 1;
}

/// <summary>Builds a <see cref="RunDiff"/> from two stored runs.</summary>
public static class RunDiffBuilder
{
    /// <summary>At most this many case ids are listed where a diff names cases outside the pairing.</summary>
    public const int MaxListed = 20;

    /// <summary>Blind strata are judged at this family-wise level, shared by Bonferroni.</summary>
    public const double BlindAlpha = 0.05;

    /// <param name="cases">The project's cases by id, for the segments by provenance; null leaves them out.</param>
    /// <param name="signals">The traffic window's online signals per stratum (<see cref="RunReportBuilder.SignalsAsync"/>); null leaves out blind strata.</param>
    public static RunDiff Build(
        RunInfo baseline,
        IReadOnlyList<RunCaseRecord> baselineResults,
        RunInfo candidate,
        IReadOnlyList<RunCaseRecord> candidateResults,
        SamplingPolicy policy,
        IReadOnlyDictionary<string, EvalCase>? cases = null,
        TrafficSignals? signals = null,
        double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(baselineResults);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(candidateResults);
        ArgumentNullException.ThrowIfNull(policy);
        var (pairs, match) = Pair(baseline, baselineResults, candidate, candidateResults);
        var segments = new List<SegmentDelta>();
        segments.AddRange(Segments("pool", pairs, p => p.Candidate.Pool, confidence));
        segments.AddRange(Segments("difficulty", pairs, p => p.Candidate.Difficulty ?? "unrated", confidence));
        if (cases is not null)
        {
            segments.AddRange(Segments("provenance", pairs, p => cases.TryGetValue(p.Candidate.CaseId, out var c) ? Project.EnumNames.Name(c.Provenance.Kind) : "(unknown)", confidence));
        }

        var dimensions = pairs.SelectMany(p => CohortResolver.ParseKey(p.Candidate.CohortKey).Select(kv => kv.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var dimension in dimensions)
        {
            segments.AddRange(Segments(dimension, pairs, p => CohortValue(p.Candidate.CohortKey, dimension), confidence));
        }

        // Intents with the largest fall first: what to look at leads.
        segments.AddRange(Segments("intent", pairs, p => p.Candidate.Intent, confidence).OrderBy(s => s.Change.Difference).ThenByDescending(s => s.Change.Cases).ThenBy(s => s.Value, StringComparer.Ordinal));
        return new RunDiff(
            RunDiff.CurrentFormatVersion,
            baseline,
            candidate,
            match,
            Compare(pairs, confidence),
            segments,
            [.. pairs.Where(p => p.Baseline.Passed && !p.Candidate.Passed).OrderBy(p => p.Candidate.CaseId, StringComparer.Ordinal).Select(Flip)],
            [.. pairs.Where(p => !p.Baseline.Passed && p.Candidate.Passed).OrderBy(p => p.Candidate.CaseId, StringComparer.Ordinal).Select(Flip)],
            JudgeDimensions(pairs, confidence),
            signals?.From,
            signals?.To,
            signals is null ? [] : Blind(candidateResults, policy, signals));
    }

    /// <summary>The paired comparison of a set of pairs.</summary>
    public static PairedComparison Compare(IReadOnlyCollection<(RunCaseRecord Baseline, RunCaseRecord Candidate)> pairs, double confidence = 0.95)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        int both = 0, up = 0, down = 0, neither = 0;
        foreach (var (b, c) in pairs)
        {
            (both, up, down, neither) = (b.Passed, c.Passed) switch
            {
                (true, true) => (both + 1, up, down, neither),
                (false, true) => (both, up + 1, down, neither),
                (true, false) => (both, up, down + 1, neither),
                _ => (both, up, down, neither + 1),
            };
        }

        return PairedProportion.Compare(both, up, down, neither, confidence);
    }

    /// <summary>Matches two runs' results by case id; cases errored in either run are left out.</summary>
    public static (List<(RunCaseRecord Baseline, RunCaseRecord Candidate)> Pairs, CaseMatch Match) Pair(RunInfo baseline, IReadOnlyList<RunCaseRecord> baselineResults, RunInfo candidate, IReadOnlyList<RunCaseRecord> candidateResults)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(baselineResults);
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(candidateResults);
        var before = new Dictionary<string, RunCaseRecord>(StringComparer.Ordinal);
        foreach (var result in baselineResults)
        {
            before[result.CaseId] = result;
        }

        var after = new HashSet<string>(StringComparer.Ordinal);
        var pairs = new List<(RunCaseRecord, RunCaseRecord)>();
        var onlyCandidate = new List<string>();
        var errored = 0;
        foreach (var result in candidateResults)
        {
            after.Add(result.CaseId);
            if (!before.TryGetValue(result.CaseId, out var earlier))
            {
                onlyCandidate.Add(result.CaseId);
            }
            else if (earlier.Error is not null || result.Error is not null)
            {
                errored++;
            }
            else
            {
                pairs.Add((earlier, result));
            }
        }

        var onlyBaseline = before.Keys.Where(id => !after.Contains(id)).Order(StringComparer.Ordinal).ToList();
        onlyCandidate.Sort(StringComparer.Ordinal);
        return (pairs, new CaseMatch(
            baseline.SuiteVersion == candidate.SuiteVersion,
            baseline.SuiteVersion,
            candidate.SuiteVersion,
            pairs.Count,
            errored,
            onlyBaseline.Count,
            onlyCandidate.Count,
            [.. onlyBaseline.Take(MaxListed)],
            [.. onlyCandidate.Take(MaxListed)]));
    }

    /// <summary>A case's cohort value on one dimension, <c>(none)</c> when it has none.</summary>
    public static string CohortValue(string cohortKey, string dimension) =>
        CohortResolver.ParseKey(cohortKey).FirstOrDefault(kv => kv.Key == dimension).Value ?? "(none)";

    /// <summary>Why one result was judged as it was, in a line: its error, the scorers that failed, the judges' medians.</summary>
    public static string Evidence(RunCaseRecord result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (result.Error is not null)
        {
            return "error: " + result.Error;
        }

        var parts = new List<string>();
        var failed = result.Scores.Where(s => !s.Passed).ToList();
        parts.Add(failed.Count == 0
            ? result.Scores.Count == 0 ? "no scorer" : $"{result.Scores.Count} scorer(s) passed"
            : string.Join("; ", failed.Select(s => s.Reason is null ? $"{s.Scorer} failed" : $"{s.Scorer}: {s.Reason}")));
        if (result.Judge is { } judge)
        {
            var medians = judge.Median is null ? "no verdict" : string.Join(", ", judge.Median.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:0.#}")));
            parts.Add($"judges ({judge.Rubric}) {(judge.Passed ? "pass" : "fail")}: {medians}" + (judge.Failures > 0 ? $", {judge.Failures} vote(s) failed" : string.Empty));
        }

        return string.Join(" · ", parts);
    }

    private static IEnumerable<SegmentDelta> Segments(string dimension, IEnumerable<(RunCaseRecord Baseline, RunCaseRecord Candidate)> pairs, Func<(RunCaseRecord Baseline, RunCaseRecord Candidate), string> key, double confidence) =>
        pairs.GroupBy(key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new SegmentDelta(dimension, g.Key, Compare([.. g], confidence)));

    private static CaseFlip Flip((RunCaseRecord Baseline, RunCaseRecord Candidate) pair) =>
        new(pair.Candidate.CaseId, pair.Candidate.Intent, pair.Candidate.Pool, pair.Candidate.CohortKey, pair.Candidate.Difficulty, pair.Baseline.Output, pair.Candidate.Output, Evidence(pair.Baseline), Evidence(pair.Candidate));

    private static List<DimensionDelta> JudgeDimensions(IReadOnlyList<(RunCaseRecord Baseline, RunCaseRecord Candidate)> pairs, double confidence)
    {
        var scores = new SortedDictionary<(string Rubric, string Dimension), (List<double> Before, List<double> After)>();
        foreach (var (b, c) in pairs)
        {
            if (b.Judge?.Median is not { } before || c.Judge?.Median is not { } after || b.Judge.Rubric != c.Judge.Rubric)
            {
                continue;
            }

            foreach (var (dimension, value) in after)
            {
                if (before.TryGetValue(dimension, out var earlier))
                {
                    var key = (c.Judge.Rubric, dimension);
                    if (!scores.TryGetValue(key, out var lists))
                    {
                        scores[key] = lists = ([], []);
                    }

                    lists.Before.Add(earlier);
                    lists.After.Add(value);
                }
            }
        }

        return [.. scores.Select(kv => new DimensionDelta(kv.Key.Rubric, kv.Key.Dimension, PairedMean.Compare(kv.Value.Before, kv.Value.After, confidence)))];
    }

    private static List<BlindStratum> Blind(IReadOnlyList<RunCaseRecord> candidate, SamplingPolicy policy, TrafficSignals signals)
    {
        var by = policy.Strata.By.Count == 0 ? ["intent"] : policy.Strata.By;
        var judged = candidate.Where(r => r.Error is null).ToList();
        if (judged.Count == 0)
        {
            return [];
        }

        var overall = (double)judged.Count(r => r.Passed) / judged.Count;
        long totalRated = signals.Strata.Values.Sum(s => s.Rated), totalUp = signals.Strata.Values.Sum(s => s.Up);
        var tested = judged
            .GroupBy(r => Sampler.StratumOf(by, r.Intent, r.CohortKey), StringComparer.Ordinal)
            .Select(g => (Stratum: g.Key, Cases: g.Count(), Rate: (double)g.Count(r => r.Passed) / g.Count()))
            .Where(s => s.Cases >= RunReportBuilder.MinCases && s.Rate >= overall && signals.Strata.TryGetValue(s.Stratum, out var online) && online.Rated >= RunReportBuilder.MinRated && online.Rated < totalRated)
            .ToList();
        var alpha = BlindAlpha / Math.Max(1, tested.Count);
        var blind = new List<BlindStratum>();
        foreach (var (stratum, cases, rate) in tested)
        {
            var online = signals.Strata[stratum];
            var (restRated, restUp) = (totalRated - online.Rated, totalUp - online.Up);
            var p = ProportionDifference.FisherExactGreater(restUp, restRated, online.Up, online.Rated);
            if (p < alpha)
            {
                blind.Add(new BlindStratum(stratum, cases, rate, online.Traces, online.Rated, (double)online.Up / online.Rated, (double)restUp / restRated, online.EscalationKnown == 0 ? null : (double)online.Escalated / online.EscalationKnown, p, alpha));
            }
        }

        return [.. blind.OrderBy(b => b.PValue).ThenBy(b => b.Stratum, StringComparer.Ordinal)];
    }
}
