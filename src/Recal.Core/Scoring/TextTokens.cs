using System.Text;

namespace Recal.Scoring;

/// <summary>
/// The normalisation used by the similarity metrics: lower-case, punctuation removed, the articles a/an/the
/// dropped, whitespace collapsed (as in the SQuAD evaluation script), then split on whitespace.
/// </summary>
public static class TextTokens
{
    private static readonly HashSet<string> Articles = new(StringComparer.Ordinal) { "a", "an", "the" };

    public static IReadOnlyList<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cleaned = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            cleaned.Append(char.IsPunctuation(c) || char.IsSymbol(c) ? ' ' : char.ToLowerInvariant(c));
        }

        return [.. cleaned.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Where(t => !Articles.Contains(t))];
    }
}
