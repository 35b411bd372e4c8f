namespace Recal.Validation;

/// <summary>
/// The <c>plan</c> cohort every scenario's traces carry in their metadata (docs/trace-format.md): the taxonomy lists
/// free, pro and enterprise; before a cohort shift the mix is stable, so the cohort instruments run, quiet, everywhere.
/// </summary>
public static class PlanCohort
{
    public const string Dimension = "plan";

    /// <summary>The value the taxonomy gives traces whose plan is absent or not listed.</summary>
    public const string Missing = "unknown";

    public const string Growing = "enterprise";

    public const double GrownShare = 0.4;

    /// <summary>A plan the taxonomy does not list, appearing with <c>cohort_unlisted</c>.</summary>
    public const string Unlisted = "trial";

    public const double UnlistedShare = 0.2;

    public static readonly IReadOnlyList<string> Values = ["free", "pro", "enterprise"];

    public static readonly IReadOnlyList<PlanShare> Stable = [new("free", 0.6), new("pro", 0.3), new("enterprise", 0.1)];

    public static IReadOnlyList<PlanShare> StableWeek(int week) => Stable;

    /// <summary>From the shift week, enterprise goes from 10% to 40% of traces (free and pro shrink in proportion).</summary>
    public static Scenario GrowingScenario(string dataset, Func<int, TrafficDesign> stationary) =>
        new(dataset, "cohort_growing", $"the intent mix stays; plan={Growing} goes from 10% to {GrownShare:0%} of traces",
            Timeline.ShiftWeek, [Instruments.Cohort], seed => Shift(stationary(seed), Raise(Growing, GrownShare)));

    /// <summary>From the shift week, a plan the taxonomy does not list takes 20% of traces (the listed ones shrink in proportion).</summary>
    public static Scenario UnlistedScenario(string dataset, Func<int, TrafficDesign> stationary) =>
        new(dataset, "cohort_unlisted", $"the intent mix stays; plan={Unlisted}, a value the taxonomy does not list, arrives at {UnlistedShare:0%} of traces",
            Timeline.ShiftWeek, [Instruments.Cohort], seed => Shift(stationary(seed), Raise(Unlisted, UnlistedShare)));

    /// <summary>The stable mix with <paramref name="plan"/> at <paramref name="share"/> and the other values scaled to fill the rest.</summary>
    public static IReadOnlyList<PlanShare> Raise(string plan, double share)
    {
        var others = Stable.Where(p => p.Plan != plan).ToList();
        var rest = others.Sum(p => p.Weight);
        return [.. others.Select(p => p with { Weight = p.Weight * (1 - share) / rest }), new PlanShare(plan, share)];
    }

    private static TrafficDesign Shift(TrafficDesign design, IReadOnlyList<PlanShare> after) =>
        design with { Plans = week => week < Timeline.ShiftWeek ? Stable : after };
}
