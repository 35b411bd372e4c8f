using Recal.Domain;
using FluentAssertions;
using Recal.Running;
using Xunit;

namespace Recal.Core.Tests.Running;

public sealed class StalenessTests
{
    private static (RunInfo, IReadOnlyList<RunCaseRecord>) Run(string target, Func<int, bool> passes, int cases = 200) =>
        (new RunInfo($"r-{target}", "p", target, "{}", "v1", PoolSet.Parse("gold"), cases, null, DateTimeOffset.UnixEpoch, null, RunStatus.Completed),
         [.. Enumerable.Range(0, cases).Select(i => new RunCaseRecord($"c{i:000}", "a", "", null, "gold", "o", null, passes(i), [], null, 1, null, null, null, 1, false, DateTimeOffset.UnixEpoch))]);

    [Fact]
    public void Targets_that_pass_and_fail_the_same_cases_make_the_set_stale()
    {
        // Given three targets at 80% that fail the same 40 cases (one of them also one more)
        var runs = new[] { Run("a", i => i >= 40), Run("b", i => i >= 40), Run("c", i => i >= 41) };

        var report = StalenessAnalyzer.Analyze("v1", runs);

        report.Stale.Should().BeTrue();
        report.Spread.Should().BeApproximately(0.005, 1e-12);
        report.Pairs.Should().HaveCount(3);
        report.Pairs.Single(p => p.First == "r-a" && p.Second == "r-c").FailingJaccard.Should().BeApproximately(40.0 / 41, 1e-12);
    }

    [Fact]
    public void A_target_that_differs_significantly_keeps_the_set_alive()
    {
        var runs = new[] { Run("a", i => i >= 40), Run("b", i => i >= 40), Run("c", i => i >= 10) };

        var report = StalenessAnalyzer.Analyze("v1", runs);

        report.Stale.Should().BeFalse();
        report.Pairs.Single(p => p.Second == "r-c" && p.First == "r-a").Test.Should().BeEquivalentTo(new { NewlyFailing = 0L, NewlyPassing = 30L });
        report.Pairs.Single(p => p.Second == "r-c" && p.First == "r-a").Test.PValue.Should().BeLessThan(1e-6);
    }

    [Fact]
    public void The_same_failure_rate_on_different_cases_is_not_staleness()
    {
        var runs = new[] { Run("a", i => i >= 40), Run("b", i => i < 160), Run("c", i => i % 5 != 0) };

        var report = StalenessAnalyzer.Analyze("v1", runs);

        report.Spread.Should().Be(0);
        report.MeanJaccard.Should().BeLessThan(0.3);
        report.Stale.Should().BeFalse();
    }
}
