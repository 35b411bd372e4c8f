namespace Recal.Judging;

/// <summary>The combined verdict of several judges on one output.</summary>
/// <param name="Scores">Dimension-wise median of the valid judges' scores; null when no judge gave a valid verdict.</param>
/// <param name="Passed">The rubric's pass rule on the median scores; false when there are none (a failed judge is never a pass).</param>
/// <param name="Failures">Judges whose replies could not be used.</param>
/// <param name="NeedsReview">Two valid judges differ by more than one point on some dimension: a human should look.</param>
/// <param name="Disagreements">The dimensions where they did.</param>
public sealed record EnsembleVerdict(
    IReadOnlyDictionary<string, double>? Scores,
    bool Passed,
    IReadOnlyList<JudgeVerdict> Verdicts,
    int Failures,
    bool NeedsReview,
    IReadOnlyList<string> Disagreements);

/// <summary>Combines judge verdicts: median per dimension, disagreement beyond one point flagged for review.</summary>
public static class JudgeEnsemble
{
    /// <summary>Judges further apart than this on a dimension send the case to human review.</summary>
    public const int MaxSpread = 1;

    public static EnsembleVerdict Combine(Rubric rubric, IReadOnlyList<JudgeVerdict> verdicts)
    {
        ArgumentNullException.ThrowIfNull(rubric);
        ArgumentNullException.ThrowIfNull(verdicts);
        var valid = verdicts.Where(v => v.IsValid).ToList();
        var failures = verdicts.Count - valid.Count;
        if (valid.Count == 0)
        {
            return new EnsembleVerdict(null, false, verdicts, failures, false, []);
        }

        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        var disagreements = new List<string>();
        foreach (var dimension in rubric.Dimensions)
        {
            var values = valid.Select(v => v.Scores![dimension.Name]).Order().ToList();
            scores[dimension.Name] = Median(values);
            if (values[^1] - values[0] > MaxSpread)
            {
                disagreements.Add(dimension.Name);
            }
        }

        return new EnsembleVerdict(scores, rubric.Passes(scores), verdicts, failures, disagreements.Count > 0, disagreements);
    }

    /// <summary>The middle value; with an even count, the mean of the two middle values.</summary>
    public static double Median(IReadOnlyList<int> sorted)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var middle = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2.0;
    }
}
