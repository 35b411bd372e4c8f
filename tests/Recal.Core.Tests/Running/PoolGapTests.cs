using Recal.Domain;
using FluentAssertions;
using Recal.Core.Tests.Drift;
using Recal.Core.Tests.Lifecycle;
using Recal.Running;
using Recal.Statistics;
using Xunit;

namespace Recal.Core.Tests.Running;

public sealed class PoolGapTests
{
    private static RunCaseRecord Result(string id, string pool, string intent, bool passed, string? error = null) =>
        new(id, intent, "plan=free", null, pool, "o", error, passed && error is null, [], null, 1, null, null, null, 1, false, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task Gold_is_compared_with_the_holdout_and_shadow_overall_and_per_stratum()
    {
        // Given gold 9/10, holdout 4/10 (one more holdout case errored), shadow 5/5, over two intents
        var results = new List<RunCaseRecord>();
        for (var i = 0; i < 10; i++)
        {
            results.Add(Result($"g{i}", "gold", i < 5 ? "a" : "b", i != 0));
            results.Add(Result($"h{i}", "holdout", i < 5 ? "a" : "b", i < 4));
        }

        results.Add(Result("h-error", "holdout", "a", false, "timed out"));
        results.AddRange(Enumerable.Range(0, 5).Select(i => Result($"s{i}", "shadow", "c", true)));
        var run = new RunInfo("r", "p", "t", "{}", "abc", PoolSet.Parse("gold,holdout,shadow"), 26, null, DateTimeOffset.UnixEpoch, null, RunStatus.Completed);

        // When the report is built
        var report = await RunReportBuilder.BuildAsync(run, results, SamplerTests.Policy(), new InMemoryStore(), TestContext.Current.CancellationToken);

        // Then gold − holdout is 0.5 with Newcombe's interval and Fisher's p, errors left out
        var holdout = report.PoolGaps.Single(g => g.Other == "holdout");
        holdout.Difference.Should().BeApproximately(0.5, 1e-12);
        (holdout.Lower, holdout.Upper).Should().Be(ProportionDifference.NewcombeInterval(9, 10, 4, 10));
        holdout.PValue.Should().Be(ProportionDifference.FisherExactTwoSided(9, 10, 4, 10));
        holdout.Against.Errors.Should().Be(1);
        holdout.Strata.Select(s => (s.Stratum, s.GoldCases, s.OtherCases)).Should().BeEquivalentTo([("a", 5, 5), ("b", 5, 5)]);
        holdout.Strata.Single(s => s.Stratum == "b").Difference.Should().Be(1.0);

        // And shadow shares no stratum with gold, so it has an overall gap only
        var shadow = report.PoolGaps.Single(g => g.Other == "shadow");
        shadow.Difference.Should().BeApproximately(-0.1, 1e-12);
        shadow.Strata.Should().BeEmpty();
    }

    [Fact]
    public async Task A_run_without_gold_has_no_pool_gap()
    {
        var run = new RunInfo("r", "p", "t", "{}", "abc", PoolSet.Parse("shadow"), 1, null, DateTimeOffset.UnixEpoch, null, RunStatus.Completed);

        var report = await RunReportBuilder.BuildAsync(run, [Result("s", "shadow", "a", true)], SamplerTests.Policy(), new InMemoryStore(), TestContext.Current.CancellationToken);

        report.PoolGaps.Should().BeEmpty();
    }
}
