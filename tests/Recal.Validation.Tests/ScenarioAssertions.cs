using FluentAssertions;
using Xunit;

namespace Recal.Validation.Tests;

/// <summary>What a kept scenario must show: a shift seen soon by the instruments meant to see it; no shift, no alarm.</summary>
internal static class ScenarioAssertions
{
    /// <summary>docs/validation.md reports every expected instrument alarming in the shift week or the next one.</summary>
    public const int MaxDelay = 1;

    public static async Task<ScenarioRun> DetectedAsync(string dataset, string name, int seed, params string[] instruments)
    {
        var run = await ScenarioRunner.RunAsync(ScenarioCatalog.Get(dataset, name), seed, TestContext.Current.CancellationToken);
        var shift = run.Scenario.ShiftWeek!.Value;
        run.LongestFalseAlarmRun.Should().BeLessThanOrEqualTo(1, "a false alarm before the shift stands alone");
        run.Delay.Should().NotBeNull().And.BeLessThanOrEqualTo(MaxDelay, "the shift should raise an alarm in week {0} or the next", shift);
        run.FirstInstruments.Select(Instruments.FamilyOf).Should().IntersectWith(run.Scenario.Expected, "an instrument meant to see this shift should be among the first to fire");
        foreach (var instrument in instruments)
        {
            run.Weeks.Where(w => w.Week >= shift && w.Week <= shift + MaxDelay).Should()
                .Contain(w => w.Instruments.Contains(instrument), "{0} should fire by week {1}", instrument, shift + MaxDelay);
        }

        return run;
    }

    /// <summary>
    /// Unchanged traffic: at most one alarmed week, never two in a row. docs/validation.md reports about one false alarm
    /// in 200 windows, each standing alone (PSI at its noise floor on a 2,000-trace week, or one stratum's coverage).
    /// </summary>
    public static async Task<ScenarioRun> QuietAsync(string dataset, string name, int seed)
    {
        var run = await ScenarioRunner.RunAsync(ScenarioCatalog.Get(dataset, name), seed, TestContext.Current.CancellationToken);
        run.Weeks.Should().HaveCount(Timeline.Weeks);
        run.Weeks.Where(w => w.Alarmed).Select(w => $"week {w.Week}: {string.Join(", ", w.Instruments)}").Should().HaveCountLessThanOrEqualTo(1);
        run.LongestFalseAlarmRun.Should().BeLessThanOrEqualTo(1);
        return run;
    }
}
