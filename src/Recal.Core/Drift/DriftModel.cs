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
/// <param name="Instrument">The instrument's name (js_distance, psi, missing_share, cohort_js_distance, unknown_share, coverage_drop, …).</param>
/// <param name="Threshold">The value the instrument had to pass: for a calibrated alarm, the larger of the reference null's point at the test's level and the reference plus the minimum effect.</param>
public sealed record DriftAlarm(string Instrument, string Dimension, double Value, double Threshold, string Message)
{
    /// <summary>The instrument's value in the reference window (or, for a simulated null, the null's median at this window's size).</summary>
    public double? Reference { get; init; }

    /// <summary>The probability of a value at least this far from the reference if nothing moved.</summary>
    public double? PValue { get; init; }

    /// <summary>The level the p-value was held to: the per-window false-alarm rate divided among the instruments tested.</summary>
    public double? Alpha { get; init; }
}

/// <summary>One calibrated test of one window, alarmed or not: what the instrument read, against what, and where it would alarm.</summary>
/// <param name="Threshold">The value the instrument had to pass (for a fall, to fall below) to alarm.</param>
public sealed record InstrumentTest(string Instrument, string Dimension, double Value, double Reference, double Threshold, double PValue, double Alpha, bool Alarm);

/// <summary>
/// How a report's alarms were calibrated (docs/drift.md#calibrated-alarms): against the reference window, at a stated
/// per-window false-alarm rate divided among the instruments tested (Bonferroni), with the reference's week-to-week
/// dispersion factor widening every test.
/// </summary>
/// <param name="From">Start of the reference window: the first stored trace.</param>
/// <param name="To">End of the reference window: <c>traffic_window</c> later (or the end of stored traffic).</param>
/// <param name="Phi">The reference's dispersion factor (≥ 1) over <paramref name="Periods"/> sub-periods.</param>
/// <param name="FalseAlarmRate">The chance that a window drawn like the reference raises any alarm (<c>alarms.false_alarm_rate</c>).</param>
/// <param name="Instruments">How many tests share that rate in each window.</param>
/// <param name="Alpha">Each test's level: <paramref name="FalseAlarmRate"/> / <paramref name="Instruments"/>.</param>
/// <param name="Draws">Simulated windows per null of a mix measure.</param>
public sealed record DriftCalibration(
    DateTimeOffset From,
    DateTimeOffset To,
    long Traces,
    double Phi,
    int Periods,
    double FalseAlarmRate,
    int Instruments,
    double Alpha,
    int Draws);

/// <summary>The comparison of the eval set with one traffic window.</summary>
/// <param name="UnknownShare">Traffic share the classifier could not place (intent <c>unknown</c>), kept out of the intent measures.</param>
public sealed record DriftWindow(
    DateTimeOffset From,
    DateTimeOffset To,
    long Traces,
    double UnknownShare,
    DimensionDrift Intent,
    IReadOnlyList<DimensionDrift> Cohorts,
    IReadOnlyList<DriftAlarm> Alarms)
{
    /// <summary>The window's embedding coverage; null when the timeline was not measured.</summary>
    public WindowCoverage? Coverage { get; init; }

    /// <summary>The whole coverage report behind <see cref="Coverage"/> (per stratum), for callers; not written to JSON.</summary>
    [JsonIgnore]
    public CoverageReport? CoverageDetail { get; init; }

    /// <summary>What users did with production's answers in the window; null when the timeline was not measured.</summary>
    public WindowOnline? Online { get; init; }

    /// <summary>Every calibrated test the window ran, alarmed or not (docs/drift.md#calibrated-alarms).</summary>
    public IReadOnlyList<InstrumentTest> Tests { get; init; } = [];

    /// <summary>Cohort metadata values the taxonomy does not list, counted as the dimension's missing value (docs/drift.md#unlisted-cohort-values).</summary>
    public IReadOnlyList<UnlistedCohort> UnlistedCohorts { get; init; } = [];
}

/// <summary>A window's embedding coverage: the share of its traffic with an eval case within the radius.</summary>
/// <param name="Measured">Traces measured (all of the window, or a stratified sample of it).</param>
public sealed record WindowCoverage(double Share, double Lower, double Upper, long Measured, long Covered)
{
    /// <summary>Share of the window's traffic farther from every case and taxonomy example than the reference's 5th percentile.</summary>
    public double? NoveltyShare { get; init; }
}

/// <summary>A window's online signals.</summary>
/// <param name="Rated">Traces with a thumb.</param>
/// <param name="ThumbsUpRate">Thumbs up among the rated traces; null when none is rated.</param>
/// <param name="EscalationRate">Traces escalated to a human among the window's traces that say whether they were; null when none says (no data, not 0%).</param>
/// <param name="EscalationKnown">The window's traces that say whether they were escalated.</param>
public sealed record WindowOnline(long Traces, long Rated, double? ThumbsUpRate, double? EscalationRate, long EscalationKnown);

