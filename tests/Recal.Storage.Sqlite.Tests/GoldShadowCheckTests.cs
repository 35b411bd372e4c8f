using FluentAssertions;
using Recal.Domain;
using Recal.Drift;
using Recal.Running;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

public sealed class GoldShadowCheckTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static SamplingPolicy Policy() =>
        new(1, null, 100, TimeSpan.FromDays(28), new StrataPolicy(["intent"], DefaultWeighting.Traffic, new Dictionary<string, double>(), 0),
            new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>>(), 0.95, 3), 0.2, TimeSpan.FromDays(7), TimeSpan.FromDays(84),
            new PromotionRule(0.01, 2), new RetirementRule(4, true, true), new AlarmThresholds(0.25, 0.3, 0.001, 0.03, 0.1));

    private static async Task StoreRun(SqliteStore store, string id, int goldPassed, int shadowPassed, string pools = "gold,shadow")
    {
        await store.CreateRunAsync(new RunInfo(id, "p", "bot", "{}", "v", PoolSet.Parse(pools), 200, null, DateTimeOffset.UtcNow, null, RunStatus.Running), TestContext.Current.CancellationToken);
        var results = Enumerable.Range(0, 100).Select(i => Record($"g{i}", "gold", i < goldPassed ? "balance" : "balance", i < goldPassed))
            .Concat(Enumerable.Range(0, 100).Select(i => Record($"s{i}", "shadow", i < 50 ? "balance" : "book_hotel", i < shadowPassed)));
        await store.AddRunCasesAsync(id, [.. results], TestContext.Current.CancellationToken);
        await store.FinishRunAsync(id, RunStatus.Completed, DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);
    }

    private static RunCaseRecord Record(string id, string pool, string intent, bool passed) =>
        new(id, intent, "", null, pool, "o", null, passed, [], null, 1, null, null, null, 1, false, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task Gold_far_above_shadow_raises_the_refresh_alarm_naming_the_intents_furthest_behind()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await StoreRun(store, "r1", goldPassed: 98, shadowPassed: 50);

        var alarm = await GoldShadowCheck.EvaluateAsync(store, Policy(), TestContext.Current.CancellationToken);

        alarm.Should().NotBeNull();
        alarm!.Instrument.Should().Be("gold_shadow_gap");
        alarm.Value.Should().BeApproximately(0.48, 1e-12);
        alarm.Message.Should().Contain("gold needs a refresh").And.Contain("book_hotel (no gold case)");
    }

    [Fact]
    public async Task A_small_or_insignificant_gap_raises_nothing()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await StoreRun(store, "r1", goldPassed: 85, shadowPassed: 80);

        (await GoldShadowCheck.EvaluateAsync(store, Policy(), TestContext.Current.CancellationToken)).Should().BeNull();
    }

    [Fact]
    public async Task Runs_without_both_pools_are_not_evidence()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await StoreRun(store, "r1", goldPassed: 100, shadowPassed: 0, pools: "gold");

        (await GoldShadowCheck.EvaluateAsync(store, Policy(), TestContext.Current.CancellationToken)).Should().BeNull();
    }

    [Fact]
    public async Task An_older_run_with_both_pools_is_found_behind_many_newer_runs_without_them()
    {
        // Given a gold and shadow run, then 60 newer runs: gold-only ones and one still running with both pools
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var started = DateTimeOffset.UtcNow.AddDays(-1);
        await StoreRun(store, "old", goldPassed: 98, shadowPassed: 50);
        for (var i = 0; i < 60; i++)
        {
            await store.CreateRunAsync(new RunInfo($"new-{i:00}", "p", "bot", "{}", "v", PoolSet.Of(i == 59 ? [Pool.Gold, Pool.Shadow] : [Pool.Gold]), 1, null, started.AddDays(2).AddMinutes(i), null, i == 59 ? RunStatus.Running : RunStatus.Completed), TestContext.Current.CancellationToken);
        }

        // When the check looks for the newest finished run of both pools
        var alarm = await GoldShadowCheck.EvaluateAsync(store, Policy(), TestContext.Current.CancellationToken);

        // Then it is the old one, not dropped for the newer 60
        alarm.Should().NotBeNull();
        alarm!.Value.Should().BeApproximately(0.48, 1e-12);
        (await store.QueryRunsAsync(new RunQuery(Pools: PoolSet.Of([Pool.Shadow]), Statuses: RunQuery.Finished), TestContext.Current.CancellationToken)).Select(r => r.Id).Should().Equal("old");
    }

    [Fact]
    public void Gold_at_90_percent_of_500_against_shadow_at_84_percent_of_300_is_one_verdict_for_drift_and_check()
    {
        // Given the case drift and check once disagreed on: a significant gap (p < 0.05) smaller than gold_shadow_gap
        var p = Statistics.ProportionDifference.FisherExactTwoSided(450, 500, 252, 300);
        p.Should().BeLessThan(0.05);

        // Then the one rule both read says gold is not stale: 6 points are within the policy's 10
        GoldShadowCheck.IsStale(0.06, p, Policy().Alarms).Should().BeFalse();
        GoldShadowCheck.IsStale(0.12, 1e-5, Policy().Alarms).Should().BeTrue();
    }
}
