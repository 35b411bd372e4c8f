using Recal.Domain;
using Recal.Drift;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Reporting.Tests;

/// <summary>Builds small drift reports by hand for the writer tests.</summary>
internal static class DriftReportFixture
{
    public static readonly AlarmThresholds Thresholds = new(0.2, 0.25, 0.001, 0.02, 0.1);

    public static DriftReport Build(bool alarm)
    {
        var strata = new List<StratumRow>
        {
            new("balance", "banking", 600, 0.6, 50, 0.5, 0.8333, StratumStatus.Ok),
            new("book_flight <script>", "travel", 300, 0.3, 0, 0, 0, StratumStatus.Missing),
            new("transfer", "banking", 100, 0.1, 50, 0.5, 5, StratumStatus.Over),
        };
        var test = new HomogeneityResult(120.5, 2, alarm ? 1e-20 : double.NaN, 3, 0, alarm, alarm ? null : "fewer than two categories");
        var intent = new DimensionDrift("intent", 1000, 100, new DivergenceMeasures(0.45, 0.9, 1.2, test), strata, 0.3);
        var plan = new DimensionDrift("plan", 1000, 100, null, [new StratumRow("free", null, 1000, 1, 100, 1, 1, StratumStatus.Ok)], 0);
        var alarms = alarm
            ? new List<DriftAlarm> { new("missing_share", "intent", 0.3, 0.02, "30.0% of traffic is in 1 intents the set lacks: book_flight <script> (30.0%)") }
            : [];
        var from = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var window = new DriftWindow(from, from.AddDays(7), 1000, 0.01, intent, [plan], alarms);
        var quiet = window with { Alarms = [], From = from.AddDays(-7), To = from };
        return new DriftReport(DriftReport.CurrentFormatVersion, "demo", "abc123", 3, ["gold"], 100, Period.Week, Thresholds, window, [quiet, window]);
    }
}
