using System.Text.Json;

namespace Recal.Samples;

/// <summary>The parts of CLINC150 the sample uses: per intent, training examples and held-out texts.</summary>
internal sealed class Clinc
{
    private Clinc(Dictionary<string, string> domainOf, Dictionary<string, List<string>> train, Dictionary<string, List<string>> heldOut)
    {
        DomainOf = domainOf;
        Train = train;
        HeldOut = heldOut;
    }

    /// <summary>Intent → domain, for the sample's domains and out_of_scope.</summary>
    public Dictionary<string, string> DomainOf { get; }

    /// <summary>Intent → training examples (the taxonomy's examples come from here).</summary>
    public Dictionary<string, List<string>> Train { get; }

    /// <summary>Intent → validation and test texts (traffic comes from here, never from training text).</summary>
    public Dictionary<string, List<string>> HeldOut { get; }

    public IEnumerable<string> IntentsOf(string domain) => DomainOf.Where(kv => kv.Value == domain).Select(kv => kv.Key).Order(StringComparer.Ordinal);

    public static Clinc Load(string folder)
    {
        using var domains = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "domains.json")));
        var wanted = Scenario.StableDomains.Concat([Scenario.Travel, Scenario.Auto]).ToHashSet();
        var domainOf = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var domain in domains.RootElement.EnumerateObject().Where(d => wanted.Contains(d.Name)))
        {
            foreach (var intent in domain.Value.EnumerateArray())
            {
                domainOf[intent.GetString()!] = domain.Name;
            }
        }

        domainOf[Scenario.OutOfScope] = Scenario.OutOfScope;
        using var full = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "data_full.json")));
        Dictionary<string, List<string>> Read(params string[] splits)
        {
            var byIntent = domainOf.Keys.ToDictionary(k => k, _ => new List<string>(), StringComparer.Ordinal);
            foreach (var split in splits)
            {
                foreach (var row in full.RootElement.GetProperty(split).EnumerateArray())
                {
                    var intent = row[1].GetString() == "oos" ? Scenario.OutOfScope : row[1].GetString()!;
                    if (byIntent.TryGetValue(intent, out var texts))
                    {
                        texts.Add(row[0].GetString()!);
                    }
                }
            }

            return byIntent;
        }

        return new Clinc(domainOf, Read("train", "oos_train"), Read("val", "test", "oos_val", "oos_test"));
    }
}
