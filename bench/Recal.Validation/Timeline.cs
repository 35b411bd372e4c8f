namespace Recal.Validation;

/// <summary>The calendar every scenario shares: twelve ISO weeks, the gold set drawn from the first four, shifts in week 7.</summary>
public static class Timeline
{
    /// <summary>A Monday, so each generated week is one ISO week of the drift series.</summary>
    public static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    public const int Weeks = 12;

    /// <summary>The gold set is drawn from these first weeks: the policy's 28-day traffic window.</summary>
    public const int ReferenceWeeks = 4;

    public const int ShiftWeek = 7;

    /// <summary>A shift counts as detected when an alarm fires in its week or the next three.</summary>
    public const int DetectionWeeks = 4;

    public static DateTimeOffset WeekStart(int week) => Start.AddDays(7 * (week - 1));

    public static DateTimeOffset End => WeekStart(Weeks + 1);

    public static DateTimeOffset ReferenceEnd => WeekStart(ReferenceWeeks + 1);
}
