namespace Recal.Validation;

/// <summary>One weekly window of a scenario run: the instruments that raised an alarm and the measures behind them.</summary>
/// <param name="Coverage">The window's embedding coverage, when the gap timeline measured it.</param>
/// <param name="CohortJsDistance">The largest cohort dimension's Jensen–Shannon distance between the set and the window.</param>
public sealed record WeekAlarms(int Week, long Traces, IReadOnlyList<string> Instruments, double JsDistance, double Psi, double MissingShare, double UnknownShare, double? Coverage, double CohortJsDistance)
{
    public bool Alarmed => Instruments.Count > 0;
}

/// <summary>The outcome of one scenario with one seed.</summary>
public sealed record ScenarioRun(Scenario Scenario, int Seed, int GoldCases, IReadOnlyList<WeekAlarms> Weeks)
{
    /// <summary>The first alarmed week at or after the shift, counted from it (0 = the shift week); null when none within the detection weeks.</summary>
    public int? Delay => DelayOf(w => w.Alarmed);

    /// <summary>The first week at or after the shift in which <paramref name="instrument"/> fired, counted from the shift; null when it did not within the detection weeks.</summary>
    public int? DelayOf(string instrument) => DelayOf(w => w.Instruments.Contains(instrument));

    /// <summary>The instruments that fired in the detection week.</summary>
    public IReadOnlyList<string> FirstInstruments => Delay is { } delay ? Weeks.Single(w => w.Week == Scenario.ShiftWeek + delay).Instruments : [];

    /// <summary>The most consecutive alarmed weeks among the unshifted ones.</summary>
    public int LongestFalseAlarmRun
    {
        get
        {
            int longest = 0, current = 0;
            foreach (var week in Unshifted.OrderBy(w => w.Week))
            {
                current = week.Alarmed ? current + 1 : 0;
                longest = Math.Max(longest, current);
            }

            return longest;
        }
    }

    private int? DelayOf(Func<WeekAlarms, bool> fired) => Scenario.ShiftWeek is { } shift
        ? Weeks.Where(w => w.Week >= shift && w.Week < shift + Scenario.DetectionWeeks && fired(w)).Select(w => (int?)(w.Week - shift)).FirstOrDefault()
        : null;

    /// <summary>Windows where an alarm is false: every window before the shift, every window of a scenario without one.</summary>
    public IEnumerable<WeekAlarms> Unshifted => Weeks.Where(w => Scenario.ShiftWeek is not { } shift || w.Week < shift);
}
