namespace Recal.Text;

/// <summary>Finds the nearest valid spelling of a mistyped name (Damerau–Levenshtein, optimal string alignment).</summary>
public static class Spelling
{
    /// <summary>Returns the candidate closest to <paramref name="input"/>, or null when none is plausibly meant.</summary>
    public static string? Nearest(string input, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(candidates);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(input.ToLowerInvariant(), candidate.ToLowerInvariant());
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        // Accept up to a third of the longer word's length in edits, at least one.
        return best is not null && bestDistance <= Math.Max(1, Math.Max(input.Length, best.Length) / 3) ? best : null;
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions.</summary>
    public static int Distance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }

    /// <summary>A hint naming the nearest spelling if there is one, else listing the allowed values.</summary>
    public static string Hint(string input, IReadOnlyCollection<string> allowed, int maxListed = 12)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        var nearest = Nearest(input, allowed);
        var listed = string.Join(", ", allowed.Take(maxListed)) + (allowed.Count > maxListed ? $", … ({allowed.Count} in all)" : string.Empty);
        return nearest is null ? $"allowed: {listed}" : $"did you mean '{nearest}'? allowed: {listed}";
    }
}
