using System.Text.Json;

namespace Recal.Validation;

/// <summary>One MT-Bench question: its two user turns.</summary>
public sealed record MtBenchQuestion(int Id, string Category, string FirstTurn, string SecondTurn);

/// <summary>The 80 MT-Bench questions by category (10 each), in question order.</summary>
public sealed class MtBenchCorpus
{
    private MtBenchCorpus(Dictionary<string, List<MtBenchQuestion>> byCategory) => ByCategory = byCategory;

    public IReadOnlyDictionary<string, List<MtBenchQuestion>> ByCategory { get; }

    public IReadOnlyList<string> Categories => [.. ByCategory.Keys.Order(StringComparer.Ordinal)];

    public static MtBenchCorpus Load(string path)
    {
        var byCategory = new Dictionary<string, List<MtBenchQuestion>>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path).Where(l => l.Length > 0))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            var turns = root.GetProperty("turns");
            var question = new MtBenchQuestion(root.GetProperty("question_id").GetInt32(), root.GetProperty("category").GetString()!, turns[0].GetString()!, turns[1].GetString()!);
            if (!byCategory.TryGetValue(question.Category, out var list))
            {
                byCategory[question.Category] = list = [];
            }

            list.Add(question);
        }

        foreach (var list in byCategory.Values)
        {
            list.Sort((a, b) => a.Id.CompareTo(b.Id));
        }

        return new MtBenchCorpus(byCategory);
    }
}
