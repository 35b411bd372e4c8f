namespace Recal.Validation;

/// <summary>
/// An intent dataset split the way the scenarios use it: per intent, its first training queries are the taxonomy's
/// examples (they train the built-in classifier) and every other query is traffic. Intents roll up into groups
/// (CLINC150's domains, HWU64's scenarios).
/// </summary>
public sealed class IntentCorpus
{
    private IntentCorpus(Dictionary<string, string> groupOf, Dictionary<string, List<string>> examples, Dictionary<string, List<string>> traffic)
    {
        GroupOf = groupOf;
        Examples = examples;
        Traffic = traffic;
    }

    /// <summary>Intent → group.</summary>
    public IReadOnlyDictionary<string, string> GroupOf { get; }

    public IReadOnlyDictionary<string, List<string>> Examples { get; }

    /// <summary>Intent → the queries traffic is drawn from; never a taxonomy example.</summary>
    public IReadOnlyDictionary<string, List<string>> Traffic { get; }

    public IReadOnlyList<string> IntentsOf(string group) => [.. GroupOf.Where(kv => kv.Value == group).Select(kv => kv.Key).Order(StringComparer.Ordinal)];

    public IReadOnlyList<string> IntentsOf(IEnumerable<string> groups) => [.. groups.SelectMany(IntentsOf)];

    /// <summary>Collects a dataset's rows in file order; the first <paramref name="examplesPerIntent"/> training rows of each intent become its examples.</summary>
    public sealed class Builder(int examplesPerIntent)
    {
        private readonly Dictionary<string, string> _groupOf = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<string>> _examples = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<string>> _traffic = new(StringComparer.Ordinal);

        /// <summary>Declares an intent (in a group) before or without any row.</summary>
        public Builder Intent(string intent, string group)
        {
            if (_groupOf.TryAdd(intent, group))
            {
                _examples[intent] = [];
                _traffic[intent] = [];
            }

            return this;
        }

        public Builder Add(string intent, string group, string text, bool training)
        {
            Intent(intent, group);
            if (training && _examples[intent].Count < examplesPerIntent)
            {
                _examples[intent].Add(text);
            }
            else
            {
                _traffic[intent].Add(text);
            }

            return this;
        }

        public IntentCorpus Build() => new(_groupOf, _examples, _traffic);
    }
}
