using System.Globalization;
using System.Text;
using Recal.Statistics;

namespace Recal.Validation;

/// <summary>The validation figures as Markdown tables (docs/validation.md).</summary>
public static class MarkdownReport
{
    private const string AnyInstrument = "any";

    /// <param name="tuning">Whether <paramref name="seeds"/> are the tuning seeds (for choosing settings, never reported as figures).</param>
    public static string Write(IReadOnlyList<ScenarioSummary> summaries, IReadOnlyList<int> seeds, bool tuning = false)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        ArgumentNullException.ThrowIfNull(seeds);
        var md = new StringBuilder();
        var detection = Timeline.ShiftWeek + Timeline.DetectionWeeks - 1;
        md.AppendLine(Invariant($"{(tuning ? "Tuning seeds" : "Seeds")} {Seeds(seeds)}{(tuning ? " (for choosing settings: not the reported figures)" : string.Empty)}; shift in week {Timeline.ShiftWeek} of {Timeline.Weeks} (a gradual drift's ramp starts then); gold set drawn from weeks 1–{Timeline.ReferenceWeeks}; detected = an alarm in weeks {Timeline.ShiftWeek}–{detection} ({Timeline.ShiftWeek}–{Timeline.Weeks} for a gradual drift)."));
        md.AppendLine();
        md.AppendLine(Invariant($"Alarm thresholds: `recal init`'s starter policy ({string.Join(", ", ValidationProject.StarterAlarms.Select(a => $"`{a}`"))}); the gap timeline's at their defaults."));
        md.AppendLine();
        Summary(md, summaries);
        ExitCode(md, summaries);
        PerInstrument(md, summaries);
        Weekly(md, summaries);
        FalseAlarmsByInstrument(md, summaries);
        NoiseFloors(md, summaries);
        return md.ToString();
    }

    private static void Summary(StringBuilder md, IReadOnlyList<ScenarioSummary> summaries)
    {
        Header(md, null, "dataset", "scenario", "detected", "by expected family", "mean delay (weeks)", "median delay", "first alarm (seeds)", "false alarms / windows", "false-alarm rate (95% CI)", "longest false-alarm run");
        foreach (var s in summaries)
        {
            var shifted = s.Scenario.ShiftWeek is not null;
            md.AppendLine(Invariant($"| {s.Scenario.Dataset} | {s.Scenario.Name} | {(shifted ? $"{s.Detected}/{s.Runs.Count}" : "—")} | {(shifted ? $"{s.DetectedByExpected}/{s.Runs.Count}" : "—")} | {Delay(s.MeanDelay, shifted)} | {Delay(s.MedianDelay, shifted)} | {First(s)} | {s.FalseAlarmWindows}/{s.UnshiftedWindows} | {Rate(s.FalseAlarmWindows, s.UnshiftedWindows)} | {s.LongestFalseAlarmRun} |"));
        }

        md.AppendLine();
    }

    /// <summary>What CI sees: <c>recal drift</c> exits non-zero on any alarm, so a week with any alarm and no shift is a false failure.</summary>
    private static void ExitCode(StringBuilder md, IReadOnlyList<ScenarioSummary> summaries)
    {
        Header(md, "Exit-code false-alarm rate: the share of unshifted weeks (every week of `none`, the weeks before the shift of the others, pooled over scenarios and seeds) with any alarm, the weeks on which a CI gate on `recal drift` would fail with nothing to see:", "dataset", "weeks with any alarm / unshifted weeks", "rate (95% CI)", "runs with two alarmed weeks in a row / runs");
        foreach (var dataset in summaries.GroupBy(s => s.Scenario.Dataset))
        {
            var windows = dataset.Sum(s => s.UnshiftedWindows);
            var alarmed = dataset.Sum(s => s.FalseAlarmWindows);
            var runs = dataset.SelectMany(s => s.Runs).ToList();
            md.AppendLine(Invariant($"| {dataset.Key} | {alarmed}/{windows} | {Rate(alarmed, windows)} | {runs.Count(r => r.LongestFalseAlarmRun >= 2)}/{runs.Count} |"));
        }

        md.AppendLine();
    }

    /// <summary>Per scenario, every instrument that fired (and every expected family none of whose instruments did).</summary>
    private static void PerInstrument(StringBuilder md, IReadOnlyList<ScenarioSummary> summaries)
    {
        Header(md, "Per instrument: seeds in which it fired within the detection weeks, its mean delay over those, and its false alarms on the scenario's unshifted weeks (instruments that never fired are left out; an expected family none of whose instruments fired reads \"none fired\"):", "dataset", "scenario", "instrument", "family expected", "detected", "mean delay (weeks)", "false alarms / windows", "false-alarm rate (95% CI)");
        foreach (var s in summaries)
        {
            var shifted = s.Scenario.ShiftWeek is not null;
            var fired = Ordered(s.Fired).ToList();
            foreach (var instrument in fired)
            {
                var expected = s.Scenario.Expected.Contains(Instruments.FamilyOf(instrument));
                md.AppendLine(Invariant($"| {s.Scenario.Dataset} | {s.Scenario.Name} | {instrument} | {(expected ? "yes" : "no")} | {(shifted ? $"{s.DetectedBy(instrument)}/{s.Runs.Count}" : "—")} | {Delay(s.MeanDelayOf(instrument), shifted)} | {s.FalseAlarmsOf(instrument)}/{s.UnshiftedWindows} | {Rate(s.FalseAlarmsOf(instrument), s.UnshiftedWindows)} |"));
            }

            foreach (var family in s.Scenario.Expected.Where(f => !fired.Any(i => Instruments.FamilyOf(i) == f)))
            {
                md.AppendLine(Invariant($"| {s.Scenario.Dataset} | {s.Scenario.Name} | ({family}: none fired) | yes | 0/{s.Runs.Count} | — | — | — |"));
            }

            if (!shifted && fired.Count == 0)
            {
                md.AppendLine(Invariant($"| {s.Scenario.Dataset} | {s.Scenario.Name} | (none fired) | — | — | — | 0/{s.UnshiftedWindows} | {Rate(0, s.UnshiftedWindows)} |"));
            }
        }

        md.AppendLine();
    }

    private static void Weekly(StringBuilder md, IReadOnlyList<ScenarioSummary> summaries)
    {
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
    }

    private static void FalseAlarmsByInstrument(StringBuilder md, IReadOnlyList<ScenarioSummary> summaries)
    {
        Header(md, "False alarms per instrument (unshifted windows: every week of the scenarios without shift, weeks before the shift of the others):", "dataset", "instrument", "alarmed windows / windows", "rate (95% CI)");
        foreach (var dataset in summaries.GroupBy(s => s.Scenario.Dataset))
        {
            var windows = dataset.Sum(s => s.UnshiftedWindows);
            foreach (var instrument in Ordered(dataset.SelectMany(s => s.Fired).Concat(Instruments.Known)).Append(AnyInstrument))
            {
                var alarmed = instrument == AnyInstrument ? dataset.Sum(s => s.FalseAlarmWindows) : dataset.Sum(s => s.FalseAlarmsOf(instrument));
                md.AppendLine(Invariant($"| {dataset.Key} | {instrument} | {alarmed}/{windows} | {Rate(alarmed, windows)} |"));
            }
        }

        md.AppendLine();
    }

    private static void NoiseFloors(StringBuilder md, IReadOnlyList<ScenarioSummary> summaries)
    {
        Header(md, "Noise floors on unshifted windows (median and 95th percentile over windows and seeds):", "dataset", "JS distance", "PSI", "missing share", "unknown share", "coverage", "plan JS distance");
        foreach (var dataset in summaries.GroupBy(s => s.Scenario.Dataset))
        {
            var windows = dataset.SelectMany(s => s.Runs).SelectMany(r => r.Unshifted).ToList();
            md.AppendLine(Invariant($"| {dataset.Key} | {Floor(windows.Select(w => w.JsDistance))} | {Floor(windows.Select(w => w.Psi))} | {Floor(windows.Select(w => w.MissingShare))} | {Floor(windows.Select(w => w.UnknownShare))} | {Floor(windows.Where(w => w.Coverage is not null).Select(w => w.Coverage!.Value))} | {Floor(windows.Select(w => w.CohortJsDistance))} |"));
        }
    }

    /// <summary>A table's introduction (if any) and its header row.</summary>
    private static void Header(StringBuilder md, string? introduction, params string[] columns)
    {
        if (introduction is not null)
        {
            md.AppendLine(introduction).AppendLine();
        }

        md.Append("| ").AppendJoin(" | ", columns).AppendLine(" |");
        md.Append('|').AppendJoin(string.Empty, columns.Select(_ => "---|")).AppendLine();
    }

    /// <summary>Known instruments in their order, then any other name alphabetically.</summary>
    private static IEnumerable<string> Ordered(IEnumerable<string> instruments)
    {
        var known = Instruments.Known.ToList();
        return instruments.Distinct(StringComparer.Ordinal)
            .OrderBy(i => known.IndexOf(i) is var k && k < 0 ? int.MaxValue : k)
            .ThenBy(i => i, StringComparer.Ordinal);
    }

    private static string Rate(long alarmed, long windows)
    {
        var (lower, upper) = Proportion.WilsonInterval(alarmed, windows);
        return Invariant($"{(double)alarmed / Math.Max(1, windows):0.0%} ({lower:0.0%}–{upper:0.0%})");
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
