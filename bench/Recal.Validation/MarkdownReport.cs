using System.Globalization;
using System.Text;
using Recal.Statistics;

namespace Recal.Validation;

/// <summary>The validation figures as Markdown tables (docs/validation.md).</summary>
public static class MarkdownReport
{
    public static readonly string[] AllInstruments =
        ["js_distance", "psi", "missing_share", "coverage_drop", "stratum_coverage_drop", "unknown_share"];

    private const string AnyInstrument = "any";

    public static string Write(IReadOnlyList<ScenarioSummary> summaries, IReadOnlyList<int> seeds)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(seeds);
        var md = new StringBuilder();
        md.AppendLine(Invariant($"Seeds {Seeds(seeds)}; shift in week {Timeline.ShiftWeek} of {Timeline.Weeks}; gold set drawn from weeks 1–{Timeline.ReferenceWeeks}; detected = an alarm in weeks {Timeline.ShiftWeek}–{Timeline.ShiftWeek + Timeline.DetectionWeeks - 1}."));
        md.AppendLine();
        md.AppendLine("| dataset | scenario | detected | by expected family | mean delay (weeks) | median delay | first alarm (seeds) | false alarms / windows | false-alarm rate (95% CI) | longest false-alarm run |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var s in summaries)
        {
            var shifted = s.Scenario.ShiftWeek is not null;
            var (lower, upper) = s.FalseAlarmInterval;
            md.AppendLine(Invariant($"| {s.Scenario.Dataset} | {s.Scenario.Name} | {(shifted ? $"{s.Detected}/{s.Runs.Count}" : "—")} | {(shifted ? $"{s.DetectedByExpected}/{s.Runs.Count}" : "—")} | {Delay(s.MeanDelay, shifted)} | {Delay(s.MedianDelay, shifted)} | {First(s)} | {s.FalseAlarmWindows}/{s.UnshiftedWindows} | {s.FalseAlarmRate:0.0%} ({lower:0.0%}–{upper:0.0%}) | {s.LongestFalseAlarmRun} |"));
        }

        md.AppendLine();
        md.AppendLine("Share of seeds with any alarm, week by week (the shift week in bold):");
        md.AppendLine();
        md.Append("| dataset | scenario |");
        for (var week = 1; week <= Timeline.Weeks; week++)
        {
            md.Append(week == Timeline.ShiftWeek ? Invariant($" **{week}** |") : Invariant($" {week} |"));
        }

        md.AppendLine();
        md.AppendLine("|---|---|" + string.Concat(Enumerable.Repeat("---|", Timeline.Weeks)));
        foreach (var s in summaries)
        {
            md.Append(Invariant($"| {s.Scenario.Dataset} | {s.Scenario.Name} |"));
            foreach (var share in s.AlarmShareByWeek)
            {
                md.Append(Invariant($" {share:0.##} |"));
            }

            md.AppendLine();
        }

        md.AppendLine();
        md.AppendLine("False alarms per instrument (unshifted windows: every week of the scenarios without shift, weeks before the shift of the others):");
        md.AppendLine();
        md.AppendLine("| dataset | instrument | alarmed windows / windows | rate (95% CI) |");
        md.AppendLine("|---|---|---|---|");
        foreach (var dataset in summaries.GroupBy(s => s.Scenario.Dataset))
        {
            var windows = dataset.Sum(s => s.UnshiftedWindows);
            foreach (var instrument in AllInstruments.Append(AnyInstrument))
            {
                var alarmed = instrument == AnyInstrument ? dataset.Sum(s => s.FalseAlarmWindows) : dataset.Sum(s => s.FalseAlarmsOf(instrument));
                var (lower, upper) = Proportion.WilsonInterval(alarmed, windows);
                md.AppendLine(Invariant($"| {dataset.Key} | {instrument} | {alarmed}/{windows} | {(double)alarmed / Math.Max(1, windows):0.0%} ({lower:0.0%}–{upper:0.0%}) |"));
            }
        }

        md.AppendLine();
        md.AppendLine("Noise floors on unshifted windows (median and 95th percentile over windows and seeds):");
        md.AppendLine();
        md.AppendLine("| dataset | JS distance | PSI | missing share | unknown share | coverage |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var dataset in summaries.GroupBy(s => s.Scenario.Dataset))
        {
            var windows = dataset.SelectMany(s => s.Runs).SelectMany(r => r.Unshifted).ToList();
            md.AppendLine(Invariant($"| {dataset.Key} | {Floor(windows.Select(w => w.JsDistance))} | {Floor(windows.Select(w => w.Psi))} | {Floor(windows.Select(w => w.MissingShare))} | {Floor(windows.Select(w => w.UnknownShare))} | {Floor(windows.Where(w => w.Coverage is not null).Select(w => w.Coverage!.Value))} |"));
        }

        return md.ToString();
    }

    private static string First(ScenarioSummary s) =>
        s.Scenario.ShiftWeek is null ? "—"
        : s.FirstInstruments.Count == 0 ? "none"
        : string.Join(", ", s.FirstInstruments.Select(f => Invariant($"{f.Instrument} {f.Seeds}")));

    private static string Delay(double? delay, bool shifted) => !shifted ? "—" : delay is { } d ? d.ToString("0.0", CultureInfo.InvariantCulture) : "n/a";

    private static string Floor(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0 ? "—" : Invariant($"{Quantile(sorted, 0.5):0.000} / {Quantile(sorted, 0.95):0.000}");
    }

    /// <summary>Linear interpolation between order statistics (NumPy's default).</summary>
    private static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        var position = q * (sorted.Count - 1);
        var low = (int)Math.Floor(position);
        var high = Math.Min(low + 1, sorted.Count - 1);
        return sorted[low] + ((position - low) * (sorted[high] - sorted[low]));
    }

    private static string Seeds(IReadOnlyList<int> seeds) =>
        seeds.Count > 1 && seeds[^1] - seeds[0] == seeds.Count - 1 ? Invariant($"{seeds[0]}–{seeds[^1]} ({seeds.Count})") : string.Join(", ", seeds);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
