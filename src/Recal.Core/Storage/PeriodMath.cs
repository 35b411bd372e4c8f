namespace Recal.Storage;

/// <summary>Period bucket arithmetic shared by stores and reports (all in UTC).</summary>
public static class PeriodMath
{
    private static readonly DateTimeOffset FirstMonday = new(1970, 1, 5, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The start of the bucket containing <paramref name="instant"/>.</summary>
    public static DateTimeOffset Start(DateTimeOffset instant, Period period)
    {
        var utc = instant.ToUniversalTime();
        return period switch
        {
            Period.Day => new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero),
            Period.Week => FirstMonday.AddDays(Math.Floor((utc - FirstMonday).TotalDays / 7) * 7),
            Period.Month => new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero),
            _ => throw new ArgumentOutOfRangeException(nameof(period), period, "a bucket needs a period"),
        };
    }

    /// <summary>The (exclusive) end of the bucket starting at <paramref name="start"/>.</summary>
    public static DateTimeOffset End(DateTimeOffset start, Period period) => period switch
    {
        Period.Day => start.AddDays(1),
        Period.Week => start.AddDays(7),
        Period.Month => start.AddMonths(1),
        _ => throw new ArgumentOutOfRangeException(nameof(period), period, "a bucket needs a period"),
    };

    /// <summary>Parses <c>daily</c>, <c>weekly</c>, <c>monthly</c> (or day/week/month).</summary>
    public static bool TryParse(string text, out Period period)
    {
        period = (text ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "daily" or "day" => Period.Day,
            "weekly" or "week" => Period.Week,
            "monthly" or "month" => Period.Month,
            "none" => Period.None,
            _ => (Period)(-1),
        };
        return Enum.IsDefined(period);
    }
}
