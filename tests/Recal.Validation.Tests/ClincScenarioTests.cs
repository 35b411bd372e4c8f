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
    public async Task Stationary_traffic_raises_no_alarm_in_any_week(int seed)
    {
        var run = await ScenarioAssertions.SilentAsync(Dataset, "none", seed);

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
}
