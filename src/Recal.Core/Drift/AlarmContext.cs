using System.Text;
using Recal.Domain;
using Recal.Statistics;

namespace Recal.Drift;

/// <summary>
/// What every window's calibrated alarms share: the eval distribution, the reference window, its dispersion factor and
/// each test's level (docs/drift.md#calibrated-alarms).
/// </summary>
public sealed class AlarmContext
{
    /// <summary>Tests of the intent-mix side in every window: JS distance, PSI, missing share and unknown share (plus one per cohort dimension).</summary>
    public const int MixInstruments = 4;

    /// <summary>Tests the gap timeline adds: coverage, per-stratum coverage, novelty, thumbs up and escalation.</summary>
    public const int TimelineInstruments = 5;

    private AlarmContext(EvalDistribution eval, DriftReference reference, DriftCalibration calibration)
    {
        Eval = eval;
        Reference = reference;
        Calibration = calibration;
    }

    public EvalDistribution Eval { get; }

    public DriftReference Reference { get; }

    public DriftCalibration Calibration { get; }

    /// <summary>The reference's dispersion factor.</summary>
    public double Phi => Calibration.Phi;

    /// <summary>Each test's level.</summary>
    public double Alpha => Calibration.Alpha;

    /// <param name="timeline">Whether the gap timeline's tests run too (they share the window's false-alarm rate).</param>
    public static AlarmContext For(EvalProject project, EvalDistribution eval, DriftReference reference, bool timeline)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(eval);
        ArgumentNullException.ThrowIfNull(reference);
        var rate = project.Policy.Alarms.FalseAlarmRate;
        var instruments = MixInstruments + project.Taxonomy.Cohorts.Count + (timeline ? TimelineInstruments : 0);
        var calibration = new DriftCalibration(
            reference.From,
            reference.To,
            reference.Tally.Total,
            reference.Dispersion.Phi,
            reference.Dispersion.Periods,
            rate,
            instruments,
            rate / instruments,
            ReferenceNull.DefaultDraws);
        return new AlarmContext(eval, reference, calibration);
    }

    /// <summary>
    /// The null of a mix measure for a window of <paramref name="size"/> traces, seeded by the measure and the window so
    /// the same store gives the same report.
    /// </summary>
    public NullDistribution Null(string measure, long[] referenceCounts, long size, DateTimeOffset from, DateTimeOffset to, Func<double[], double> statistic) =>
        ReferenceNull.Simulate(referenceCounts, size, Phi, statistic, Seed(measure, from, to));

    private static int Seed(string measure, DateTimeOffset from, DateTimeOffset to)
    {
        // FNV-1a over the measure and the window's bounds.
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes($"{measure}\u001f{from.UtcTicks}\u001f{to.UtcTicks}"))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (int)(hash & int.MaxValue);
    }
}
