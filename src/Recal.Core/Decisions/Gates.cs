using System.Globalization;
using MathNet.Numerics.Distributions;
using Recal.Domain;
using Recal.Drift;
using Recal.Lifecycle;
using Recal.Running;
using Recal.Scoring;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Decisions;

/// <summary>How one gate, or one segment of one, came out.</summary>
public enum GateStatus
{
    Pass,
    Fail,

    /// <summary>The evidence cannot tell: too few cases, no traffic, an interval across the margin.</summary>
    Unknown,

    /// <summary>The gate does not apply to these runs (a holdout still sealed, a suite without assertions).</summary>
    Skipped,
}

/// <summary>One gold segment under the regression gate.</summary>
public sealed record GateSegment(string Dimension, string Value, GateStatus Status, PairedComparison Change, string Why);

/// <summary>One online signal of the candidate release against the baseline release, both standardised to one stratum mix.</summary>
/// <param name="Difference">Candidate − baseline (for escalation, a rise is the bad direction).</param>
public sealed record OnlineSignalEvidence(
    string Signal,
    double Baseline,
    double Candidate,
    double Difference,
    double Lower,
    double Upper,
    long BaselineTraces,
    long CandidateTraces,
    GateStatus Status,
    string Why);

/// <summary>One gate's verdict with its evidence and the rule it applied.</summary>
/// <param name="Rule">The rule in words, with the policy's numbers.</param>
/// <param name="Evidence">The figures the verdict rests on, in a line.</param>
/// <param name="Why">How the rule turned the evidence into the verdict (<c>--explain</c>).</param>
public sealed record GateResult(string Gate, GateStatus Status, string Rule, string Evidence, string Why)
{
    public IReadOnlyList<GateSegment> Segments { get; init; } = [];

    public IReadOnlyList<OnlineSignalEvidence> Signals { get; init; } = [];

    /// <summary>Cases named as evidence: failing assertions, newly failing cases.</summary>
    public IReadOnlyList<string> Cases { get; init; } = [];
}

/// <summary>What <c>recal gate</c> decided (docs/gates.md); <see cref="FormatVersion"/> versions its JSON.</summary>
/// <param name="Decision">Fail when any gate fails; otherwise Unknown when any gate is unknown; otherwise Pass.</param>
/// <param name="Passed">The exit code's answer: no gate failed, and no gate is unknown unless <c>gates.unknown: pass</c>.</param>
public sealed record GateReport(int FormatVersion, RunInfo Baseline, RunInfo Candidate, int PolicyVersion, GatePolicy Policy, IReadOnlyList<GateResult> Gates, GateStatus Decision, bool Passed)
{
    public const int CurrentFormatVersion = 1;
}

/// <summary>Applies the policy's upgrade gates to a baseline and a candidate run.</summary>
public static class GateEvaluator
{
    public const string Assertions = "assertions";
    public const string GoldSegments = "gold segments";
    public const string Holdout = "holdout";
    public const string Shadow = "shadow";
    public const string Online = "online";

    /// <param name="now">For the holdout's seal: a holdout sealed until later has no gate yet.</param>
    public static async Task<GateReport> EvaluateAsync(
        EvalProject project,
        RunInfo baseline,
        IReadOnlyList<RunCaseRecord> baselineResults,
        RunInfo candidate,
        IReadOnlyList<RunCaseRecord> candidateResults,
        IRecalStore store,
        DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        var policy = project.Policy.Gates;
        var (pairs, _) = RunDiffBuilder.Pair(baseline, baselineResults, candidate, candidateResults);
        var cases = project.Cases.ToDictionary(c => c.Id, StringComparer.Ordinal);
        var gates = new List<GateResult>
        {
            AssertionGate(candidateResults, policy),
            GoldGate(pairs, cases, policy),
        };
        if (policy.Holdout)
        {
            gates.Add(HoldoutGate(pairs, policy, project.Seal, now, project.Cases.Any(c => c.Pool == Pool.Holdout)));
        }

        if (policy.Shadow)
        {
            gates.Add(ShadowGate(pairs, policy, project.Cases.Any(c => c.Pool == Pool.Shadow)));
        }

        if (policy.Online)
        {
            gates.Add(await OnlineGateAsync(project, baseline, candidate, store, cancellationToken).ConfigureAwait(false));
        }

        var decision = gates.Any(g => g.Status == GateStatus.Fail) ? GateStatus.Fail : gates.Any(g => g.Status == GateStatus.Unknown) ? GateStatus.Unknown : GateStatus.Pass;
        var passed = decision == GateStatus.Pass || (decision == GateStatus.Unknown && policy.Unknown == UnknownVerdict.Pass);
        return new GateReport(GateReport.CurrentFormatVersion, baseline, candidate, project.Policy.Version, policy, gates, decision, passed);
    }

