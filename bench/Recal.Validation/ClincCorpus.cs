using System.Text.Json;

namespace Recal.Validation;

/// <summary>
/// CLINC150 split the way the scenarios use it: per intent, the first training queries are the taxonomy's examples (they
/// train the built-in classifier) and every other query (the rest of train, val and test) is traffic.
/// </summary>
public sealed class ClincCorpus
{
    /// <summary>Training queries per intent that become taxonomy examples, as in the bundled sample.</summary>
    public const int ExamplesPerIntent = 20;

    public const string OutOfScope = "out_of_scope";

    private ClincCorpus(Dictionary<string, string> domainOf, Dictionary<string, List<string>> examples, Dictionary<string, List<string>> traffic)
    {
        DomainOf = domainOf;
        Examples = examples;
        Traffic = traffic;
    }

    /// <summary>Intent → domain, for every intent and <see cref="OutOfScope"/>.</summary>
    public IReadOnlyDictionary<string, string> DomainOf { get; }

    public IReadOnlyDictionary<string, List<string>> Examples { get; }

    /// <summary>Intent → the queries traffic is drawn from; never a taxonomy example.</summary>
    public IReadOnlyDictionary<string, List<string>> Traffic { get; }

    public IReadOnlyList<string> IntentsOf(string domain) => [.. DomainOf.Where(kv => kv.Value == domain).Select(kv => kv.Key).Order(StringComparer.Ordinal)];

    public static ClincCorpus Load(string folder)
    {
        using var domains = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "domains.json")));
        var domainOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var domain in domains.RootElement.EnumerateObject())
        {
            foreach (var intent in domain.Value.EnumerateArray())
            {
                domainOf[intent.GetString()!] = domain.Name;
            }
        }

        domainOf[OutOfScope] = OutOfScope;
        var examples = domainOf.Keys.ToDictionary(k => k, _ => new List<string>(), StringComparer.Ordinal);
        var traffic = domainOf.Keys.ToDictionary(k => k, _ => new List<string>(), StringComparer.Ordinal);
        using var full = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "data_full.json")));
        foreach (var split in new[] { "train", "oos_train", "val", "oos_val", "test", "oos_test" })
        {
            var training = split.EndsWith("train", StringComparison.Ordinal);
            foreach (var row in full.RootElement.GetProperty(split).EnumerateArray())
            {
                var intent = row[1].GetString() == "oos" ? OutOfScope : row[1].GetString()!;
                var text = row[0].GetString()!;
                if (training && examples[intent].Count < ExamplesPerIntent)
                {
                    examples[intent].Add(text);
                }
                else
                {
                    traffic[intent].Add(text);
                }
            }
        }

        return new ClincCorpus(domainOf, examples, traffic);
    }
}
