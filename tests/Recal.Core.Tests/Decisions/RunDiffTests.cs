using FluentAssertions;
using Recal.Decisions;
using Recal.Domain;
using Recal.Running;
using Xunit;
using static Recal.Core.Tests.Decisions.DecisionFixture;

namespace Recal.Core.Tests.Decisions;

public sealed class RunDiffTests
{
    [Fact]
    public void Cases_pair_by_id_and_the_diff_says_what_was_left_out()
    {
        // Given runs on different suite versions: one case only in each, one errored in the candidate
        List<RunCaseRecord> before = [Result("c1", true), Result("c2", true), Result("c3", false), Result("c4", true), Result("old", true)];
        List<RunCaseRecord> after = [Result("c1", true), Result("c2", false), Result("c3", true), Result("c4", false, error: "timeout"), Result("new", true)];

        var diff = RunDiffBuilder.Build(Run("b", "base", "suite-a"), before, Run("c", "cand", "suite-b"), after, ProjectWith(GatePolicy.Defaults).Policy);

        // Then three cases pair, the rest is named
        diff.Match.SameSuite.Should().BeFalse();
        diff.Match.Paired.Should().Be(3);
        diff.Match.Errored.Should().Be(1);
        diff.Match.OnlyBaseline.Should().Equal("old");
        diff.Match.OnlyCandidate.Should().Equal("new");

        // And the flips carry both outputs and the evidence
        diff.NewlyFailing.Should().ContainSingle().Which.Should().Match<CaseFlip>(f => f.CaseId == "c2" && f.BaselineOutput == "answer to c2" && f.CandidateEvidence.Contains("no reference matched"));
        diff.NewlyPassing.Should().ContainSingle().Which.CaseId.Should().Be("c3");
        diff.Overall.Should().Match<Recal.Statistics.PairedComparison>(o => o.Cases == 3 && o.BothPassed == 1 && o.NewlyFailing == 1 && o.NewlyPassing == 1 && o.Difference == 0);
    }

    [Fact]
    public void Segments_are_paired_per_pool_cohort_difficulty_and_intent_with_the_largest_fall_first()
    {
        List<RunCaseRecord> before = [.. Many("r", 20, 20), .. Many("b", 20, 20, intent: "billing"), .. Many("s", 10, 5, "shadow")];
        List<RunCaseRecord> after = [.. Many("r", 20, 18), .. Many("b", 20, 10, intent: "billing"), .. Many("s", 10, 5, "shadow")];

        var diff = RunDiffBuilder.Build(Run("b", "base"), before, Run("c", "cand"), after, ProjectWith(GatePolicy.Defaults).Policy);

        diff.Segments.Where(s => s.Dimension == "pool").Select(s => (s.Value, Math.Round(s.Change.Difference, 12))).Should().Equal(("gold", -0.3), ("shadow", 0.0));
        diff.Segments.Where(s => s.Dimension == "intent").Select(s => s.Value).First().Should().Be("billing");
        diff.Segments.Should().Contain(s => s.Dimension == "plan" && s.Value == "free" && s.Change.Cases == 50);
        diff.Segments.Should().Contain(s => s.Dimension == "difficulty" && s.Value == "easy");
        var billing = diff.Segments.Single(s => s.Dimension == "intent" && s.Value == "billing").Change;
        billing.Upper.Should().BeLessThan(0);
        billing.PValue.Should().BeApproximately(2 * Math.Pow(0.5, 10), 1e-12);
    }

    [Fact]
    public void Judge_dimensions_are_compared_on_the_cases_both_runs_have_them_for()
    {
        List<RunCaseRecord> before = [.. Enumerable.Range(0, 8).Select(i => Result($"j{i}", true, judge: new Dictionary<string, double> { ["helpfulness"] = 4, ["accuracy"] = 3 + (i % 2) }))];
        List<RunCaseRecord> after = [.. Enumerable.Range(0, 8).Select(i => Result($"j{i}", true, judge: new Dictionary<string, double> { ["helpfulness"] = 3, ["accuracy"] = 3 + (i % 2) }))];

        var diff = RunDiffBuilder.Build(Run("b", "base"), before, Run("c", "cand"), after, ProjectWith(GatePolicy.Defaults).Policy);

        diff.JudgeDimensions.Select(d => (d.Dimension, d.Change.Pairs, d.Change.Difference)).Should().Equal(("accuracy", 8, 0.0), ("helpfulness", 8, -1.0));
    }
}
