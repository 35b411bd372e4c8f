using System.Globalization;
using System.Text;
using Recal.Domain;

namespace Recal.Project;

/// <summary>Names for proposed intents and cohort dimensions: snake_case, unique, and valid in taxonomy.yaml.</summary>
public static class ProposalNames
{
    /// <summary>Distinctive words an intent name is made of (more only to tell two intents apart).</summary>
    public const int WordsPerName = 2;

    /// <summary>
    /// One name per intent, in order, from its distinctive words (most distinctive first): the first
    /// <see cref="WordsPerName"/> joined by underscores; when an earlier intent has that name, one more word; then a
    /// number. An intent without words is <c>topic_N</c> (N its position, from 1). Never <c>unknown</c>.
    /// </summary>
    public static IReadOnlyList<string> Intents(IReadOnlyList<IReadOnlyList<string>> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var taken = new HashSet<string>(StringComparer.Ordinal) { Taxonomy.UnknownIntent };
        var names = new List<string>(words.Count);
        for (var i = 0; i < words.Count; i++)
        {
            var parts = words[i].Select(Snake).Where(w => w.Length > 0).Distinct(StringComparer.Ordinal).ToList();
            string? name = null;
            for (var n = Math.Min(WordsPerName, parts.Count); n <= parts.Count && n > 0 && name is null; n++)
            {
                var candidate = Valid(string.Join('_', parts.Take(n)));
                if (!taken.Contains(candidate))
                {
                    name = candidate;
                }
            }

            if (name is null)
            {
                var plain = parts.Count == 0 ? string.Create(CultureInfo.InvariantCulture, $"topic_{i + 1}") : Valid(string.Join('_', parts.Take(WordsPerName)));
                name = taken.Contains(plain) ? Numbered(plain, taken) : plain;
            }

            taken.Add(name);
            names.Add(name);
        }

        return names;
    }

    /// <summary>A cohort dimension's name for a metadata field: its snake_case, never <c>intent</c>, unique among <paramref name="taken"/>.</summary>
    public static string Cohort(string field, ISet<string> taken)
    {
        ArgumentNullException.ThrowIfNull(field);
        ArgumentNullException.ThrowIfNull(taken);
        var name = Snake(field);
        name = name.Length == 0 ? "cohort" : Valid(name);
        if (name == "intent")
        {
            name = "intent_field";
        }

        name = taken.Contains(name) ? Numbered(name, taken) : name;
        taken.Add(name);
        return name;
    }

    /// <summary>Lower-case letters and digits, every other run of characters one underscore, none at the ends.</summary>
    public static string Snake(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var name = new StringBuilder(text.Length);
        foreach (var c in text.Normalize(NormalizationForm.FormKC))
        {
            if (char.IsLetterOrDigit(c))
            {
                name.Append(char.ToLowerInvariant(c));
            }
            else if (name.Length > 0 && name[^1] != '_')
            {
                name.Append('_');
            }
        }

        return name.ToString().Trim('_');
    }

    // A name starts with a letter, and is not the reserved intent.
    private static string Valid(string name) =>
        name.Length == 0 || !char.IsLetter(name[0]) ? "intent_" + name
        : name == Taxonomy.UnknownIntent ? name + "_intent"
        : name;

    private static string Numbered(string name, ISet<string> taken)
    {
        for (var n = 2; ; n++)
        {
            var candidate = string.Create(CultureInfo.InvariantCulture, $"{name}_{n}");
            if (!taken.Contains(candidate))
            {
                return candidate;
            }
        }
    }
}
