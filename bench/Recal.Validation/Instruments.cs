namespace Recal.Validation;

/// <summary>Groups the drift alarms by what they look at.</summary>
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

    public static string FamilyOf(string instrument) => instrument switch
    {
        "js_distance" or "psi" => Mix,
        "missing_share" => Missing,
        "coverage_drop" or "stratum_coverage_drop" => Coverage,
        "unknown_share" => Unknown,
        "cohort_js_distance" => "cohort",
        _ => instrument,
    };
}