    /// <summary>
    /// The non-inferiority rule every margin gate uses. <paramref name="change"/> is the candidate's gain (negative is
    /// a loss) with its interval: fail when the loss exceeds the margin and the interval lies wholly below zero (beyond
    /// noise); pass when the interval's lower end rules out a loss beyond the margin, or no case got worse; otherwise unknown.
    /// </summary>
    public static (GateStatus Status, string Why) NonInferior(double change, double lower, double upper, double margin, bool noneWorse = false)
    {
        if (!double.IsFinite(change))
        {
            return (GateStatus.Unknown, "no evidence");
        }

        var interval = $"{Points(change)} ({Points(lower)} to {Points(upper)})";
        if (change < -margin && upper < 0)
        {
            return (GateStatus.Fail, $"{interval}: a loss beyond the margin of {Points(-margin)}, and the whole interval is below zero");
        }

        if (lower >= -margin)
        {
            return (GateStatus.Pass, $"{interval}: the interval rules out a loss beyond {Points(-margin)}");
        }

        if (noneWorse)
        {
            return (GateStatus.Pass, $"{interval}: no case got worse");
        }

        return (GateStatus.Unknown, upper < 0
            ? $"{interval}: a loss beyond noise, smaller than the margin, and one beyond {Points(-margin)} is not ruled out"
            : $"{interval}: the interval reaches below {Points(-margin)} and above zero, too wide to tell");
    }

    private static GateResult AssertionGate(IReadOnlyList<RunCaseRecord> candidate, GatePolicy policy)
    {
        var rule = $"layer-1 assertions: at least {Percent(policy.Assertions)} of the candidate's assertion results pass";
        var checkedCases = candidate.Where(r => r.Scores.Any(IsAssertion)).ToList();
        if (checkedCases.Count == 0)
        {
            return new GateResult(Assertions, GateStatus.Skipped, rule, "no case of the candidate run has an assertion", "nothing to check");
        }

        var results = checkedCases.SelectMany(r => r.Scores.Where(IsAssertion).Select(s => (Case: r, Score: s))).ToList();
        var failing = results.Where(x => !x.Score.Passed).ToList();
        var rate = (double)(results.Count - failing.Count) / results.Count;
        var errored = candidate.Count(r => r.Error is not null);
        var evidence = $"{results.Count - failing.Count} of {results.Count} assertion result(s) passed ({Percent(rate)}) over {checkedCases.Count} case(s)" + (errored > 0 ? $"; {errored} case(s) errored and were not checked" : string.Empty);
        var status = rate + 1e-12 >= policy.Assertions ? GateStatus.Pass : GateStatus.Fail;
        return new GateResult(Assertions, status, rule, evidence, status == GateStatus.Pass ? $"{Percent(rate)} ≥ {Percent(policy.Assertions)}" : $"{Percent(rate)} < {Percent(policy.Assertions)}: {failing.Count} failing")
        {
            Cases = [.. failing.Take(RunDiffBuilder.MaxListed).Select(x => $"{x.Case.CaseId}: {x.Score.Scorer}{(x.Score.Reason is null ? string.Empty : ": " + x.Score.Reason)}")],
        };
    }

