using Xunit;

namespace Recal.Validation.Tests;

public sealed class Hwu64ScenarioTests : IntentScenarioTests
{
    protected override string Dataset => Hwu64Scenarios.Dataset;

    protected override int GoldSize => Hwu64Scenarios.GoldSize;

    [Fact]
    public async Task Out_of_scope_queries_from_another_dataset_growing_are_seen_by_unknown_share_novelty_or_coverage() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "oos_growing", 1);

    [Fact]
    [Trait("Category", ScenarioAssertions.CalibratedAlarms)]
    public async Task Out_of_scope_queries_from_another_dataset_growing_raise_the_novelty_alarm() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "oos_growing", 1, "novelty");
}
