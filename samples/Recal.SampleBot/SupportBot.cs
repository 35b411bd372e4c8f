using System.Text;
using Recal.Classification;
using Recal.Domain;

namespace Recal.Samples.Bot;

/// <summary>The intent a bot model settled on and the answer it gives for it.</summary>
/// <param name="Intent">The intent answered; <c>out_of_scope</c> when the bot declined.</param>
public sealed record BotAnswer(string Intent, string Text);

/// <summary>
/// The two support-bot models of the sample, both answering with the templates the sample's reference answers
/// were generated from (samples/Recal.SampleGenerator/Answers.cs), so a right intent earns a matching answer.
/// </summary>
public sealed class SupportBot
{
    public const string BaselineModel = "support-bot-v1";
    public const string GoldTunedModel = "support-bot-v2-gold-tuned";

    /// <summary>Below this confidence the baseline declines rather than guess.</summary>
    public const double DeclineBelow = 0.2;

    public const int ClassifierSeed = 17;

    private readonly Dictionary<string, string?> _domains;
    private readonly LinearIntentClassifier _baseline;
    private readonly LinearIntentClassifier _goldTuned;
    private readonly Dictionary<string, EvalCase> _goldByInput;

    private SupportBot(Dictionary<string, string?> domains, LinearIntentClassifier baseline, LinearIntentClassifier goldTuned, Dictionary<string, EvalCase> goldByInput)
    {
        _domains = domains;
        _baseline = baseline;
        _goldTuned = goldTuned;
        _goldByInput = goldByInput;
    }

    public static IReadOnlyList<string> Models { get; } = [BaselineModel, GoldTunedModel];

    /// <summary>The intents the gold-tuned model can name: those with at least one gold case, out-of-scope excepted.</summary>
    public IReadOnlyList<string> GoldTunedIntents => _goldTuned.Classes;

    /// <summary>Trains both models from a loaded project: the baseline on the taxonomy's examples, v2 on the gold inputs only.</summary>
    public static SupportBot Create(EvalProject project)
    {
        ArgumentNullException.ThrowIfNull(project);
        var taxonomy = project.Taxonomy;
        var domains = taxonomy.Intents.ToDictionary(i => i.Name, i => i.Group, StringComparer.Ordinal);
        var gold = project.Cases.Where(c => c.Pool == Pool.Gold).ToList();

        var goldByInput = new Dictionary<string, EvalCase>(StringComparer.Ordinal);
        foreach (var evalCase in gold.Where(c => c.References.Any(r => r.Grade == ReferenceGrade.High)))
        {
            goldByInput.TryAdd(Normalise(evalCase.Input.ClassificationText), evalCase);
        }

        // v2 has only ever seen the gold set: intents without gold cases do not exist for it, and it has no
        // out-of-scope class, so it never declines.
        var goldExamples = gold.GroupBy(c => c.Intent, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(c => c.Input.ClassificationText).ToList(), StringComparer.Ordinal);
        var goldIntents = taxonomy.Intents
            .Where(i => !IsOutOfScope(i.Name, i.Group) && goldExamples.ContainsKey(i.Name))
            .Select(i => i with { Examples = goldExamples[i.Name], Keywords = [] })
            .ToList();
        var goldTaxonomy = taxonomy with { Intents = goldIntents, Classifier = new ClassifierSettings(0) };

        return new SupportBot(
            domains,
            LinearIntentClassifier.Train(taxonomy, ClassifierSeed),
            LinearIntentClassifier.Train(goldTaxonomy, ClassifierSeed),
            goldByInput);
    }

    public static bool IsModel(string model) => Models.Contains(model, StringComparer.Ordinal);

    public BotAnswer Answer(string model, string userText) => model switch
    {
        BaselineModel => Baseline(userText),
        GoldTunedModel => GoldTuned(userText),
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "not a support-bot model"),
    };

    /// <summary>The baseline: the taxonomy-trained classifier, declining when unsure or out of scope.</summary>
    public BotAnswer Baseline(string userText)
    {
        ArgumentNullException.ThrowIfNull(userText);
        var prediction = _baseline.Classify(userText);
        return prediction.IsUnknown || prediction.Confidence < DeclineBelow || IsOutOfScope(prediction.Intent, Domain(prediction.Intent))
            ? Decline()
            : Templated(prediction.Intent);
    }

    /// <summary>Tuned to the gold set: gold phrasings get their reference verbatim, anything else the nearest gold intent.</summary>
    public BotAnswer GoldTuned(string userText)
    {
        ArgumentNullException.ThrowIfNull(userText);
        if (_goldByInput.TryGetValue(Normalise(userText), out var evalCase))
        {
            return new BotAnswer(evalCase.Intent, evalCase.References.First(r => r.Grade == ReferenceGrade.High).Text);
        }

        var prediction = _goldTuned.Classify(userText);
        return prediction.BestGuess == Taxonomy.UnknownIntent
            ? Decline()
            : Templated(prediction.BestGuess);
    }

    /// <summary>Trim, lower-case, collapse whitespace: how a gold phrasing is recognised.</summary>
    public static string Normalise(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new StringBuilder(text.Length);
        foreach (var word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            if (result.Length > 0)
            {
                result.Append(' ');
            }

            result.Append(word.ToLowerInvariant());
        }

        return result.ToString();
    }

    private string? Domain(string intent) => _domains.GetValueOrDefault(intent);

    private BotAnswer Templated(string intent) => new(intent, Answers.For(intent, Domain(intent) ?? string.Empty, high: true));

    private static BotAnswer Decline() => new(Scenario.OutOfScope, Answers.For(Scenario.OutOfScope, Scenario.OutOfScope, high: true));

    private static bool IsOutOfScope(string intent, string? domain) => intent == Scenario.OutOfScope || domain == Scenario.OutOfScope;
}
