using System.Text.Json.Serialization;
using Recal.Domain;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>How a stratum's share in the eval set compares with its share in traffic.</summary>
public enum StratumStatus
{
    /// <summary>Represented within a factor of two of its traffic share.</summary>
    Ok,

    /// <summary>More than twice its traffic share.</summary>
    Over,

    /// <summary>Less than half its traffic share.</summary>
    Under,

    /// <summary>Present in traffic, absent from the set: a blind spot.</summary>
    Missing,

    /// <summary>In the set, absent from this traffic window.</summary>
    NoTraffic,
}

/// <summary>One row of the per-stratum table.</summary>
/// <param name="Ratio">Eval share divided by traffic share; null when the stratum has no traffic.</param>
public sealed record StratumRow(string Stratum, string? Group, long TrafficCount, double TrafficShare, long EvalCount, double EvalShare, double? Ratio, StratumStatus Status);

/// <summary>The divergence measures between the eval and traffic distributions over one dimension.</summary>
/// <param name="JsDistance">Jensen–Shannon distance, base 2, in [0, 1].</param>
/// <param name="KlDivergence">KL(traffic ‖ eval) in bits with additive smoothing.</param>
/// <param name="Psi">Population stability index, eval as expected and traffic as actual.</param>
/// <param name="Test">The G-test of homogeneity after pooling sparse strata.</param>
public sealed record DivergenceMeasures(double JsDistance, double KlDivergence, double Psi, HomogeneityResult Test);

/// <summary>The comparison of one dimension (intent, or one cohort dimension) in one window.</summary>
/// <param name="MissingShare">Traffic share of strata with no eval case.</param>
public sealed record DimensionDrift(string Dimension, long TrafficTotal, long EvalTotal, DivergenceMeasures? Measures, IReadOnlyList<StratumRow> Strata, double MissingShare)
{
    [JsonIgnore]
    public IEnumerable<StratumRow> Missing => Strata.Where(s => s.Status == StratumStatus.Missing);
}

/// <summary>A threshold crossed.</summary>
/// <param name="Instrument">js_distance, psi, missing_share or cohort_js_distance.</param>
public sealed record DriftAlarm(string Instrument, string Dimension, double Value, double Threshold, string Message);

/// <summary>The comparison of the eval set with one traffic window.</summary>
/// <param name="UnknownShare">Traffic share the classifier could not place (intent <c>unknown</c>), kept out of the intent measures.</param>
public sealed record DriftWindow(
    DateTimeOffset From,
    DateTimeOffset To,
    long Traces,
    double UnknownShare,
    DimensionDrift Intent,
    IReadOnlyList<DimensionDrift> Cohorts,
    IReadOnlyList<DriftAlarm> Alarms);

/// <summary>The intent-divergence report: the latest window and, when asked, the series over periods.</summary>
public sealed record DriftReport(
    int FormatVersion,
    string Project,
    string SuiteVersion,
    int PolicyVersion,
    IReadOnlyList<string> Pools,
    long EvalCases,
    Period Period,
    AlarmThresholds Thresholds,
    DriftWindow Current,
    IReadOnlyList<DriftWindow> Series)
{
    /// <summary>The version of the report's JSON format (docs/schemas/drift-report.schema.json).</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Whether the current window raised an alarm: what the exit code reports.</summary>
    public bool HasAlarm => Current.Alarms.Count > 0;
}
