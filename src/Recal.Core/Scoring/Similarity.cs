namespace Recal.Scoring;

/// <summary>Token-level similarity between an output and a reference (docs/scoring.md).</summary>
public static class Similarity
{
    /// <summary>
    /// Token F1: the harmonic mean of precision and recall of the multiset of shared tokens. Both empty: 1;
    /// one empty: 0.
    /// </summary>
    public static double TokenF1(IReadOnlyList<string> candidate, IReadOnlyList<string> reference)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(reference);
        if (candidate.Count == 0 || reference.Count == 0)
        {
            return candidate.Count == reference.Count ? 1 : 0;
        }

        var counts = reference.GroupBy(t => t, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var shared = 0;
        foreach (var token in candidate)
        {
            if (counts.TryGetValue(token, out var left) && left > 0)
            {
                counts[token] = left - 1;
                shared++;
            }
        }

        if (shared == 0)
        {
            return 0;
        }

        var precision = (double)shared / candidate.Count;
        var recall = (double)shared / reference.Count;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>
    /// ROUGE-L F-measure (β = 1): from the longest common subsequence of tokens, LCS/|candidate| and
    /// LCS/|reference| combined harmonically. Both empty: 1; one empty: 0.
    /// </summary>
    public static double RougeL(IReadOnlyList<string> candidate, IReadOnlyList<string> reference)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(reference);
        if (candidate.Count == 0 || reference.Count == 0)
        {
            return candidate.Count == reference.Count ? 1 : 0;
        }

        var lcs = LongestCommonSubsequence(candidate, reference);
        if (lcs == 0)
        {
            return 0;
        }

        var precision = (double)lcs / candidate.Count;
        var recall = (double)lcs / reference.Count;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>Length of the longest common subsequence, in O(|a|·|b|) time and O(|b|) memory.</summary>
    public static int LongestCommonSubsequence(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var previous = new int[b.Count + 1];
        var current = new int[b.Count + 1];
        for (var i = 1; i <= a.Count; i++)
        {
            for (var j = 1; j <= b.Count; j++)
            {
                current[j] = string.Equals(a[i - 1], b[j - 1], StringComparison.Ordinal)
                    ? previous[j - 1] + 1
                    : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Count];
    }
}
