namespace Recal.Domain;

/// <summary>An intent category.</summary>
/// <param name="Group">An optional grouping (a domain) used for roll-ups.</param>
public sealed record IntentDefinition(string Name, string? Description, IReadOnlyList<string> Examples, IReadOnlyList<string> Keywords, string? Group);

/// <summary>A cohort dimension: which trace metadata field defines it and which values it may take.</summary>
/// <param name="Field">The metadata field read from traces (defaults to the dimension name).</param>
/// <param name="Values">Allowed values; empty means any value is accepted.</param>
/// <param name="Missing">The value used when a trace lacks the field or has a value not in <paramref name="Values"/>.</param>
public sealed record CohortDimension(string Name, string Field, IReadOnlyList<string> Values, string Missing);

/// <summary>The settings of the built-in intent classifier.</summary>
/// <param name="UnknownBelow">Predictions with a confidence below this become <see cref="Taxonomy.UnknownIntent"/>; ignored when <see cref="Calibrated"/>.</param>
public sealed record ClassifierSettings(double UnknownBelow = 0.3)
{
    /// <summary>The held-out share of in-taxonomy examples a calibrated threshold labels unknown (docs/classifier.md#the-unknown-threshold).</summary>
    public const double DefaultUnknownRate = 0.05;

    /// <summary>Whether the threshold is calibrated on held-out examples (<c>unknown_below: auto</c>) instead of fixed.</summary>
    public bool Calibrated { get; init; }

    /// <summary>With <see cref="Calibrated"/>: the share of held-out in-taxonomy examples the threshold may label unknown.</summary>
    public double UnknownRate { get; init; } = DefaultUnknownRate;

    /// <summary>The calibrated default: what a taxonomy without <c>unknown_below</c> gets.</summary>
    public static ClassifierSettings Auto { get; } = new() { Calibrated = true };
}

/// <summary>Intents and cohort dimensions that traces and cases are classified into.</summary>
public sealed record Taxonomy(int Version, IReadOnlyList<IntentDefinition> Intents, IReadOnlyList<CohortDimension> Cohorts, ClassifierSettings Classifier)
{
    /// <summary>The intent of a trace the classifier could not place confidently.</summary>
    public const string UnknownIntent = "unknown";

    public IntentDefinition? FindIntent(string name) => Intents.FirstOrDefault(i => string.Equals(i.Name, name, StringComparison.Ordinal));
}
