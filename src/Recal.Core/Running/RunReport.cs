using Recal.Classification;
using Recal.Domain;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Running;

/// <summary>Pass rate of one segment (or the whole run) with its Wilson interval; errors are counted apart.</summary>
/// <param name="Dimension"><c>overall</c>, <c>intent</c>, <c>difficulty</c>, <c>pool</c> or a cohort dimension.</param>
/// <param name="PassRate">Passed / (passed + failed); NaN when no case in the segment got a verdict.</param>
public sealed record SegmentRate(string Dimension, string Value, int Cases, int Passed, int Failed, int Errors, double PassRate, double Lower, double Upper);

/// <summary>One traffic stratum in the weighted estimate.</summary>
/// <param name="TrafficShare">The stratum's share of the traffic window.</param>
/// <param name="PassRate">Among the stratum's cases with a verdict; null when it has none (unmeasured).</param>
public sealed record WeightedStratum(string Stratum, double TrafficShare, long Traces, int Cases, int Passed, double? PassRate);

/// <summary>The traffic-weighted expected pass rate: per-stratum pass rates re-weighted by the latest window's shares.</summary>
/// <param name="By">What a stratum is: the policy's <c>strata.by</c> keys.</param>
public sealed record TrafficWeightedEstimate(IReadOnlyList<string> By, DateTimeOffset From, DateTimeOffset To, long Traces, PostStratifiedEstimate Estimate, IReadOnlyList<WeightedStratum> Strata);

/// <summary>One stratum's gold pass rate against another pool's.</summary>
public sealed record StratumGap(string Stratum, int GoldCases, double GoldRate, int OtherCases, double OtherRate, double Difference, double PValue);

/// <summary>
/// Gold against another pool of the same run: the difference of pass rates (gold − other) with Newcombe's 95%
/// interval and Fisher's exact p-value, overall and per stratum. Against the sealed holdout it estimates overfitting
/// to gold; against shadow, how far gold has drifted from today's traffic.
/// </summary>
public sealed record PoolGap(string Other, SegmentRate Gold, SegmentRate Against, double Difference, double Lower, double Upper, double PValue, IReadOnlyList<StratumGap> Strata);

/// <summary>One stratum's eval pass rate next to what users did with production's answers in the traffic window.</summary>
/// <param name="ThumbsUpRate">Thumbs up among the traces with a thumb; null below <see cref="RunReportBuilder.MinRated"/> rated traces.</param>
public sealed record OnlineStratum(string Stratum, int Cases, double PassRate, long Traces, long Rated, double? ThumbsUpRate, double? EscalationRate);

/// <summary>
/// Offline against online: across strata, does the eval pass rate rank strata the way users' signals do? Spearman's
/// ρ between pass rate and thumbs-up rate, and between pass rate and the share not escalated.
/// </summary>
/// <param name="Diverges">Enough strata to tell, and ρ with thumbs-up below <see cref="RunReportBuilder.MinAgreement"/>.</param>
public sealed record OnlineAgreement(int Strata, double ThumbsRho, double ThumbsPValue, double EscalationRho, double EscalationPValue, bool Diverges, IReadOnlyList<OnlineStratum> Rows);

/// <summary>What users did with production's answers in a traffic window, per stratum: traces, rated, thumbs up, escalated.</summary>
public sealed record TrafficSignals(DateTimeOffset From, DateTimeOffset To, IReadOnlyDictionary<string, FeedbackCount> Strata);

/// <summary>How one scorer did over the run.</summary>
public sealed record ScorerRate(string Scorer, int Cases, int Passed, int Errors, double MeanScore);

/// <summary>What the run's calls took.</summary>
public sealed record RunCosts(int Calls, int CacheHits, double? LatencyP50Ms, double? LatencyP95Ms, long? InputTokens, long? OutputTokens, double? Cost);

/// <summary>Judge figures over the run.</summary>
public sealed record JudgeSummary(string Rubric, int Cases, int FailedVotes, int CasesWithoutVerdict, int Repairs, int NeedsReview);

/// <summary>One case worth a look: an error, or a failure.</summary>
public sealed record CaseNote(string CaseId, string Intent, string Reason);

