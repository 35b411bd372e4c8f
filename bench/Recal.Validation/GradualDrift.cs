namespace Recal.Validation;

/// <summary>
/// A drift spread over <see cref="RampWeeks"/> weeks: a step scenario's change phased in linearly, a sixth of it in the
/// shift week, all of it by week 12. Detection is counted from the ramp's first week, over the whole ramp.
/// </summary>
public static class GradualDrift
{
    public const int RampWeeks = Timeline.Weeks - Timeline.ShiftWeek + 1;

    /// <summary>The share of the change in <paramref name="week"/>: 0 before the ramp, 1/6 in its first week … 1 in its last.</summary>
    public static double Progress(int week) => Math.Clamp((week - Timeline.ShiftWeek + 1) / (double)RampWeeks, 0, 1);

    /// <summary>The step scenario's design with its traffic after the shift blended in: week w is (1 − f) of the week before the shift and f of week w.</summary>
    public static Scenario Of(Scenario step, string description) =>
        new(step.Dataset, "gradual", description, Timeline.ShiftWeek, step.Expected, seed => Ramp(step.Design(seed)), DetectionWeeks: RampWeeks);

    private static TrafficDesign Ramp(TrafficDesign step)
    {
        var before = step.Week(Timeline.ShiftWeek - 1);
        return step with
        {
            Week = week => Progress(week) is var f && f == 0
                ? step.Week(week)
                : [.. Scale(before, 1 - f), .. Scale(step.Week(week), f)],
        };
    }

    private static IEnumerable<MixComponent> Scale(IReadOnlyList<MixComponent> mix, double factor)
    {
        var total = mix.Sum(c => c.Weight);
        return mix.Where(_ => factor > 0).Select(c => c with { Weight = factor * c.Weight / total });
    }
}
