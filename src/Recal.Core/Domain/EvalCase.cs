using System.Text.Json;
using Recal.Diagnostics;

namespace Recal.Domain;

/// <summary>Where a case lives in the set's lifecycle.</summary>
public enum Pool
{
    /// <summary>The trusted, release-gating set.</summary>
    Gold,

    /// <summary>Sealed: read only at rotation.</summary>
    Holdout,

    /// <summary>Freshly sampled from recent traffic; not yet trusted.</summary>
    Shadow,

    /// <summary>No longer used for scoring.</summary>
    Retired,
}

/// <summary>How good a reference answer is: matching a high one earns more credit than a borderline one.</summary>
public enum ReferenceGrade
{
    High,
    Borderline,
}

public enum Difficulty
{
    Easy,
    Medium,
    Hard,
}

public enum ProvenanceKind
{
    /// <summary>Sampled from a production trace.</summary>
    Sampled,

    /// <summary>Written from a bug report.</summary>
    BugReport,

    /// <summary>Generated.</summary>
    Synthetic,

    /// <summary>Written by hand for another reason.</summary>
    Manual,
}

public sealed record Reference(string Text, ReferenceGrade Grade);

/// <summary>A deterministic check on an output. <paramref name="Type"/> names the check; the rest are its arguments.</summary>
public sealed record Assertion(string Type, JsonElement? Value, IReadOnlyDictionary<string, JsonElement> Arguments);

public sealed record Provenance(ProvenanceKind Kind, string? TraceId = null, string? Note = null);

/// <summary>One eval case.</summary>
public sealed record EvalCase(
    string Id,
    TraceInput Input,
    IReadOnlyList<Reference> References,
    IReadOnlyList<Assertion> Assertions,
    string Intent,
    IReadOnlyDictionary<string, string> Cohort,
    Difficulty? Difficulty,
    Provenance Provenance,
    DateOnly Added,
    DateOnly? ValidUntil,
    Pool Pool,
    IReadOnlyList<string> Tags,
    SourceLocation Location);
