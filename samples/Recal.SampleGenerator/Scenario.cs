namespace Recal.Samples;

/// <summary>
/// The ground truth of the sample's twelve weeks: which domains are live, how big out-of-scope is, and the plan mix.
/// Every number here is documented in the sample's README, which the generator writes.
/// </summary>
internal static class Scenario
{
    public static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    public const int Weeks = 12;
    public const int TracesPerWeek = 3000;
    public const int EvalWeeks = 4;

    public static readonly string[] StableDomains = ["banking", "credit_cards", "utility", "small_talk", "meta"];
    public const string Travel = "travel";
    public const string Auto = "auto_and_commute";
    public const string OutOfScope = "out_of_scope";
    public static readonly string[] Plans = ["free", "plus", "premium"];
    public static readonly string[] Locales = ["en-US", "en-GB", "en-IN"];
    public static readonly string[] Surfaces = ["web", "ios", "android"];

    /// <summary>Travel launches in week 6 and reaches 20% of traffic by week 8.</summary>
    public static double TravelShare(int week) => week switch
    {
        < 6 => 0,
        6 => 0.07,
        7 => 0.14,
        _ => 0.20,
    };

    /// <summary>Auto and commute appears at 8% from week 10.</summary>
    public static double AutoShare(int week) => week >= 10 ? 0.08 : 0;

    /// <summary>Out-of-scope is 3% until week 6, then grows by two points a week to 15% in week 12.</summary>
    public static double OutOfScopeShare(int week) => week <= 6 ? 0.03 : 0.03 + ((week - 6) * 0.02);

    /// <summary>The free plan is 30% until week 7, then a promotion lifts it to 60% by week 10.</summary>
    public static double[] PlanShares(int week)
    {
        var free = week <= 7 ? 0.30 : 0.30 + (Math.Min(week - 7, 3) * 0.10);
        return [free, (1 - free) * 0.64, (1 - free) * 0.36];
    }

    public static readonly double[] LocaleShares = [0.6, 0.2, 0.2];
    public static readonly double[] SurfaceShares = [0.5, 0.3, 0.2];
    public static readonly double[] WeekdayWeights = [1.2, 1.2, 1.1, 1.1, 1.0, 0.7, 0.7];

    public const string BaselineRelease = "support-bot-2026.05";

    /// <summary>The release shipped in week 6: the bot tuned until it aced the gold set.</summary>
    public const string TunedRelease = "support-bot-2026.07";

    public static string Model(int week) => week < 6 ? BaselineRelease : TunedRelease;
}
