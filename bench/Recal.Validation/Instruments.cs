namespace Recal.Validation;

/// <summary>
/// Groups the drift alarms by what they look at. Names this harness does not know (an instrument added to the product
/// later) are their own family, so a run never fails on them and the report lists them as they come.
/// </summary>
public static class Instruments
{
    /// <summary>The intent mix moved (js_distance, psi).</summary>
    public const string Mix = "mix";

    /// <summary>Traffic in intents the set lacks (missing_share).</summary>
    public const string Missing = "missing";

    /// <summary>Embedding coverage fell, overall or in a stratum (coverage_drop, stratum_coverage_drop).</summary>
    public const string Coverage = "coverage";

    /// <summary>The classifier's unknown share grew (unknown_share).</summary>
    public const string Unknown = "unknown";

    /// <summary>Traffic far from every taxonomy example and eval case: out-of-taxonomy requests (novelty).</summary>
    public const string Novelty = "novelty";

    /// <summary>A cohort dimension moved or met a value the taxonomy does not list (cohort_js_distance, any cohort_*).</summary>
    public const string Cohort = "cohort";

    /// <summary>Every instrument name known today, in the order the report lists them; others are appended as they are seen.</summary>
    public static readonly IReadOnlyList<string> Known =
        ["js_distance", "psi", "missing_share", "coverage_drop", "stratum_coverage_drop", "unknown_share", "novelty", "cohort_js_distance"];

    public static string FamilyOf(string instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        return instrument switch
        {
            "js_distance" or "psi" => Mix,
            "missing_share" => Missing,
            "coverage_drop" or "stratum_coverage_drop" => Coverage,
            "unknown_share" => Unknown,
            "novelty" => Novelty,
            _ when instrument.StartsWith("cohort_", StringComparison.Ordinal) => Cohort,
            _ => instrument,
        };
    }
}