    private static GateResult GoldGate(IReadOnlyList<(RunCaseRecord Baseline, RunCaseRecord Candidate)> pairs, IReadOnlyDictionary<string, EvalCase> cases, GatePolicy policy)
    {
        var rule = $"gold: no segment loses more than {Size(policy.MaxRegression)} beyond noise ({Percent(policy.Confidence)} paired interval wholly below zero); a segment passes when its interval rules out such a loss or no case got worse, and one under {policy.MinCases} cases with a newly failing case is unknown";
        var gold = pairs.Where(p => p.Candidate.Pool == "gold").ToList();
        if (gold.Count == 0)
        {
            return new GateResult(GoldSegments, GateStatus.Unknown, rule, "no gold case has a verdict in both runs", "run both targets on gold (recal run --pool gold)");
        }

        var by = policy.SegmentsBy ?? ["difficulty", "provenance", .. gold.SelectMany(p => Classification.CohortResolver.ParseKey(p.Candidate.CohortKey).Select(kv => kv.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal), "intent"];
        var segments = new List<GateSegment> { Segment("overall", "gold", gold, policy) };
        foreach (var dimension in by)
        {
            Func<RunCaseRecord, string> key = dimension switch
            {
                "difficulty" => r => r.Difficulty ?? "unrated",
                "provenance" => r => cases.TryGetValue(r.CaseId, out var c) ? Project.EnumNames.Name(c.Provenance.Kind) : "(unknown)",
                "intent" => r => r.Intent,
                _ => r => RunDiffBuilder.CohortValue(r.CohortKey, dimension),
            };
            segments.AddRange(gold.GroupBy(p => key(p.Candidate), StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Segment(dimension, g.Key, [.. g], policy)));
        }

        var failed = segments.Where(s => s.Status == GateStatus.Fail).ToList();
        var unknown = segments.Where(s => s.Status == GateStatus.Unknown).ToList();
        var status = failed.Count > 0 ? GateStatus.Fail : unknown.Count > 0 ? GateStatus.Unknown : GateStatus.Pass;
        var overall = segments[0].Change;
        var evidence = $"gold {Percent(overall.BaselineRate)} → {Percent(overall.CandidateRate)}, {Points(overall.Difference)} ({Points(overall.Lower)} to {Points(overall.Upper)}, McNemar p {PValue(overall.PValue)}) on {overall.Cases} paired case(s); {segments.Count} segment(s): {failed.Count} failed, {unknown.Count} unknown";
        var why = status switch
        {
            GateStatus.Fail => "failed: " + string.Join("; ", failed.Take(5).Select(s => $"{s.Dimension} {s.Value} {s.Why}")),
            GateStatus.Unknown => "unknown: " + string.Join("; ", unknown.Take(5).Select(s => $"{s.Dimension} {s.Value} {s.Why}")) + (unknown.Count > 5 ? $"; {unknown.Count - 5} more" : string.Empty),
            _ => "every segment rules out a loss beyond the margin or has no case that got worse",
        };
        return new GateResult(GoldSegments, status, rule, evidence, why) { Segments = segments };
    }

    private static GateSegment Segment(string dimension, string value, IReadOnlyCollection<(RunCaseRecord Baseline, RunCaseRecord Candidate)> pairs, GatePolicy policy)
    {
        var change = RunDiffBuilder.Compare(pairs, policy.Confidence);
        if (change.Cases < policy.MinCases && change.NewlyFailing > 0)
        {
            return new GateSegment(dimension, value, GateStatus.Unknown, change, $"{Points(change.Difference)} on {change.Cases} case(s), {change.NewlyFailing} newly failing: too few cases to tell (at least {policy.MinCases})");
        }

        var (status, why) = NonInferior(change.Difference, change.Lower, change.Upper, policy.MaxRegression, change.NewlyFailing == 0);
        return new GateSegment(dimension, value, status, change, why);
    }

    private static GateResult HoldoutGate(IReadOnlyList<(RunCaseRecord Baseline, RunCaseRecord Candidate)> pairs, GatePolicy policy, SealRecord? seal, DateTimeOffset now, bool projectHasHoldout)
    {
        var rule = $"sealed holdout: the candidate is neutral or better — not worse beyond noise ({Percent(policy.Confidence)} paired interval wholly below zero), and its gain on gold carries to the holdout (gold gain − holdout gain not significantly above zero, one-sided at {PValue((1 - policy.Confidence) / 2)})";
        var holdout = pairs.Where(p => p.Candidate.Pool == "holdout").ToList();
        if (holdout.Count == 0)
        {
            return seal is { } s && s.SealedUntil > now
                ? new GateResult(Holdout, GateStatus.Skipped, rule, $"the holdout is sealed until {s.SealedUntil.UtcDateTime:yyyy-MM-dd}", "the rotation window does not allow opening it yet; the gate applies to runs made with --pool holdout once it may be opened")
                : seal is null && !projectHasHoldout
                    ? new GateResult(Holdout, GateStatus.Skipped, rule, "the project has no holdout", "draw one with recal sample --pool holdout and seal it (recal holdout seal), or set gates.holdout: false")
                    : new GateResult(Holdout, GateStatus.Unknown, rule, "no holdout case has a verdict in both runs", "run both targets with --pool holdout (recal run --pool gold holdout)");
        }

        var change = RunDiffBuilder.Compare(holdout, policy.Confidence);
        var evidence = $"holdout {Percent(change.BaselineRate)} → {Percent(change.CandidateRate)}, {Points(change.Difference)} ({Points(change.Lower)} to {Points(change.Upper)}, McNemar p {PValue(change.PValue)}) on {change.Cases} paired case(s)";
        if (change.Upper < 0)
        {
            return new GateResult(Holdout, GateStatus.Fail, rule, evidence, "worse on the holdout beyond noise: the whole interval is below zero");
        }

        var gold = RunDiffBuilder.Compare([.. pairs.Where(p => p.Candidate.Pool == "gold")], policy.Confidence);
        if (gold.Cases > 0 && gold.Difference > 0)
        {
            var z = Normal.InvCDF(0, 1, 1 - ((1 - policy.Confidence) / 2));
            var se = Math.Sqrt(Math.Pow((gold.Upper - gold.Lower) / (2 * z), 2) + Math.Pow((change.Upper - change.Lower) / (2 * z), 2));
            var gap = gold.Difference - change.Difference;
            var p = se == 0 ? (gap > 0 ? 0 : 1) : 1 - Normal.CDF(0, 1, gap / se);
            evidence += $"; gold {Points(gold.Difference)} on {gold.Cases} case(s), so the gold gain exceeds the holdout's by {Points(gap)} (one-sided p {PValue(p)})";
            if (p < (1 - policy.Confidence) / 2)
            {
                return new GateResult(Holdout, GateStatus.Fail, rule, evidence, "the gain on gold does not carry to the holdout drawn from the same traffic: the candidate is tuned to gold");
            }
        }

        if (change.Cases < policy.MinCases)
        {
            return new GateResult(Holdout, GateStatus.Unknown, rule, evidence, $"too few holdout cases to tell (at least {policy.MinCases})");
        }

        return new GateResult(Holdout, GateStatus.Pass, rule, evidence, "not worse beyond noise, and the gold gain carries");
    }

    private static GateResult ShadowGate(IReadOnlyList<(RunCaseRecord Baseline, RunCaseRecord Candidate)> pairs, GatePolicy policy, bool projectHasShadow)
    {
        var rule = $"shadow pool (drawn from recent traffic): the candidate is not worse beyond noise ({Percent(policy.Confidence)} paired interval wholly below zero)";
        var shadow = pairs.Where(p => p.Candidate.Pool == "shadow").ToList();
        if (shadow.Count == 0)
        {
            return projectHasShadow
                ? new GateResult(Shadow, GateStatus.Unknown, rule, "no shadow case has a verdict in both runs", "run both targets with --pool shadow")
                : new GateResult(Shadow, GateStatus.Skipped, rule, "the project has no shadow pool", "draw one from recent traffic with recal sample --pool shadow, or set gates.shadow: false");
        }

        var change = RunDiffBuilder.Compare(shadow, policy.Confidence);
        var evidence = $"shadow {Percent(change.BaselineRate)} → {Percent(change.CandidateRate)}, {Points(change.Difference)} ({Points(change.Lower)} to {Points(change.Upper)}, McNemar p {PValue(change.PValue)}) on {change.Cases} paired case(s), {change.NewlyFailing} newly failing";
        return change.Upper < 0
            ? new GateResult(Shadow, GateStatus.Fail, rule, evidence, "worse on today's traffic beyond noise: the whole interval is below zero")
            : change.Cases < policy.MinCases
                ? new GateResult(Shadow, GateStatus.Unknown, rule, evidence, $"too few shadow cases to tell (at least {policy.MinCases})")
                : new GateResult(Shadow, GateStatus.Pass, rule, evidence, "not worse beyond noise");
    }

    private static async Task<GateResult> OnlineGateAsync(EvalProject project, RunInfo baseline, RunInfo candidate, IRecalStore store, CancellationToken cancellationToken)
    {
        var policy = project.Policy.Gates;
        var tolerance = policy.EffectiveOnlineTolerance;
        var mode = policy.OnlineMode == OnlineGateMode.Canary ? "canary" : "shadow A/B";
        var rule = $"online ({mode}): the candidate release's thumbs-up, escalation, continuation and completion rates (those its traces record), standardised to the latest traffic window's mix, within {Size(tolerance)} of the baseline release's by the non-inferiority rule ({Percent(policy.Confidence)} interval)";
        var releases = project.Settings.Targets.ToDictionary(t => t.Name, t => t.Release, StringComparer.Ordinal);
        var before = releases.GetValueOrDefault(baseline.Target);
        var after = releases.GetValueOrDefault(candidate.Target);
        if (string.IsNullOrEmpty(before) && string.IsNullOrEmpty(after))
        {
            return new GateResult(Online, GateStatus.Skipped, rule, "neither target names a release", "set release: on both targets in recal.yaml to the traces' model values they answered as, or set gates.online: false");
        }

        if (string.IsNullOrEmpty(before) || string.IsNullOrEmpty(after))
        {
            var missing = string.IsNullOrEmpty(before) ? baseline.Target : candidate.Target;
            return new GateResult(Online, GateStatus.Unknown, rule, $"target {missing} names no release", $"set release: on target {missing} in recal.yaml to the traces' model value it answered as");
        }

        if (before == after)
        {
            return new GateResult(Online, GateStatus.Unknown, rule, $"both targets name release {before}", "the online gate compares two releases' traffic");
        }

        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is null)
        {
            return new GateResult(Online, GateStatus.Unknown, rule, "no traffic in the store", "recal ingest FILE");
        }

        var by = project.Policy.Strata.By.Count == 0 ? ["intent"] : project.Policy.Strata.By;
        var cells = new Dictionary<string, Dictionary<string, FeedbackCount>>(StringComparer.Ordinal) { [before] = new(StringComparer.Ordinal), [after] = new(StringComparer.Ordinal) };
        foreach (var cell in await store.CountFeedbackByModelAsync([before, after], cancellationToken).ConfigureAwait(false))
        {
            var stratum = Sampler.StratumOf(by, cell.Intent, cell.CohortKey);
            var counts = cells[cell.Model];
            counts[stratum] = counts.GetValueOrDefault(stratum).Plus(cell.Count);
        }

        foreach (var release in new[] { before, after })
        {
            if (cells[release].Count == 0)
            {
                return new GateResult(Online, GateStatus.Unknown, rule, $"no stored trace was answered by release {release}", $"ingest traffic whose model field is {release}");
            }
        }

        var to = span.Last.AddMilliseconds(1);
        var mix = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var count in await store.CountTrafficAsync(new TrafficQuery(to - project.Policy.TrafficWindow, to), cancellationToken).ConfigureAwait(false))
        {
            var stratum = Sampler.StratumOf(by, count.Intent, count.CohortKey);
            mix[stratum] = mix.GetValueOrDefault(stratum) + count.Count;
        }

