using FluentAssertions;
using Recal.Core.Tests.Drift;
using Recal.Domain;
using Recal.Lifecycle;
using Xunit;

namespace Recal.Core.Tests.Lifecycle;

public sealed class NeighbourhoodTests
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_gold_case_no_recent_trace_comes_near_is_retired_though_its_intent_still_has_traffic()
    {
        // Given five gold cases (radius 0.6 as calibrated) and traffic near a and b, and intent c's traffic far from c's case
        var project = CoverageAnalyzerTests.Project([("a", "1,0,0"), ("a", "0.8,0.6,0"), ("b", "0,1,0"), ("b", "0,0.8,0.6"), ("c", "0,0,1")]);
        var store = new InMemoryStore();
        Add(store, "a", "1,0,0", 10);
        Add(store, "b", "0,1,0", 10);
        Add(store, "c", "0,-1,0", 10);
        var cycles = await LifecycleRules.CountCyclesAsync(store, project.Policy, 4, TestContext.Current.CancellationToken);

        // When each case's nearest trace is measured
        var neighbourhood = await NeighbourhoodResult.MeasureAsync(project, store, cycles!, new CoverageAnalyzerTests.CoordinateEmbedder(), TestContext.Current.CancellationToken);

        // Then only c's case stays below the radius (its nearest trace is orthogonal to it)
        neighbourhood!.Radius.Should().BeApproximately(0.6, 1e-6);
        neighbourhood.Traces.Should().Be(30);
        neighbourhood.Unmatched.Keys.Should().Equal("case-4");
        neighbourhood.Unmatched["case-4"].Should().BeApproximately(0, 1e-6);

        // And the rule proposes it, with why; its stratum has traffic, so the stratum rule does not
        var today = new DateOnly(2026, 6, 2);
        var candidates = LifecycleRules.Retirements(project, today, cycles, neighbourhood: neighbourhood);
        candidates.Select(c => (c.Case.Id, c.Rule)).Should().Equal(("case-4", "unmatched_neighbourhood"));
        candidates[0].Reason.Should().Contain("within r = 0.600").And.Contain("30 traces");

        // And a policy that turns the rule off proposes nothing
        var off = project with { Policy = project.Policy with { Retirement = project.Policy.Retirement with { Neighbourhood = false } } };
        LifecycleRules.Retirements(off, today, cycles, neighbourhood: neighbourhood).Should().BeEmpty();
    }

    private static void Add(InMemoryStore store, string intent, string vector, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var key = $"{intent}-{i}";
            store.Add(new ClassifiedTrace(
                new Trace(key, Monday.AddMinutes(i), TraceInput.FromText(vector), null, null, new Dictionary<string, string>(), Feedback.None, null),
                "id:" + key, intent, IntentSource.Classifier, 0.9, "plan=pro"));
        }
    }
}
