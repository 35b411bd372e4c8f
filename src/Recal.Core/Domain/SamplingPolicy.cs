namespace Recal.Domain;

/// <summary>How strata that the policy does not weigh explicitly share the remaining weight.</summary>
public enum DefaultWeighting
{
    /// <summary>In proportion to their traffic share.</summary>
    Traffic,

    /// <summary>Equally.</summary>
    Equal,

    /// <summary>They get no weight: the listed weights must sum to 1.</summary>
    None,
}

/// <summary>How the set is divided into strata and how much of it each stratum gets.</summary>
/// <param name="By">The stratification keys: <c>intent</c> and/or cohort dimension names.</param>
/// <param name="Weights">Explicit target weights per stratum (a stratum is named by its values joined with <c>/</c>).</param>
/// <param name="Floor">The minimum number of cases every stratum seen in traffic keeps.</param>
public sealed record StrataPolicy(IReadOnlyList<string> By, DefaultWeighting Default, IReadOnlyDictionary<string, double> Weights, int Floor);

/// <summary>Traces that must never become cases.</summary>
/// <param name="Patterns">Regular expressions for personal data; a trace whose input matches is excluded.</param>
/// <param name="Metadata">Metadata field → values that exclude a trace (internal or test users).</param>
/// <param name="NearDuplicateSimilarity">A trace this similar to an existing case is excluded.</param>
/// <param name="MinInputChars">Inputs shorter than this are unusable.</param>
public sealed record ExclusionRules(IReadOnlyList<string> Patterns, IReadOnlyDictionary<string, IReadOnlyList<string>> Metadata, double NearDuplicateSimilarity, int MinInputChars);

/// <summary>When a stratum first seen in shadow is proposed for gold.</summary>
public sealed record PromotionRule(double MinWeight, int Cycles);

/// <summary>When a case becomes a retirement candidate.</summary>
/// <param name="UnmatchedCycles">No traffic matched the case's pattern for this many cycles.</param>
/// <param name="RetireExpired">Cases past <c>valid_until</c> are candidates.</param>
/// <param name="RetireNewlyPassing">Cases that newly pass after a model upgrade are candidates.</param>
public sealed record RetirementRule(int UnmatchedCycles, bool RetireExpired, bool RetireNewlyPassing)
{
    /// <summary>
    /// Also retire a gold case no trace of the last <see cref="UnmatchedCycles"/> cycles comes within the coverage radius
    /// of, though its stratum still has traffic: nobody asks that any more (needs embeddings).
    /// </summary>
    public bool Neighbourhood { get; init; } = true;
}

/// <summary>
/// When a drift instrument raises an alarm. A traffic instrument alarms on the change from the reference window when the
/// change is both beyond what the reference's own variability explains at the window's size (at
/// <see cref="FalseAlarmRate"/> per window, shared among the instruments) and at least the minimum effect set here
/// (docs/drift.md#calibrated-alarms).
/// </summary>
/// <param name="JsDistance">Minimum rise of the intent distribution's Jensen–Shannon distance (base 2) from the set.</param>
/// <param name="Psi">Minimum rise of the intent distribution's population stability index.</param>
/// <param name="PValue">Significance level of the run-based tests (gold against shadow, releases).</param>
/// <param name="MissingShare">Minimum rise of the traffic share in intents that have no eval case.</param>
/// <param name="CohortJsDistance">Minimum rise of each cohort dimension's Jensen–Shannon distance.</param>
public sealed record AlarmThresholds(double JsDistance, double Psi, double PValue, double MissingShare, double CohortJsDistance)
{
    /// <summary>What a policy without <c>alarms:</c> gets, and what <c>recal init</c> writes (docs/validation.md reports them).</summary>
    public static AlarmThresholds Defaults { get; } = new(0.03, 0.1, 0.001, 0.02, 0.03);

    /// <summary>The chance that a window drawn like the reference raises any traffic alarm; shared among the tests (Bonferroni).</summary>
    public double FalseAlarmRate { get; init; } = 0.01;

    /// <summary>Minimum rise of the share of traffic farther from every taxonomy example and case than the reference's 5th percentile (<c>novelty</c>).</summary>
    public double Novelty { get; init; } = 0.03;

    /// <summary>Minimum fall of the thumbs-up rate among rated traces (<c>thumbs_up_drop</c>).</summary>
    public double ThumbsUpDrop { get; init; } = 0.03;

    /// <summary>Minimum rise of the share of traces escalated to a human (<c>escalation_rise</c>).</summary>
    public double EscalationRise { get; init; } = 0.03;

    /// <summary>Gold's pass rate above the shadow pool's by more than this (and significantly) says gold needs a refresh.</summary>
    public double GoldShadowGap { get; init; } = 0.1;

    /// <summary>A window's embedding coverage below the reference window's by at least this (and significantly) raises <c>coverage_drop</c>.</summary>
    public double CoverageDrop { get; init; } = 0.05;