/// <summary>Everything <c>recal report RUN</c> shows (docs/running.md); <see cref="FormatVersion"/> versions its JSON.</summary>
public sealed record RunReport(
    int FormatVersion,
    RunInfo Run,
    SegmentRate Overall,
    IReadOnlyList<SegmentRate> Segments,
    TrafficWeightedEstimate? Weighted,
    IReadOnlyList<PoolGap> PoolGaps,
    OnlineAgreement? Online,
    IReadOnlyList<ScorerRate> Scorers,
    JudgeSummary? Judges,
    RunCosts Costs,
    IReadOnlyList<CaseNote> Errors,
    IReadOnlyList<CaseNote> Failures)
{
    public const int CurrentFormatVersion = 1;

    /// <summary>Easy-case accumulation: the difficulty mix and pass rate of cases by provenance and by month added.</summary>
    public IReadOnlyList<DifficultyMix> Accumulation { get; init; } = [];

    /// <summary>The gold set's exposure since the last rotation and the selection bias it allows; null when not measured.</summary>
    public Decisions.ContaminationEstimate? Contamination { get; init; }
}

/// <summary>
/// One segment of cases (a provenance, or a month added): how many, its pass rate, and its difficulty mix among the
/// cases labelled with one; a set whose recent additions are mostly easy and mostly passing is filling with easy cases.
/// </summary>
/// <param name="Labelled">Cases with a verdict and a difficulty label; the shares are among them (null when none).</param>
public sealed record DifficultyMix(string Dimension, string Value, int Cases, double PassRate, int Labelled, double? EasyShare, double? MediumShare, double? HardShare);

/// <summary>Builds a <see cref="RunReport"/> from a stored run and the store's latest traffic.</summary>
public static class RunReportBuilder
{
    /// <summary>At most this many errors and failures are listed.</summary>
    public const int MaxNotes = 20;

    /// <summary>A stratum enters the offline-online comparison with at least this many cases with a verdict.</summary>
    public const int MinCases = 5;

    /// <summary>... and at least this many traces with a thumb (for the thumbs-up rate).</summary>
    public const int MinRated = 20;

    /// <summary>Below this Spearman ρ between pass rate and thumbs-up rate (over at least 5 strata) the eval and the users diverge.</summary>
    public const double MinAgreement = 0.3;

    /// <param name="cases">The project's cases by id, for the segments by provenance and by month added (read from the
    /// case files as they are now; a case no longer there counts as <c>(unknown)</c>). Null leaves those segments out.</param>
    /// <param name="signals">The window's online signals per stratum (<see cref="SignalsAsync"/>), when the caller builds
    /// several reports against the same traffic; null reads them from the store.</param>
    public static async Task<RunReport> BuildAsync(RunInfo run, IReadOnlyList<RunCaseRecord> results, SamplingPolicy policy, IRecalStore store, CancellationToken cancellationToken = default, IReadOnlyDictionary<string, EvalCase>? cases = null, TrafficSignals? signals = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(store);
        var segments = new List<SegmentRate>();
        segments.AddRange(Segment("pool", results, r => r.Pool));
        segments.AddRange(Segment("difficulty", results, r => r.Difficulty ?? "unrated"));
        if (cases is not null)
        {
            // Easy-case accumulation shows here: where the cases came from and when they were added.
            segments.AddRange(Segment("provenance", results, r => cases.TryGetValue(r.CaseId, out var c) ? Project.EnumNames.Name(c.Provenance.Kind) : "(unknown)"));
            segments.AddRange(Segment("added", results, r => cases.TryGetValue(r.CaseId, out var c) ? c.Added.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture) : "(unknown)"));
        }

        var dimensions = results.SelectMany(r => CohortResolver.ParseKey(r.CohortKey).Select(p => p.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var dimension in dimensions)
        {
            segments.AddRange(Segment(dimension, results, r => Cohort(r.CohortKey).GetValueOrDefault(dimension, "(none)")));
        }

        // Intents worst first: the ones to look at lead the table.
        segments.AddRange(Segment("intent", results, r => r.Intent).OrderBy(s => double.IsNaN(s.PassRate) ? 2 : s.PassRate).ThenByDescending(s => s.Cases).ThenBy(s => s.Value, StringComparer.Ordinal));
        var weighted = await WeightAsync(results, policy, store, cancellationToken).ConfigureAwait(false);
        var accumulation = cases is null ? [] : Accumulation(results, cases);
        return new RunReport(
            RunReport.CurrentFormatVersion,
            run,
            Rate("overall", "all", results),
            segments,
            weighted,
            Gaps(results, policy),
            weighted is null ? null : Online(results, policy, signals is { } known && known.From == weighted.From && known.To == weighted.To ? known : await WindowSignalsAsync(policy, store, weighted.From, weighted.To, cancellationToken).ConfigureAwait(false)),
            Scorers(results),
            Judges(results),
            Costs(results),
            [.. results.Where(r => r.Error is not null).Take(MaxNotes).Select(r => new CaseNote(r.CaseId, r.Intent, r.Error!))],
            [.. results.Where(r => r.Error is null && !r.Passed).Take(MaxNotes).Select(r => new CaseNote(r.CaseId, r.Intent, FailureReason(r)))])
        {
            Accumulation = accumulation,
        };
    }

