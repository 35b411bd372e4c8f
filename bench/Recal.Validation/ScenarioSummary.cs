using Recal.Statistics;

namespace Recal.Validation;

/// <summary>The detection and false-alarm figures of one scenario over its seeds.</summary>
public sealed class ScenarioSummary
{
    public ScenarioSummary(Scenario scenario, IReadOnlyList<ScenarioRun> runs)
    {
        Scenario = scenario ?? throw new ArgumentNullException(nameof(scenario));
        Runs = runs ?? throw new ArgumentNullException(nameof(runs));
    }

    public Scenario Scenario { get; }

    public IReadOnlyList<ScenarioRun> Runs { get; }

    /// <summary>Seeds with an alarm in the shift week or the three after it.</summary>
    public int Detected => Runs.Count(r => r.Delay is not null);

    public IReadOnlyList<int> Delays => [.. Runs.Where(r => r.Delay is not null).Select(r => r.Delay!.Value).Order()];

    public double? MeanDelay => Delays.Count == 0 ? null : Delays.Average();

    public double? MedianDelay => Delays.Count == 0 ? null
        : Delays.Count % 2 == 1 ? Delays[Delays.Count / 2]
        : (Delays[(Delays.Count / 2) - 1] + Delays[Delays.Count / 2]) / 2.0;

    /// <summary>How many seeds each instrument alarmed in the detection week, most first.</summary>
    public IReadOnlyList<(string Instrument, int Seeds)> FirstInstruments =>
        [.. Runs.SelectMany(r => r.FirstInstruments).GroupBy(i => i, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count())).OrderByDescending(g => g.Item2).ThenBy(g => g.Key, StringComparer.Ordinal)];

    /// <summary>Seeds whose detection week had an alarm of a family the scenario expects.</summary>
    public int DetectedByExpected => Runs.Count(r => r.FirstInstruments.Any(i => Scenario.Expected.Contains(Instruments.FamilyOf(i))));

    public long UnshiftedWindows => Runs.Sum(r => r.Unshifted.Count());

    public long FalseAlarmWindows => Runs.Sum(r => r.Unshifted.Count(w => w.Alarmed));

    public double FalseAlarmRate => UnshiftedWindows == 0 ? 0 : (double)FalseAlarmWindows / UnshiftedWindows;

    public (double Lower, double Upper) FalseAlarmInterval => Proportion.WilsonInterval(FalseAlarmWindows, UnshiftedWindows);

    /// <summary>The most consecutive alarmed unshifted weeks in any seed: 1 when every false alarm stood alone.</summary>
    public int LongestFalseAlarmRun => Runs.Count == 0 ? 0 : Runs.Max(r => r.LongestFalseAlarmRun);

    /// <summary>Seeds in which <paramref name="instrument"/> fired within the detection weeks.</summary>
    public int DetectedBy(string instrument) => Runs.Count(r => r.DelayOf(instrument) is not null);

    /// <summary>The mean delay of <paramref name="instrument"/> over the seeds it detected the shift in.</summary>
    public double? MeanDelayOf(string instrument)
    {
        var delays = Runs.Select(r => r.DelayOf(instrument)).OfType<int>().ToList();
        return delays.Count == 0 ? null : delays.Average();
    }

    /// <summary>Every instrument that fired in any window of any seed.</summary>
    public IEnumerable<string> Fired => Runs.SelectMany(r => r.Weeks).SelectMany(w => w.Instruments).Distinct(StringComparer.Ordinal);

    /// <summary>Unshifted windows in which each instrument fired.</summary>
    public long FalseAlarmsOf(string instrument) => Runs.Sum(r => r.Unshifted.Count(w => w.Instruments.Contains(instrument)));

    /// <summary>Per week (index 0 = week 1), the share of seeds with any alarm.</summary>
    public IReadOnlyList<double> AlarmShareByWeek =>
        [.. Enumerable.Range(1, Timeline.Weeks).Select(week => Runs.Count(r => r.Weeks.Any(w => w.Week == week && w.Alarmed)) / (double)Math.Max(1, Runs.Count))];
}