    /// <summary>One stratum's coverage below its reference coverage by at least this (and significantly) raises <c>stratum_coverage_drop</c>.</summary>
    public double StratumCoverageDrop { get; init; } = 0.2;

    /// <summary>The share of traffic the classifier cannot place above the reference window's by at least this (and significantly) raises <c>unknown_share</c>.</summary>
    public double UnknownShare { get; init; } = 0.03;

    /// <summary>
    /// Two releases whose gold pass rates and online thumbs-up rates differ significantly in opposite directions raise
    /// <c>offline_online_releases</c>; the online difference must exceed this.
    /// </summary>
    public double ReleaseDivergence { get; init; } = 0.02;
}

/// <summary>The written, versioned rule that says how the eval set is drawn.</summary>
/// <param name="TrafficWindow">How much recent traffic the set is compared with and drawn from.</param>
/// <param name="RefreshCadence">How often a shadow set is drawn.</param>
/// <param name="RotationCadence">How often the holdout rotates into gold.</param>
public sealed record SamplingPolicy(
    int Version,
    string? Description,
    int Size,
    TimeSpan TrafficWindow,
    StrataPolicy Strata,
    ExclusionRules Exclusions,
    double HoldoutFraction,
    TimeSpan RefreshCadence,
    TimeSpan RotationCadence,
    PromotionRule Promotion,
    RetirementRule Retirement,
    AlarmThresholds Alarms)
{
    /// <summary>The upgrade gates <c>recal gate</c> applies.</summary>
    public GatePolicy Gates { get; init; } = GatePolicy.Defaults;

    /// <summary>Who owns the set and how often ownership passes on; null when the policy names no owner.</summary>
    public Ownership? Ownership { get; init; }

    /// <summary>
    /// The holdout's size, <c>size × holdout_fraction</c>: the holdout is a draw of its own (at rotation, or
    /// <c>recal sample --pool holdout</c>), sealed once labelled; draws for gold and shadow seal nothing.
    /// </summary>
    public int HoldoutSize => (int)Math.Round(Size * HoldoutFraction);
}

/// <summary>What a gate that cannot tell (too few cases, no traffic) does to the decision.</summary>
public enum UnknownVerdict
{
    /// <summary>An unknown gate fails the decision: nothing ships on a gate nobody could read.</summary>
    Fail,

    /// <summary>An unknown gate is reported and does not fail the decision.</summary>
    Pass,
}

/// <summary>How the candidate release met traffic: beside the baseline (shadow A/B) or on a slice of it (canary).</summary>
public enum OnlineGateMode
{
    Shadow,
    Canary,
}

/// <summary>
/// The upgrade gates (policy.yaml <c>gates:</c>, versioned with the policy; docs/gates.md): what a candidate must show
/// against a baseline before it ships.
/// </summary>
public sealed record GatePolicy
{
    public static GatePolicy Defaults { get; } = new();

    /// <summary>What an unknown gate does to the decision.</summary>
    public UnknownVerdict Unknown { get; init; } = UnknownVerdict.Fail;

    /// <summary>Confidence of every interval the gates read.</summary>
    public double Confidence { get; init; } = 0.95;

    /// <summary>Share of the candidate's layer-1 assertions that must pass.</summary>
    public double Assertions { get; init; } = 1.0;

    /// <summary>On gold, a segment may fall by at most this much (a share: 0.03 is 3 points).</summary>
    public double MaxRegression { get; init; } = 0.03;

    /// <summary>Below this many paired cases a segment with any newly failing case is unknown.</summary>
    public int MinCases { get; init; } = 10;

    /// <summary>The gold segments judged besides the whole of gold; null: difficulty, provenance, every cohort dimension and intent.</summary>
    public IReadOnlyList<string>? SegmentsBy { get; init; }

    public bool Holdout { get; init; } = true;

    public bool Shadow { get; init; } = true;

    public bool Online { get; init; } = true;

    public OnlineGateMode OnlineMode { get; init; } = OnlineGateMode.Shadow;

    /// <summary>How far (in points of each rate) the candidate release's online signals may fall behind the baseline's; null: 0.05 for a shadow A/B, 0.02 for a canary.</summary>
    public double? OnlineTolerance { get; init; }

    public double EffectiveOnlineTolerance => OnlineTolerance ?? (OnlineMode == OnlineGateMode.Canary ? 0.02 : 0.05);
}

/// <summary>
/// Who owns the eval set (policy.yaml <c>ownership:</c>): one person answers for its labels and its lifecycle, and hands
/// it over on a cadence so the set does not become one person's habits.
/// </summary>
/// <param name="Since">When the current owner took the set over.</param>
/// <param name="Rotation">How long an owner keeps it; null: no hand-over cadence.</param>
public sealed record Ownership(string Owner, DateOnly? Since, TimeSpan? Rotation)
{
    /// <summary>When the set is due to change hands; null without a start date or a cadence.</summary>
    public DateTimeOffset? HandOverDue => Since is { } since && Rotation is { } every ? new DateTimeOffset(since.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) + every : null;
}
