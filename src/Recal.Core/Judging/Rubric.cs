namespace Recal.Judging;

/// <summary>One judged dimension: an integer scale and what each anchor point means.</summary>
public sealed record RubricDimension(string Name, string? Description, int Min, int Max, IReadOnlyDictionary<int, string> Anchors);

/// <summary>How dimension scores become a verdict.</summary>
/// <param name="AllAtLeast">Every dimension's score must reach this (null: no such rule).</param>
/// <param name="MeanAtLeast">The mean of the dimension scores must reach this (null: no such rule).</param>
public sealed record PassRule(double? AllAtLeast, double? MeanAtLeast);

/// <summary>Versioned judging criteria, rendered into the judge prompt (docs/judging.md).</summary>
public sealed record Rubric(string Name, int Version, string? Instructions, IReadOnlyList<RubricDimension> Dimensions, PassRule Pass)
{
    /// <summary>The rubric's identity in suite versions and caches: name and version.</summary>
    public string Id => $"{Name}@v{Version}";

    public bool Passes(IReadOnlyDictionary<string, double> scores)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (Pass.AllAtLeast is { } all && Dimensions.Any(d => scores[d.Name] < all))
        {
            return false;
        }

        return Pass.MeanAtLeast is not { } mean || Dimensions.Average(d => scores[d.Name]) >= mean;
    }
}
