using FluentAssertions;
using Xunit;

namespace Recal.Validation.Tests;

/// <summary>The scenarios CLINC150 and HWU64 share (<see cref="IntentScenarios"/>): unlabelled traffic, classified at ingestion.</summary>
public abstract class IntentScenarioTests
{
    protected abstract string Dataset { get; }

    protected abstract int GoldSize { get; }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task Stationary_traffic_raises_no_persistent_alarm(int seed)
    {
        var run = await ScenarioAssertions.QuietAsync(Dataset, "none", seed);

        // Drawn out-of-scope queries have no taxonomy intent to be labelled with where the taxonomy lacks one (HWU64).
        run.GoldCases.Should().BeGreaterThanOrEqualTo((int)((1 - IntentScenarios.OutOfScopeShare - 0.03) * GoldSize));
    }

    [Fact]
    public async Task Intents_the_taxonomy_knows_arriving_raise_the_missing_share_alarm()
    {
        var run = await ScenarioAssertions.DetectedAsync(Dataset, "new_intents", 1, "missing_share");

        run.Weeks.Single(w => w.Week == Timeline.ShiftWeek).MissingShare.Should().BeGreaterThan(0.08);
    }

    [Fact]
    public async Task Intents_outside_the_taxonomy_arriving_are_seen_by_novelty_unknown_share_or_coverage() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "new_intents_outside", 1);

    [Fact]
    [Trait("Category", ScenarioAssertions.CalibratedAlarms)]
    public async Task Intents_outside_the_taxonomy_arriving_raise_the_novelty_alarm() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "new_intents_outside", 1, "novelty");

    [Fact]
    public async Task A_few_intents_growing_raises_the_intent_mix_alarms() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "mix_moving", 1, "js_distance", "psi");

    [Fact]
    public async Task A_plan_growing_raises_the_cohort_alarm() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "cohort_growing", 1, "cohort_js_distance");

    [Fact]
    public async Task A_plan_the_taxonomy_does_not_list_arriving_is_seen_by_a_cohort_alarm() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "cohort_unlisted", 1);

    [Fact]
    [Trait("Category", ScenarioAssertions.CalibratedAlarms)]
    public async Task A_plan_the_taxonomy_does_not_list_arriving_raises_the_cohort_alarm_naming_it() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "cohort_unlisted", 1, "cohort_js_distance");

    [Fact]
    public async Task A_shift_inside_a_few_intents_that_keep_their_share_is_seen_by_stratum_coverage() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "within_intent", 1, "stratum_coverage_drop");

    [Fact]
    public async Task Intents_phased_in_over_six_weeks_raise_the_missing_share_alarm_within_a_week_of_the_ramp_start() =>
        await ScenarioAssertions.DetectedAsync(Dataset, "gradual", 1, "missing_share");
}