        // Each signal the traces carry; one no trace of either release records (escalation, continuation, completion) is
        // left out, and each rate counts only the traces that carry its signal.
        var signals = new List<OnlineSignalEvidence>
        {
            Signal("thumbs up", before, after, cells, mix, c => c.Rated, c => c.Up, higherIsBetter: true, tolerance, policy.Confidence),
        };
        foreach (var (name, known, positive, higherIsBetter) in new (string, Func<FeedbackCount, long>, Func<FeedbackCount, long>, bool)[]
        {
            ("escalation", c => c.EscalationKnown, c => c.Escalated, false),
            ("continuation", c => c.ContinuedKnown, c => c.Continued, true),
            ("completion", c => c.CompletedKnown, c => c.Completed, true),
        })
        {
            if (cells.Values.Any(release => release.Values.Any(c => known(c) > 0)))
            {
                signals.Add(Signal(name, before, after, cells, mix, known, positive, higherIsBetter, tolerance, policy.Confidence));
            }
        }

        var status = signals.Any(s => s.Status == GateStatus.Fail) ? GateStatus.Fail : signals.Any(s => s.Status == GateStatus.Unknown) ? GateStatus.Unknown : GateStatus.Pass;
        var evidence = $"release {after} against {before}: " + string.Join("; ", signals.Select(s => s.Signal + " " + (double.IsFinite(s.Candidate) ? $"{Percent(s.Candidate)} vs {Percent(s.Baseline)}, {Points(s.Difference)} ({Points(s.Lower)} to {Points(s.Upper)}) on {s.CandidateTraces:N0} and {s.BaselineTraces:N0} traces with the signal" : "n/a")));
        var why = string.Join("; ", signals.Select(s => $"{s.Signal}: {s.Status.ToString().ToLowerInvariant()}, {s.Why}"));
        return new GateResult(Online, status, rule, evidence, why) { Signals = signals };
    }

    private static OnlineSignalEvidence Signal(
        string name,
        string before,
        string after,
        Dictionary<string, Dictionary<string, FeedbackCount>> cells,
        Dictionary<string, long> mix,
        Func<FeedbackCount, long> denominator,
        Func<FeedbackCount, long> numerator,
        bool higherIsBetter,
        double tolerance,
        double confidence)
    {
        // The strata both releases have enough traces in, weighted by the latest window's mix, as the release instrument does.
        var common = mix.Keys.Where(s => cells[before].TryGetValue(s, out var b) && denominator(b) >= GapTimeline.MinReleaseRated && cells[after].TryGetValue(s, out var a) && denominator(a) >= GapTimeline.MinReleaseRated).Order(StringComparer.Ordinal).ToList();
        if (common.Count == 0)
        {
            return new OnlineSignalEvidence(name, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, cells[before].Values.Sum(denominator), cells[after].Values.Sum(denominator), GateStatus.Unknown,
                $"no stratum of the latest window has {GapTimeline.MinReleaseRated} traces with the signal from both releases");
        }

        PostStratifiedEstimate Standardised(string release) =>
            PostStratification.Estimate([.. common.Select(s => new StratumResult(numerator(cells[release][s]), denominator(cells[release][s]), mix[s]))], confidence);
        var (b0, a0) = (Standardised(before), Standardised(after));
        var z = Normal.InvCDF(0, 1, 1 - ((1 - confidence) / 2));
        var difference = a0.Estimate - b0.Estimate;
        var half = z * Math.Sqrt((a0.StandardError * a0.StandardError) + (b0.StandardError * b0.StandardError));
        var (lower, upper) = (difference - half, difference + half);

        // The rule reads a gain: for escalation a fall is the gain.
        var (status, why) = higherIsBetter ? NonInferior(difference, lower, upper, tolerance) : NonInferior(-difference, -upper, -lower, tolerance);
        return new OnlineSignalEvidence(name, b0.Estimate, a0.Estimate, difference, lower, upper, common.Sum(s => denominator(cells[before][s])), common.Sum(s => denominator(cells[after][s])), status,
            why + string.Create(CultureInfo.InvariantCulture, $" over {common.Count} strata") + (higherIsBetter ? string.Empty : " (read as the fall in escalation)"));
    }

    private static bool IsAssertion(ScoreResult score) => AssertionScorer.Types.Contains(score.Scorer);

    private static string Percent(double value) => double.IsFinite(value) ? value.ToString("0.0%", CultureInfo.InvariantCulture) : "n/a";

    private static string Points(double value) => double.IsFinite(value) ? (value * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " pp" : "n/a";

    private static string Size(double value) => (value * 100).ToString("0.0", CultureInfo.InvariantCulture) + " pp";

    private static string PValue(double p) => p >= 0.001 ? p.ToString("0.###", CultureInfo.InvariantCulture) : p.ToString("0.#e0", CultureInfo.InvariantCulture);
}
