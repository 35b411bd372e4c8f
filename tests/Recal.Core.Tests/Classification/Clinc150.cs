using System.Text.Json;
using Recal.Domain;

namespace Recal.Core.Tests.Classification;

/// <summary>The CLINC150 dataset (CC BY 3.0, Larson et al. 2019), read from ../shared/data.</summary>
internal sealed class Clinc150
{
    public const string OutOfScope = "out_of_scope";

    private static readonly Lazy<Clinc150> Shared = new(() => new Clinc150(RepositoryPaths.Clinc150));

    private Clinc150(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        Split Read(string name) => [.. document.RootElement.GetProperty(name).EnumerateArray()
            .Select(row => (row[0].GetString()!, row[1].GetString() == "oos" ? OutOfScope : row[1].GetString()!))];
        Train = [.. Read("train"), .. Read("oos_train")];
        Test = [.. Read("test"), .. Read("oos_test")];
    }

    public static Clinc150 Data => Shared.Value;

    public IReadOnlyList<(string Text, string Intent)> Train { get; }

    public IReadOnlyList<(string Text, string Intent)> Test { get; }

    /// <summary>A taxonomy whose intents carry the first <paramref name="perIntent"/> training examples each, in file order.</summary>
    public Taxonomy Taxonomy(int perIntent, double unknownBelow = 0) => new(
        1,
        [.. Train.GroupBy(r => r.Intent).Select(g => new IntentDefinition(g.Key, null, [.. g.Take(perIntent).Select(r => r.Text)], [], null))],
        [],
        new ClassifierSettings(unknownBelow));

    private sealed class Split : List<(string, string)>;
}
