using System.Text.Json;

namespace Recal.Validation;

/// <summary>
/// HWU64 (NLU-Evaluation-Data, fold 1) as an <see cref="IntentCorpus"/>: 64 intents in 18 scenarios (the groups);
/// examples come from <c>train.jsonl</c>, traffic from the rest of it and <c>test.jsonl</c>.
/// </summary>
public static class Hwu64Corpus
{
    /// <summary>As for CLINC150; HWU64's smallest intent (<c>iot_hue_lighton</c>, 38 rows) keeps 18 for traffic.</summary>
    public const int ExamplesPerIntent = 20;

    public static IntentCorpus Load(string folder)
    {
        var corpus = new IntentCorpus.Builder(ExamplesPerIntent);
        foreach (var (file, training) in new[] { ("train.jsonl", true), ("test.jsonl", false) })
        {
            foreach (var line in File.ReadLines(Path.Combine(folder, file)).Where(l => l.Length > 0))
            {
                using var json = JsonDocument.Parse(line);
                var row = json.RootElement;
                corpus.Add(row.GetProperty("intent").GetString()!, row.GetProperty("scenario").GetString()!, row.GetProperty("text").GetString()!, training);
            }
        }

        return corpus.Build();
    }
}
