using Xunit;

namespace Recal.Validation.Tests;

public sealed class MtBenchScenarioTests
{
    private const string Dataset = MtBenchScenarios.Dataset;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
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
    public async Task A_category_outside_the_taxonomy_arriving_unlabelled_is_seen_by_novelty_unknown_share_or_coverage(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "new_category_outside", seed);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [Trait("Category", ScenarioAssertions.CalibratedAlarms)]
    public async Task A_category_outside_the_taxonomy_arriving_unlabelled_raises_the_novelty_alarm(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "new_category_outside", seed, "novelty");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Coding_and_math_growing_raises_the_intent_mix_alarms(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "mix_moving", seed, "js_distance");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_plan_growing_raises_the_cohort_alarm(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "cohort_growing", seed, "cohort_js_distance");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [Trait("Category", ScenarioAssertions.CalibratedAlarms)]
    public async Task A_plan_the_taxonomy_does_not_list_arriving_is_seen_by_a_cohort_alarm(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "cohort_unlisted", seed);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [Trait("Category", ScenarioAssertions.CalibratedAlarms)]
    public async Task A_plan_the_taxonomy_does_not_list_arriving_raises_the_cohort_alarm_naming_it(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "cohort_unlisted", seed, "cohort_js_distance");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_category_moving_to_questions_the_set_lacks_is_seen_by_stratum_coverage(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "within_category", seed, "stratum_coverage_drop");

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_category_phased_in_over_six_weeks_raises_the_missing_share_alarm_within_a_week_of_the_ramp_start(int seed) =>
        await ScenarioAssertions.DetectedAsync(Dataset, "gradual", seed, "missing_share");
}