    private static List<DifficultyMix> Accumulation(IReadOnlyList<RunCaseRecord> results, IReadOnlyDictionary<string, EvalCase> cases)
    {
        var judged = results.Where(r => r.Error is null).ToList();
        IEnumerable<DifficultyMix> By(string dimension, Func<EvalCase, string> key) =>
            judged.Where(r => cases.ContainsKey(r.CaseId))
                .GroupBy(r => key(cases[r.CaseId]), StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g =>
                {
                    var labelled = g.Where(r => r.Difficulty is not null).ToList();
                    double? Share(string difficulty) => labelled.Count == 0 ? null : (double)labelled.Count(r => r.Difficulty == difficulty) / labelled.Count;
                    return new DifficultyMix(dimension, g.Key, g.Count(), (double)g.Count(r => r.Passed) / g.Count(), labelled.Count, Share("easy"), Share("medium"), Share("hard"));
                });
        return [.. By("provenance", c => Project.EnumNames.Name(c.Provenance.Kind)), .. By("added", c => c.Added.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture))];
    }

    /// <summary>The pass rate of a set of results with a 95% Wilson interval.</summary>
    public static SegmentRate Rate(string dimension, string value, IReadOnlyCollection<RunCaseRecord> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        var errors = results.Count(r => r.Error is not null);
        var passed = results.Count(r => r.Passed);
        var failed = results.Count - errors - passed;
        var verdicts = passed + failed;
        var (lower, upper) = verdicts == 0 ? (double.NaN, double.NaN) : Proportion.WilsonInterval(passed, verdicts);
        return new SegmentRate(dimension, value, results.Count, passed, failed, errors, verdicts == 0 ? double.NaN : (double)passed / verdicts, lower, upper);
    }

    private static IEnumerable<SegmentRate> Segment(string dimension, IReadOnlyList<RunCaseRecord> results, Func<RunCaseRecord, string> key) =>
        results.GroupBy(key, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Rate(dimension, g.Key, [.. g]));

    private static async Task<TrafficWeightedEstimate?> WeightAsync(IReadOnlyList<RunCaseRecord> results, SamplingPolicy policy, IRecalStore store, CancellationToken cancellationToken)
    {
        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is null)
        {
            return null;
        }

        var to = span.Last.AddMilliseconds(1);
        var from = to - policy.TrafficWindow;
        var traffic = await store.CountTrafficAsync(new TrafficQuery(from, to), cancellationToken).ConfigureAwait(false);
        var by = policy.Strata.By.Count == 0 ? ["intent"] : policy.Strata.By;
        string Stratum(string intent, string cohortKey) => Lifecycle.Sampler.StratumOf(by, intent, cohortKey);

        var traces = traffic.GroupBy(t => Stratum(t.Intent, t.CohortKey), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(t => t.Count), StringComparer.Ordinal);
        var total = traces.Values.Sum();
        if (total == 0)
        {
            return null;
        }

        var judged = results.Where(r => r.Error is null).GroupBy(r => Stratum(r.Intent, r.CohortKey), StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (Cases: g.Count(), Passed: g.Count(r => r.Passed)), StringComparer.Ordinal);
        var strata = traces
            .Select(kv =>
            {
                var (cases, passed) = judged.GetValueOrDefault(kv.Key);
                return new WeightedStratum(kv.Key, (double)kv.Value / total, kv.Value, cases, passed, cases == 0 ? null : (double)passed / cases);
            })
            .OrderByDescending(s => s.Traces)
            .ThenBy(s => s.Stratum, StringComparer.Ordinal)
            .ToList();
        var estimate = PostStratification.Estimate([.. strata.Select(s => new StratumResult(s.Passed, s.Cases, s.TrafficShare))]);
        return new TrafficWeightedEstimate(by, from, to, total, estimate, strata);
    }

    private static List<PoolGap> Gaps(IReadOnlyList<RunCaseRecord> results, SamplingPolicy policy)
    {
        var gold = results.Where(r => r.Pool == "gold").ToList();
        if (gold.Count == 0)
        {
            return [];
        }

        var by = policy.Strata.By.Count == 0 ? ["intent"] : policy.Strata.By;
        string Stratum(RunCaseRecord r) => Lifecycle.Sampler.StratumOf(by, r.Intent, r.CohortKey);
        var gaps = new List<PoolGap>();
        foreach (var other in new[] { "holdout", "shadow" })
        {
            var against = results.Where(r => r.Pool == other).ToList();
            if (against.Count == 0)
            {
                continue;
            }

            var (g, a) = (Rate("pool", "gold", gold), Rate("pool", other, against));
            var (lower, upper) = ProportionDifference.NewcombeInterval(g.Passed, g.Passed + g.Failed, a.Passed, a.Passed + a.Failed);
            var strata = new List<StratumGap>();
            var otherByStratum = against.Where(r => r.Error is null).GroupBy(Stratum, StringComparer.Ordinal).ToDictionary(x => x.Key, x => x.ToList(), StringComparer.Ordinal);
            foreach (var group in gold.Where(r => r.Error is null).GroupBy(Stratum, StringComparer.Ordinal))
            {
                if (!otherByStratum.TryGetValue(group.Key, out var others))
                {
                    continue;
                }

                var (gp, gn, op, on) = (group.Count(r => r.Passed), group.Count(), others.Count(r => r.Passed), others.Count);
                strata.Add(new StratumGap(group.Key, gn, (double)gp / gn, on, (double)op / on, ((double)gp / gn) - ((double)op / on), ProportionDifference.FisherExactTwoSided(gp, gn, op, on)));
            }

            gaps.Add(new PoolGap(other, g, a, g.PassRate - a.PassRate, lower, upper,
                ProportionDifference.FisherExactTwoSided(g.Passed, g.Passed + g.Failed, a.Passed, a.Passed + a.Failed),
                [.. strata.OrderBy(s => s.PValue).ThenByDescending(s => Math.Abs(s.Difference)).ThenBy(s => s.Stratum, StringComparer.Ordinal)]));
        }

        return gaps;
    }

    /// <summary>
    /// The online signals per stratum of the latest traffic window (the policy's <c>traffic_window</c> ending at the
    /// newest stored trace): what every run's offline-online comparison reads. Null when the store holds no traffic.
    /// </summary>
    public static async Task<TrafficSignals?> SignalsAsync(SamplingPolicy policy, IRecalStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is null)
        {
            return null;
        }

        var to = span.Last.AddMilliseconds(1);
        return await WindowSignalsAsync(policy, store, to - policy.TrafficWindow, to, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<TrafficSignals> WindowSignalsAsync(SamplingPolicy policy, IRecalStore store, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var by = policy.Strata.By.Count == 0 ? ["intent"] : policy.Strata.By;
        var signals = new Dictionary<string, FeedbackCount>(StringComparer.Ordinal);
        foreach (var cell in await store.CountFeedbackByCellAsync(from, to, cancellationToken).ConfigureAwait(false))
        {
            var stratum = Lifecycle.Sampler.StratumOf(by, cell.Intent, cell.CohortKey);
            signals[stratum] = signals.GetValueOrDefault(stratum).Plus(cell.Count);
        }

        return new TrafficSignals(from, to, signals);
    }

    private static OnlineAgreement? Online(IReadOnlyList<RunCaseRecord> results, SamplingPolicy policy, TrafficSignals traffic)
    {
        var by = policy.Strata.By.Count == 0 ? ["intent"] : policy.Strata.By;
        var signals = traffic.Strata;
        if (signals.Count == 0)
        {
            return null;
        }

        var rows = new List<OnlineStratum>();
        foreach (var group in results.Where(r => r.Error is null).GroupBy(r => Lifecycle.Sampler.StratumOf(by, r.Intent, r.CohortKey), StringComparer.Ordinal))
        {
            if (group.Count() < MinCases || !signals.TryGetValue(group.Key, out var s) || s.Traces < MinRated)
            {
                continue;
            }

            rows.Add(new OnlineStratum(group.Key, group.Count(), (double)group.Count(r => r.Passed) / group.Count(), s.Traces, s.Rated,
                s.Rated >= MinRated ? (double)s.Up / s.Rated : null, s.EscalationKnown == 0 ? null : (double)s.Escalated / s.EscalationKnown));
        }

        var rated = rows.Where(r => r.ThumbsUpRate is not null).ToList();
        var (thumbsRho, thumbsP) = RankCorrelation.Spearman([.. rated.Select(r => r.PassRate)], [.. rated.Select(r => r.ThumbsUpRate!.Value)]);
        var escalation = rows.Where(r => r.EscalationRate is not null).ToList();
        var (escalationRho, escalationP) = RankCorrelation.Spearman([.. escalation.Select(r => r.PassRate)], [.. escalation.Select(r => 1 - r.EscalationRate!.Value)]);
        var diverges = rated.Count >= 5 && (double.IsNaN(thumbsRho) || thumbsRho < MinAgreement);
        return new OnlineAgreement(rows.Count, thumbsRho, thumbsP, escalationRho, escalationP, diverges, [.. rows.OrderBy(r => r.ThumbsUpRate ?? 2).ThenBy(r => r.Stratum, StringComparer.Ordinal)]);
    }

    private static List<ScorerRate> Scorers(IReadOnlyList<RunCaseRecord> results) =>
        [.. results.SelectMany(r => r.Scores)
            .GroupBy(s => s.Scorer, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ScorerRate(g.Key, g.Count(), g.Count(s => s.Passed), g.Count(s => s.IsError), g.Where(s => !s.IsError).Select(s => s.Score).DefaultIfEmpty(double.NaN).Average()))];

    private static JudgeSummary? Judges(IReadOnlyList<RunCaseRecord> results)
    {
        var judged = results.Where(r => r.Judge is not null).Select(r => r.Judge!).ToList();
        return judged.Count == 0
            ? null
            : new JudgeSummary(
                judged[0].Rubric,
                judged.Count,
                judged.Sum(j => j.Failures),
                judged.Count(j => j.Median is null),
                judged.Sum(j => j.Votes.Count(v => v.Repaired)),
                judged.Count(j => j.NeedsReview));
    }

    private static RunCosts Costs(IReadOnlyList<RunCaseRecord> results)
    {
        var called = results.Where(r => !r.FromCache && r.Attempts > 0).ToList();
        var latencies = called.Where(r => r.LatencyMs is not null).Select(r => r.LatencyMs!.Value).Order().ToList();
        long? Sum(Func<RunCaseRecord, long?> field) => results.Any(r => field(r) is not null) ? results.Sum(r => field(r) ?? 0) : null;
        return new RunCosts(
            called.Count,
            results.Count(r => r.FromCache),
            latencies.Count == 0 ? null : Quantile(latencies, 0.5),
            latencies.Count == 0 ? null : Quantile(latencies, 0.95),
            Sum(r => r.InputTokens),
            Sum(r => r.OutputTokens),
            results.Any(r => r.Cost is not null) ? results.Sum(r => r.Cost ?? 0) : null);
    }

    /// <summary>
    /// Splits the change of a pass rate between two runs into the part due to the case mix over strata and the part
    /// due to the pass rates within strata (Kitagawa's symmetric decomposition, exact: mix + within = change):
    /// mix = Σ (w₂ − w₁)(p₁ + p₂)/2 and within = Σ (w₁ + w₂)/2 · (p₂ − p₁), over strata with verdicts in either run;
    /// a stratum absent from one run contributes its rate from the other.
    /// </summary>
    public static (double Change, double Mix, double Within) Decompose(IReadOnlyList<RunCaseRecord> first, IReadOnlyList<RunCaseRecord> second, Func<RunCaseRecord, string> stratum)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(stratum);
        static Dictionary<string, (double Weight, double Rate)> Shares(IReadOnlyList<RunCaseRecord> results, Func<RunCaseRecord, string> key)
        {
            var judged = results.Where(r => r.Error is null).ToList();
            return judged.GroupBy(key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => ((double)g.Count() / judged.Count, (double)g.Count(r => r.Passed) / g.Count()), StringComparer.Ordinal);
        }

        var (a, b) = (Shares(first, stratum), Shares(second, stratum));
        double mix = 0, within = 0;
        foreach (var key in a.Keys.Union(b.Keys))
        {
            var (w1, p1) = a.TryGetValue(key, out var x) ? x : (0, double.NaN);
            var (w2, p2) = b.TryGetValue(key, out var y) ? y : (0, double.NaN);
            p1 = double.IsNaN(p1) ? p2 : p1;
            p2 = double.IsNaN(p2) ? p1 : p2;
            mix += (w2 - w1) * (p1 + p2) / 2;
            within += (w1 + w2) / 2 * (p2 - p1);
        }

        return (mix + within, mix, within);
    }

    /// <summary>The linear-interpolation quantile (NumPy's default) of sorted values.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var position = q * (sorted.Count - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + ((position - low) * (sorted[high] - sorted[low]));
    }

    private static string FailureReason(RunCaseRecord result) =>
        string.Join("; ", result.Scores.Where(s => !s.Passed).Select(s => s.Reason is null ? s.Scorer : $"{s.Scorer}: {s.Reason}"));

    private static Dictionary<string, string> Cohort(string key) =>
        CohortResolver.ParseKey(key).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
}
