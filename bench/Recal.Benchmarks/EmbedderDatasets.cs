using System.Text.Json;

namespace Recal.Benchmarks;

/// <summary>A labelled text.</summary>
internal readonly record struct LabelledText(string Text, string Intent);

/// <summary>
/// One dataset cut as a taxonomy would hold it: an index of the first examples of each intent (the "taxonomy" and the
/// "gold set"), held-out queries of the same intents (the "traffic"), and queries of no intent, where the dataset has them.
/// </summary>
internal sealed record EmbedderDataset(string Name, IReadOnlyList<LabelledText> Index, IReadOnlyList<LabelledText> Queries, IReadOnlyList<string> OutOfScope)
{
    /// <summary>CLINC150 (data_full.json): the first <paramref name="perIntent"/> training queries of each of the 150 intents; the test split's 4,500 in-scope queries; its 1,000 out-of-scope ones.</summary>
    public static EmbedderDataset Clinc150(string sharedData, int perIntent)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(sharedData, "clinc150", "data_full.json")));
        static List<LabelledText> Read(JsonElement split) => [.. split.EnumerateArray().Select(e => new LabelledText(e[0].GetString()!, e[1].GetString()!))];
        var train = Read(json.RootElement.GetProperty("train"));
        var test = Read(json.RootElement.GetProperty("test"));
        var oos = Read(json.RootElement.GetProperty("oos_test")).Select(t => t.Text).ToList();
        return new("CLINC150", First(train, perIntent), test, oos);
    }

    /// <summary>HWU64 (fold 1): the first <paramref name="perIntent"/> training utterances of each of the 64 intents (or all it has); the 1,076 test utterances.</summary>
    public static EmbedderDataset Hwu64(string sharedData, int perIntent)
    {
        static List<LabelledText> Read(string path) => [.. File.ReadLines(path).Where(l => l.Length > 0).Select(l =>
        {
            using var json = JsonDocument.Parse(l);
            return new LabelledText(json.RootElement.GetProperty("text").GetString()!, json.RootElement.GetProperty("intent").GetString()!);
        })];
        var train = Read(Path.Combine(sharedData, "hwu64", "train.jsonl"));
        var test = Read(Path.Combine(sharedData, "hwu64", "test.jsonl"));
        var known = train.Select(t => t.Intent).ToHashSet(StringComparer.Ordinal);
        return new("HWU64", First(train, perIntent), [.. test.Where(t => known.Contains(t.Intent))], []);
    }

    /// <summary>MT-Bench: the first turns of its 80 questions, 8 categories of 10; the first <paramref name="perCategory"/> of each category (by id) are the index, the rest the queries.</summary>
    public static EmbedderDataset MtBench(string sharedData, int perCategory)
    {
        var questions = File.ReadLines(Path.Combine(sharedData, "mt-bench", "fastchat", "question.jsonl")).Where(l => l.Length > 0).Select(l =>
        {
            using var json = JsonDocument.Parse(l);
            var root = json.RootElement;
            return (Id: root.GetProperty("question_id").GetInt32(), Text: new LabelledText(root.GetProperty("turns")[0].GetString()!, root.GetProperty("category").GetString()!));
        }).OrderBy(q => q.Id).Select(q => q.Text).ToList();
        var index = First(questions, perCategory);
        var indexSet = index.ToHashSet();
        return new("MT-Bench", index, [.. questions.Where(q => !indexSet.Contains(q))], []);
    }

    private static List<LabelledText> First(IEnumerable<LabelledText> texts, int perIntent) =>
        [.. texts.GroupBy(t => t.Intent, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).SelectMany(g => g.Take(perIntent))];
}
