using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Recal.Scoring;

namespace Recal.Core.Tests.Decisions;

/// <summary>Crafted run results for the diff and the gates.</summary>
internal static class DecisionFixture
{
    public static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    public static RunInfo Run(string id, string target, string suite = "suite-a") =>
        new(id, "test", target, "{}", suite, PoolSet.Parse("gold,shadow,holdout"), 0, null, Now.AddHours(-1), Now, RunStatus.Completed);

    /// <summary>A case result; <paramref name="assertionPassed"/> adds a layer-1 assertion result.</summary>
    public static RunCaseRecord Result(string id, bool passed, string intent = "refund", string pool = "gold", string cohort = "plan=free", string? difficulty = "easy", bool? assertionPassed = null, string? error = null, IReadOnlyDictionary<string, double>? judge = null)
    {
        var scores = new List<ScoreResult> { passed ? ScoreResult.Pass(ReferenceScorer.Name) : ScoreResult.Fail(ReferenceScorer.Name, "no reference matched") };
        if (assertionPassed is { } a)
        {
            scores.Add(a ? ScoreResult.Pass("contains") : ScoreResult.Fail("contains", "missing 'refund'"));
        }

        var outcome = judge is null ? null : new JudgeOutcome("support@v1", judge, passed, 0, false, [], []);
        return new RunCaseRecord(id, intent, cohort, difficulty, pool, error is null ? $"answer to {id}" : null, error, passed && error is null, error is null ? scores : [], outcome, 10, null, null, null, 1, false, Now);
    }

    /// <summary><paramref name="count"/> results of one pool and intent, the first <paramref name="passing"/> passing.</summary>
    public static IEnumerable<RunCaseRecord> Many(string prefix, int count, int passing, string pool = "gold", string intent = "refund") =>
        Enumerable.Range(0, count).Select(i => Result($"{prefix}-{i:000}", i < passing, intent, pool));

    /// <summary>A gold case added on <paramref name="added"/>.</summary>
    public static EvalCase GoldCase(string id, DateOnly added) =>
        new(id, TraceInput.FromText("x"), [new Reference("y", ReferenceGrade.High)], [], "refund", new Dictionary<string, string> { ["plan"] = "free" }, null, new Provenance(ProvenanceKind.Manual), added, null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));

    public static EvalProject ProjectWith(GatePolicy gates, Recal.Lifecycle.SealRecord? seal = null, IReadOnlyList<EvalCase>? cases = null)
    {
        var taxonomy = new Taxonomy(1, [new IntentDefinition("refund", null, [], [], null), new IntentDefinition("billing", null, [], [], null)], [new CohortDimension("plan", "plan", ["free", "pro"], "unknown")], new ClassifierSettings());
        var policy = new SamplingPolicy(3, null, 100, TimeSpan.FromDays(28), new StrataPolicy(["intent"], DefaultWeighting.Traffic, new Dictionary<string, double>(), 0),
            new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>>(), 0.95, 1), 0.2, TimeSpan.FromDays(7), TimeSpan.FromDays(90),
            new PromotionRule(0.01, 3), new RetirementRule(4, true, true), AlarmThresholds.Defaults)
        {
            Gates = gates,
        };
        return new EvalProject("/tmp", new ProjectSettings(1, "test", "/tmp/x.db", "t", "p", []), taxonomy, policy, cases ?? []) { Seal = seal };
    }
}
