using FluentAssertions;
using Xunit;

namespace Recal.Validation.Tests;

public sealed class ClincScenarioTests : IntentScenarioTests
{
    protected override string Dataset => ClincScenarios.Dataset;

    protected override int GoldSize => ClincScenarios.GoldSize;

    [Fact]
    public async Task Out_of_scope_growing_raises_the_unknown_share_alarm()
    {
        var run = await ScenarioAssertions.DetectedAsync(Dataset, "oos_growing", 1, "unknown_share");

        run.Weeks.Single(w => w.Week == Timeline.ShiftWeek).UnknownShare.Should().BeGreaterThan(run.Weeks.Single(w => w.Week == Timeline.ShiftWeek - 1).UnknownShare);
    }
}
