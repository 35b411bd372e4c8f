using System.Collections.Concurrent;
using FluentAssertions;
using Xunit;

namespace Recal.Validation.Tests;

/// <summary>What a kept scenario must show: a shift seen soon by the instruments meant to see it; no shift, no alarm.</summary>
internal static class ScenarioAssertions
{
    /// <summary>
    /// Tests that wait for the reference-relative alarms and the instruments that come with them (novelty,
    /// the cohort alarm naming an unlisted value): with the absolute alarms they replaced they failed (docs/validation.md).
    /// </summary>
    public const string CalibratedAlarms = "CalibratedAlarms";

    /// <summary>A shift counts as seen when an alarm fires in its week or the next one (a gradual drift: from the week its ramp starts).</summary>
    public const int MaxDelay = 1;

    /// <summary>Tests that look at the same scenario and seed share one run.</summary>
    private static readonly ConcurrentDictionary<string, Lazy<Task<ScenarioRun>>> Runs = new(StringComparer.Ordinal);

    public static Task<ScenarioRun> RunAsync(string dataset, string name, int seed) =>
        Runs.GetOrAdd($"{dataset}/{name}#{seed}", _ => new Lazy<Task<ScenarioRun>>(() => ScenarioRunner.RunAsync(ScenarioCatalog.Get(dataset, name), seed, TestContext.Current.CancellationToken))).Value;

    /// <summary>
    /// The shift raises an alarm at most <see cref="MaxDelay"/> weeks late, an instrument of a family the scenario is
    /// meant for among the first to fire, each named instrument by then; no false alarm before it lasts two weeks.
    /// </summary>
    public static async Task<ScenarioRun> DetectedAsync(string dataset, string name, int seed, params string[] instruments)
    {
        var run = await RunAsync(dataset, name, seed);
        var shift = run.Scenario.ShiftWeek!.Value;
        run.LongestFalseAlarmRun.Should().BeLessThanOrEqualTo(1, "a false alarm before the shift stands alone");
        run.Delay.Should().NotBeNull().And.BeLessThanOrEqualTo(MaxDelay, "the shift should raise an alarm in week {0} or the next", shift);
        run.FirstInstruments.Select(Instruments.FamilyOf).Should().IntersectWith(run.Scenario.Expected, "an instrument meant to see this shift should be among the first to fire");
        foreach (var instrument in instruments)
        {
            run.DelayOf(instrument).Should().NotBeNull().And.BeLessThanOrEqualTo(MaxDelay, "{0} should fire by week {1}", instrument, shift + MaxDelay);
        }

        return run;
    }

    /// <summary>
    /// Unchanged traffic: at most one alarmed week, never two in a row (a gate that waits for a second week would
    /// then never fail on it).
    /// </summary>
    public static async Task<ScenarioRun> QuietAsync(string dataset, string name, int seed)
    {
        var run = await RunAsync(dataset, name, seed);
        run.Weeks.Should().HaveCount(Timeline.Weeks);
        run.Weeks.Where(w => w.Alarmed).Select(w => $"week {w.Week}: {string.Join(", ", w.Instruments)}").Should().HaveCountLessThanOrEqualTo(1);
        run.LongestFalseAlarmRun.Should().BeLessThanOrEqualTo(1);
        return run;
    }
}