/// <summary>
/// The reference window the timeline's relative alarms compare with: the first <c>traffic_window</c> of stored traffic,
/// the weeks a set is typically drawn from (docs/drift.md#the-gap-timeline).
/// </summary>
public sealed record GapReference(DateTimeOffset From, DateTimeOffset To, long Traces, double UnknownShare, string Embedder, double Radius, WindowCoverage Coverage)
{
    /// <summary>The similarity to the nearest case or taxonomy example below which a trace counts as novel: the reference's 5th percentile.</summary>
    public double? NoveltyRadius { get; init; }

    /// <summary>The reference's own novel share (about 5% by construction; ties and sampling weights move it a little).</summary>
    public double? NoveltyShare { get; init; }

    /// <summary>The reference window's online signals, which the online alarms compare with.</summary>
    public WindowOnline? Online { get; init; }
}

/// <summary>One stored run on the timeline: its pass rates per pool and the gap measures it yields.</summary>
/// <param name="Release">The release the target is (<c>release:</c> in recal.yaml), if named.</param>
/// <param name="GoldShadowGap">Gold's pass rate minus shadow's, with <paramref name="GoldShadowP"/> Fisher's exact p; null without both pools.</param>
/// <param name="GoldHoldoutGap">Gold's pass rate minus the sealed holdout's: the overfitting estimate.</param>
/// <param name="OnlineRho">Spearman's ρ across strata between the run's pass rate and the thumbs-up rate.</param>
public sealed record RunPoint(
    string RunId,
    string Target,
    string? Release,
    DateTimeOffset Started,
    double? Gold,
    double? Shadow,
    double? Holdout,
    double? TrafficWeighted,
    double? GoldShadowGap,
    double? GoldShadowP,
    double? GoldHoldoutGap,
    double? GoldHoldoutP,
    double? OnlineRho)
{
    public string? SuiteVersion { get; init; }

    /// <summary>Share of the run's gold verdicts on cases labelled <c>easy</c>; null when none is labelled.</summary>
    public double? EasyShare { get; init; }

    /// <summary>
    /// When the previous run of the same target scored another suite: the part of the gold pass-rate change due to the
    /// difficulty mix of the cases (Kitagawa). Easy cases piling up show as a positive mix effect.
    /// </summary>
    public double? MixEffect { get; init; }

    /// <summary>... and the part within difficulties: the system's own change.</summary>
    public double? WithinEffect { get; init; }
}

/// <summary>Staleness of one suite version: across the newest run of each target that scored it.</summary>
/// <param name="Spread">Highest minus lowest pass rate across the targets.</param>
/// <param name="MeanJaccard">Mean Jaccard similarity of the failing sets, pair by pair.</param>
/// <param name="Stale">Three or more targets, flat, no pair significantly different, the same cases failing (docs/running.md#staleness).</param>
public sealed record StalenessPoint(string SuiteVersion, DateTimeOffset FirstRun, int Targets, double Spread, double MeanJaccard, bool Stale);

/// <summary>One release: the newest run of the target that is it, against the online signals of the traces it answered.</summary>
/// <param name="Release">The traces' <c>model</c> value.</param>
/// <param name="GoldPassRate">The run's gold pass rate: what a release gate reads.</param>
/// <param name="TrafficWeighted">The run's traffic-weighted expected pass rate, when the run has one.</param>
/// <param name="OnlineRate">
/// The release's thumbs-up rate standardised to one stratum mix (the current window's, over the strata every compared
/// release has rated traces in), so a release is not judged by the traffic it happened to meet.
/// </param>
/// <param name="RawThumbsUpRate">Thumbs up among all its rated traces, unstandardised.</param>
public sealed record ReleasePoint(
    string Release,
    string Target,
    string RunId,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    long Traces,
    long Rated,
    int GoldCases,
    int GoldPassed,
    double GoldPassRate,
    double? TrafficWeighted,
    double OnlineRate,
    double OnlineLower,
    double OnlineUpper,
    double RawThumbsUpRate);

/// <summary>Offline against online across releases, oldest release first.</summary>
/// <param name="Strata">Strata the standardised online rates are computed over.</param>
/// <param name="Rho">Spearman's ρ between gold pass rate and standardised online rate; null below three releases.</param>
public sealed record ReleaseComparison(DateTimeOffset MixFrom, DateTimeOffset MixTo, int Strata, IReadOnlyList<ReleasePoint> Releases, double? Rho);

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
    public const int CurrentFormatVersion = 3;

    /// <summary>How the alarms were calibrated against the reference window.</summary>
    public DriftCalibration? Calibration { get; init; }

    /// <summary>The reference window of the timeline's relative alarms; null when the timeline was not measured.</summary>
    public GapReference? Reference { get; init; }

    /// <summary>Stored runs, oldest first, with their pool pass rates and gaps.</summary>
    public IReadOnlyList<RunPoint> Runs { get; init; } = [];

    /// <summary>Staleness per suite version with runs of two or more targets, oldest suite first.</summary>
    public IReadOnlyList<StalenessPoint> Staleness { get; init; } = [];

    /// <summary>Offline against online across releases; null below two releases with a run and rated traffic.</summary>
    public ReleaseComparison? Releases { get; init; }

    /// <summary>Whether the current window raised an alarm: what the exit code reports.</summary>
    public bool HasAlarm => Current.Alarms.Count > 0;
}
