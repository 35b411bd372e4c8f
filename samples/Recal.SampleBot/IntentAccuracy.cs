using System.Globalization;
using System.Text.Json;
using Recal.Domain;

namespace Recal.Samples.Bot;

/// <summary>How often a model answered with the right intent on a set of labelled texts.</summary>
public sealed record AccuracyFigure(string Model, string Set, int Correct, int Total)
{
    public double Accuracy => Total == 0 ? 0 : Correct / (double)Total;

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Model,-26} {Set,-30} {Accuracy,7:P1}  ({Correct}/{Total})");
}

/// <summary>
/// Measures the models' intent accuracy (a decline counts as predicting out-of-scope) on the gold inputs and on
/// CLINC150's test split, showing the gold-tuned model's score is an artefact of the gold set.
/// </summary>
public static class IntentAccuracy
{
    /// <summary>CLINC150's test split (test and oos_test) for the taxonomy's intents, oos read as out-of-scope.</summary>
    public static IReadOnlyList<(string Text, string Intent)> ClincTest(string clincFolder, Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(clincFolder);
        ArgumentNullException.ThrowIfNull(taxonomy);
        var intents = taxonomy.Intents.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(clincFolder, "data_full.json")));
        return [.. new[] { "test", "oos_test" }
            .SelectMany(split => document.RootElement.GetProperty(split).EnumerateArray())
            .Select(row => (Text: row[0].GetString()!, Intent: row[1].GetString() == "oos" ? Scenario.OutOfScope : row[1].GetString()!))
            .Where(row => intents.Contains(row.Intent))];
    }

    public static IReadOnlyList<(string Text, string Intent)> Gold(EvalProject project)
    {
        ArgumentNullException.ThrowIfNull(project);
        return [.. project.Cases.Where(c => c.Pool == Pool.Gold).Select(c => (c.Input.ClassificationText, c.Intent))];
    }

    public static AccuracyFigure Measure(SupportBot bot, string model, string set, IReadOnlyList<(string Text, string Intent)> labelled)
    {
        ArgumentNullException.ThrowIfNull(bot);
        ArgumentNullException.ThrowIfNull(labelled);
        var correct = labelled.Count(row => bot.Answer(model, row.Text).Intent == row.Intent);
        return new AccuracyFigure(model, set, correct, labelled.Count);
    }

    /// <summary>Both models on gold, and on the CLINC150 test split in all, in scope only and out of scope only.</summary>
    public static IReadOnlyList<AccuracyFigure> Report(SupportBot bot, EvalProject project, string clincFolder)
    {
        ArgumentNullException.ThrowIfNull(project);
        var gold = Gold(project);
        var test = ClincTest(clincFolder, project.Taxonomy);
        var sets = new (string Name, IReadOnlyList<(string Text, string Intent)> Rows)[]
        {
            ("gold inputs", gold),
            ("clinc150 test", test),
            ("clinc150 test, in scope", [.. test.Where(r => r.Intent != Scenario.OutOfScope)]),
            ("clinc150 test, out of scope", [.. test.Where(r => r.Intent == Scenario.OutOfScope)]),
        };

        return [.. sets.SelectMany(set => SupportBot.Models.Select(model => Measure(bot, model, set.Name, set.Rows)))];
    }
}
