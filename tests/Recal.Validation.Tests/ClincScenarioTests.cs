using FluentAssertions;
using Xunit;

namespace Recal.Validation.Tests;

public sealed class ClincScenarioTests
{
    private const string Dataset = ClincScenarios.Dataset;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Stationary_traffic_raises_no_persistent_alarm(int seed)
    {
        var run = await ScenarioAssertions.QuietAsync(Dataset, "none", seed);

        run.GoldCases.Should().BeGreaterThanOrEqualTo(ClincScenarios.GoldSize);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_domain_the_set_lacks_arriving_raises_the_missing_share_alarm(int seed)
    {
        var run = await ScenarioAssertions.DetectedAsync(Dataset, "new_intents", seed, "missing_share");

        run.Weeks.Single(w => w.Week == Timeline.ShiftWeek).MissingShare.Should().BeGreaterThan(0.08);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_few_intents_growing_raises_the_intent_mix_alarms(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "mix_moving", seed, "js_distance", "psi");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Out_of_scope_growing_raises_the_unknown_share_alarm(int seed)
    {
        var run = await ScenarioAssertions.DetectedAsync(Dataset, "oos_growing", seed, "unknown_share");

        run.Weeks.Single(w => w.Week == Timeline.ShiftWeek).UnknownShare.Should().BeGreaterThan(run.Weeks.Single(w => w.Week == Timeline.ShiftWeek - 1).UnknownShare);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_shift_inside_a_few_intents_that_keep_their_share_is_seen_by_stratum_coverage(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "within_intent", seed, "stratum_coverage_drop");
}
