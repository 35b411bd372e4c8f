using System.Globalization;

namespace Recal.Drift;

/// <summary>How drift figures are spelled in messages and reports.</summary>
public static class DriftFormat
{
    /// <summary>A p-value: four decimals, scientific notation below 1e-4, n/a when the test did not apply.</summary>
    public static string P(double p) =>
        double.IsNaN(p) ? "n/a"
        : p < 1e-4 ? p.ToString("0.0e+0", CultureInfo.InvariantCulture)
        : p.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>
    /// A window's alarms in a few words: each instrument once, with its dimension when it has one, or with a count when
    /// it fired for several (one per stratum).
    /// </summary>
    public static string AlarmSummary(IEnumerable<DriftAlarm> alarms)
    {
        ArgumentNullException.ThrowIfNull(alarms);
        return string.Join(", ", alarms.GroupBy(a => a.Instrument, StringComparer.Ordinal).Select(g => g.Count() > 1
            ? string.Create(CultureInfo.InvariantCulture, $"{g.Key}×{g.Count()}")
            : g.First().Dimension is IntentDivergenceAnalyzer.IntentDimension or "coverage" or "release" or "pool" ? g.Key : $"{g.Key}:{g.First().Dimension}"));
    }

    /// <summary>
    /// A window's alarms in a word each, for a table cell: js, psi, missing, unknown, cohort:DIM, coverage, strata×N,
    /// novelty, thumbs, escalation, releases, shadow.
    /// </summary>
    public static string AlarmCodes(IEnumerable<DriftAlarm> alarms)
    {
        ArgumentNullException.ThrowIfNull(alarms);
        return string.Join(" ", alarms.GroupBy(a => Code(a), StringComparer.Ordinal).Select(g => g.Key == "strata" ? string.Create(CultureInfo.InvariantCulture, $"strata×{g.Count()}") : g.Key));

        static string Code(DriftAlarm alarm) => alarm.Instrument switch
        {
            "js_distance" => "js",
            "missing_share" => "missing",
            "unknown_share" => "unknown",
            "cohort_js_distance" => $"cohort:{alarm.Dimension}",
            "coverage_drop" => "coverage",
            "stratum_coverage_drop" => "strata",
            "thumbs_up_drop" => "thumbs",
            "escalation_rise" => "escalation",
            "offline_online_releases" => "releases",
            "gold_shadow_gap" => "shadow",
            _ => alarm.Instrument,
        };
    }

    /// <summary>A difference of pass rates in points with its p-value, or n/a.</summary>
    public static string Gap(double? difference, double? p) =>
        difference is { } d && double.IsFinite(d)
            ? string.Create(CultureInfo.InvariantCulture, $"{(d >= 0 ? "+" : "−")}{Math.Abs(d) * 100:0.0} (p {P(p ?? double.NaN)})")
            : "n/a";

    /// <summary>A pass-rate change split into mix and within parts, in points, or a dash.</summary>
    public static string MixWithin(double? mix, double? within) =>
        mix is { } m && within is { } w
            ? string.Create(CultureInfo.InvariantCulture, $"{m * 100:+0.0;−0.0;0.0} / {w * 100:+0.0;−0.0;0.0}")
            : "—";

    /// <summary>A stratum status as a short word.</summary>
    public static string Status(StratumStatus status) => status switch
    {
        StratumStatus.Ok => "ok",
        StratumStatus.Over => "over",
        StratumStatus.Under => "under",
        StratumStatus.Missing => "MISSING",
        StratumStatus.NoTraffic => "no traffic",
        _ => status.ToString(),
    };
}
