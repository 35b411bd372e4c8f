using FluentAssertions;
using Recal.Core.Tests.Drift;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Running;
using Xunit;

namespace Recal.Core.Tests.Lifecycle;

public sealed class LifecycleRulesTests
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static EvalCase Case(string id, string intent, Pool pool, DateOnly? validUntil = null) =>
        new(id, TraceInput.FromText("q " + id), [new Reference("a", ReferenceGrade.High)], [], intent, new Dictionary<string, string> { ["plan"] = "free" }, null,
            new Provenance(ProvenanceKind.Sampled), new DateOnly(2026, 6, 1), validUntil, pool, [], new SourceLocation("cases.jsonl", 1));

    private static EvalProject Project(params EvalCase[] cases)
    {
        var taxonomy = new Taxonomy(1, [], [], new ClassifierSettings());
        return new EvalProject("/tmp", new ProjectSettings(1, "t", "/tmp/x.db", "t", "p", []), taxonomy, SamplerTests.Policy(), cases);
    }

    /// <summary>Four weekly cycles: a steady 'steady' stratum, a 'spike' seen only in the last week, 'gone' only in the first.</summary>
    private static InMemoryStore Traffic()
    {
        var store = new InMemoryStore();
        for (var week = 0; week < 4; week++)
        {
            store.Add(Monday.AddDays(7 * week), "common", 900, "plan=free");
            store.Add(Monday.AddDays(7 * week).AddHours(1), "steady", 50, "plan=free");
        }

        store.Add(Monday.AddDays(21).AddHours(2), "spike", 200, "plan=free");
        store.Add(Monday.AddHours(3), "gone", 30, "plan=free");
        return store;
    }

    [Fact]
    public async Task A_stratum_is_promoted_only_after_holding_the_minimum_share_for_the_policys_cycles()
    {
        var project = Project(Case("g", "common", Pool.Gold), Case("s1", "steady", Pool.Shadow), Case("s2", "spike", Pool.Shadow));
        var traffic = await LifecycleRules.CountCyclesAsync(Traffic(), project.Policy, 2, TestContext.Current.CancellationToken);

        var proposals = LifecycleRules.Promotions(project, traffic!);

        proposals.Should().HaveCount(2);
        proposals.Single(p => p.Stratum == "steady").Promote.Should().BeTrue("5% of traffic in both of the last two weeks");
        var spike = proposals.Single(p => p.Stratum == "spike");
        spike.Promote.Should().BeFalse("a one-week spike is not promoted");
        spike.Shares[0].Should().Be(0);
        spike.Reason.Should().Contain("below 1% in 1 of the last 2 cycles");
    }

    [Fact]
    public async Task Gold_cases_are_retirement_candidates_when_expired_unmatched_or_newly_passing()
    {
        var project = Project(
            Case("fresh", "common", Pool.Gold),
            Case("old", "common", Pool.Gold, new DateOnly(2026, 1, 1)),
            Case("gone", "gone", Pool.Gold),
            Case("solved", "steady", Pool.Gold),
            Case("shadow", "gone", Pool.Shadow));
        var traffic = await LifecycleRules.CountCyclesAsync(Traffic(), project.Policy, 2, TestContext.Current.CancellationToken);
        RunCaseRecord Result(string id, bool passed) => new(id, "x", "", null, "gold", "o", null, passed, [], null, 1, null, null, null, 1, false, Monday);

        var candidates = LifecycleRules.Retirements(project with { Policy = project.Policy with { Retirement = new RetirementRule(2, true, true) } },
            new DateOnly(2026, 11, 29), traffic, [Result("solved", false), Result("fresh", true)], [Result("solved", true), Result("fresh", true)]);

        candidates.Select(c => (c.Case.Id, c.Rule)).Should().BeEquivalentTo([("old", "expired"), ("gone", "unmatched"), ("solved", "newly_passing")]);
        candidates.Single(c => c.Rule == "unmatched").Reason.Should().Contain("last 2 cycles");
    }

    [Fact]
    public async Task Rules_the_policy_turns_off_propose_nothing()
    {
        var project = Project(Case("old", "common", Pool.Gold, new DateOnly(2026, 1, 1)), Case("gone", "gone", Pool.Gold));
        var traffic = await LifecycleRules.CountCyclesAsync(Traffic(), project.Policy, 2, TestContext.Current.CancellationToken);

        var candidates = LifecycleRules.Retirements(project with { Policy = project.Policy with { Retirement = new RetirementRule(0, false, false) } }, new DateOnly(2026, 11, 29), traffic);

        candidates.Should().BeEmpty();
    }
}
