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
        run.Unshifted.Where(w => w.Alarmed).Should().BeEmpty("no alarm may fire before the shift");
        run.Delay.Should().NotBeNull().And.BeLessThanOrEqualTo(MaxDelay, "the shift should raise an alarm in week {0} or the next", shift);
        run.FirstInstruments.Select(Instruments.FamilyOf).Should().IntersectWith(run.Scenario.Expected, "an instrument meant to see this shift should be among the first to fire");
        foreach (var instrument in instruments)
        {
            run.Weeks.Where(w => w.Week >= shift && w.Week <= shift + MaxDelay).Should()
                .Contain(w => w.Instruments.Contains(instrument), "{0} should fire by week {1}", instrument, shift + MaxDelay);
        }

        return run;
    }

    public static async Task<ScenarioRun> SilentAsync(string dataset, string name, int seed)
    {
        var run = await ScenarioRunner.RunAsync(ScenarioCatalog.Get(dataset, name), seed, TestContext.Current.CancellationToken);
        run.Weeks.Should().HaveCount(Timeline.Weeks);
        run.Weeks.Where(w => w.Alarmed).Select(w => $"week {w.Week}: {string.Join(", ", w.Instruments)}").Should().BeEmpty();
        return run;
    }
}
