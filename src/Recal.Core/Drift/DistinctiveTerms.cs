using Recal.Scoring;

namespace Recal.Drift;

/// <summary>
/// The words that set a group of traces apart from the window they come from. A trace's words are its lower-cased
/// tokens (<see cref="TextTokens"/>) with at least two characters and one letter, English function words removed;
/// each counts once per trace. A word's score is <c>p · ln(p / q)</c>, p the (weighted) share of the group's traces
/// containing it and q the share of the window's: the word's term in the Kullback–Leibler divergence of the group
/// from the window, large for words both common in the group and rarer elsewhere. Words in fewer than
/// <see cref="MinTraces"/> of the group's traces, or no more common in it than in the window, are not candidates.
/// </summary>
internal sealed class DistinctiveTerms
{
    /// <summary>A word must appear in at least this many of the group's traces: one trace's idiosyncrasy is not a topic.</summary>
    public const int MinTraces = 2;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "about", "above", "after", "again", "against", "all", "am", "and", "any", "are", "as", "at", "be", "because",
        "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing",
        "don", "down", "during", "each", "few", "for", "from", "further", "get", "got", "had", "has", "have", "having",
        "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "if", "im", "in", "into", "is", "it",
        "its", "itself", "just", "let", "like", "ll", "me", "more", "most", "my", "myself", "need", "no", "nor", "not",
        "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own",
        "please", "re", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
        "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up",
        "ve", "very", "want", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why",
        "will", "with", "would", "you", "your", "yours", "yourself", "yourselves",
    };

    private readonly IReadOnlyList<HashSet<string>> _words;
    private readonly IReadOnlyList<double> _weights;
    private readonly Dictionary<string, double> _windowShare = new(StringComparer.Ordinal);

    /// <param name="texts">The window's (measured) traces.</param>
    /// <param name="weights">Each trace's weight: 1 in a census, the traffic it stands for in a sample.</param>
    public DistinctiveTerms(IReadOnlyList<string> texts, IReadOnlyList<double> weights)
    {
        _words = [.. texts.Select(Words)];
        _weights = weights;
        var total = weights.Sum();
        for (var i = 0; i < _words.Count; i++)
        {
            foreach (var word in _words[i])
            {
                _windowShare[word] = _windowShare.GetValueOrDefault(word) + (weights[i] / total);
            }
        }
    }

    /// <summary>A trace's distinct words.</summary>
    public static HashSet<string> Words(string text) =>
        [.. TextTokens.Tokenize(text).Where(t => t.Length >= 2 && t.Any(char.IsLetter) && !StopWords.Contains(t))];

    /// <summary>The <paramref name="count"/> most distinctive words of the traces at <paramref name="members"/>.</summary>
    public IReadOnlyList<DistinctiveTerm> Top(IReadOnlyList<int> members, int count)
    {
        var weight = new Dictionary<string, double>(StringComparer.Ordinal);
        var traces = new Dictionary<string, int>(StringComparer.Ordinal);
        var total = 0.0;
        foreach (var i in members)
        {
            total += _weights[i];
            foreach (var word in _words[i])
            {
                weight[word] = weight.GetValueOrDefault(word) + _weights[i];
                traces[word] = traces.GetValueOrDefault(word) + 1;
            }
        }

        return [.. weight
            .Where(w => traces[w.Key] >= MinTraces)
            .Select(w => (Term: w.Key, P: w.Value / total, Q: _windowShare[w.Key]))
            .Where(t => t.P > t.Q)
            .Select(t => new DistinctiveTerm(t.Term, t.P, t.Q, t.P * Math.Log(t.P / t.Q)))
            .OrderByDescending(t => t.Score)
            .ThenBy(t => t.Term, StringComparer.Ordinal)
            .Take(count)];
    }
}
