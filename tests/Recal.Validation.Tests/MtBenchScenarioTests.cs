using Xunit;

namespace Recal.Validation.Tests;

public sealed class MtBenchScenarioTests
{
    private const string Dataset = MtBenchScenarios.Dataset;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Stationary_categories_raise_no_persistent_alarm(int seed) =>
        await ScenarioAssertions.QuietAsync(Dataset, "none", seed);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_category_arriving_raises_the_missing_share_alarm(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "new_category", seed, "missing_share");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Coding_and_math_growing_raises_the_intent_mix_alarms(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "mix_moving", seed, "js_distance");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_category_moving_to_questions_the_set_lacks_is_seen_by_stratum_coverage(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "within_category", seed, "stratum_coverage_drop");
}
