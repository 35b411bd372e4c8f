using System.Text.Json;

namespace Recal.Validation;

/// <summary>
/// CLINC150 as an <see cref="IntentCorpus"/>: groups are its ten domains, and its out-of-scope queries form an intent
/// (and a group) of their own; examples come from <c>train</c>, traffic from the rest of train, <c>val</c> and <c>test</c>.
/// </summary>
public static class ClincCorpus
{
    /// <summary>Training queries per intent that become taxonomy examples, as in the bundled sample.</summary>
    public const int ExamplesPerIntent = 20;

    public const string OutOfScope = "out_of_scope";

    public static IntentCorpus Load(string folder)
    {
        var corpus = new IntentCorpus.Builder(ExamplesPerIntent);
        using var domains = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "domains.json")));
        var domainOf = new Dictionary<string, string>(StringComparer.Ordinal) { ["oos"] = OutOfScope };
        foreach (var domain in domains.RootElement.EnumerateObject())
        {
            foreach (var intent in domain.Value.EnumerateArray())
            {
                domainOf[intent.GetString()!] = domain.Name;
            }
        }

        using var full = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "data_full.json")));
        foreach (var split in new[] { "train", "oos_train", "val", "oos_val", "test", "oos_test" })
        {
            var training = split.EndsWith("train", StringComparison.Ordinal);
            foreach (var row in full.RootElement.GetProperty(split).EnumerateArray())
            {
                var label = row[1].GetString()!;
                corpus.Add(label == "oos" ? OutOfScope : label, domainOf[label], row[0].GetString()!, training);
            }
        }

        return corpus.Build();
    }
}
