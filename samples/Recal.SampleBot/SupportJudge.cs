using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Recal.Scoring;

namespace Recal.Samples.Bot;

/// <summary>A message of a chat request: who said it and what.</summary>
public sealed record ChatTurn(string Role, string Content);

/// <summary>
/// A deterministic rubric judge. It grades the answer in a <c>JudgePrompt</c> by token F1 against the references
/// (full credit for a good reference, half for an acceptable one, at most 0.4 when the answer has words no reference
/// has), maps the credit onto each dimension's scale, and
/// lets the seed occasionally move one dimension by two points, so an ensemble of seeds sometimes disagrees.
/// </summary>
public static class SupportJudge
{
    public const string Model = "support-judge";

    /// <summary>Answers the first attempt in a fenced block with a wrong key, and correctly when asked to repair.</summary>
    public const string SloppyModel = "support-judge-sloppy";

    /// <summary>One answer in this many gets one dimension moved by <see cref="Shift"/> for a given seed.</summary>
    public const int PerturbOneIn = 40;

    public const int Shift = 2;

    /// <summary>The most credit an answer gets when it contains words that no reference has.</summary>
    public const double UnsupportedCap = 0.4;

    // Words of JudgeVerdictParser.RepairPrompt: "Your reply could not be used: ... Reply again with only this JSON object".
    private const string RepairOpening = "Your reply could not be used";
    private const string RepairRequest = "Reply again with only this JSON object";

    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<string> Models { get; } = [Model, SloppyModel];

    public static bool IsModel(string model) => Models.Contains(model, StringComparer.Ordinal);

    /// <summary>True when the text is the repair request a caller sends after a reply it could not use.</summary>
    public static bool IsRepairRequest(string text) =>
        text.Contains(RepairOpening, StringComparison.Ordinal) && text.Contains(RepairRequest, StringComparison.Ordinal);

    /// <summary>
    /// The judge's reply to a conversation, or null when it holds no judge prompt. The prompt is the latest message
    /// with the judge's sections; after a repair request it is the one the failed reply answered.
    /// </summary>
    public static string? Reply(string model, IReadOnlyList<ChatTurn> messages, long seed)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var lastUser = messages.LastOrDefault(m => m.Role == "user")?.Content ?? string.Empty;
        var repair = IsRepairRequest(lastUser);
        var request = messages.Reverse().Select(m => JudgeRequest.Read(m.Content)).FirstOrDefault(r => r is not null);
        if (request is null)
        {
            return null;
        }

        var (scores, rationale) = Grade(request, seed);
        return model == SloppyModel && !repair
            ? "Here is my verdict:\n```json\n" + Verdict("score", scores, rationale) + "\n```"
            : Verdict("scores", scores, rationale);
    }

    /// <summary>The best credit any reference gives the answer: token F1 for a good one, half of it for an acceptable one.</summary>
    public static (double Credit, JudgeReference? Best) Credit(string answer, IReadOnlyList<JudgeReference> references)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(references);
        var tokens = TextTokens.Tokenize(answer);
        var best = (Credit: 0.0, Best: (JudgeReference?)null);
        foreach (var reference in references)
        {
            var credit = Similarity.TokenF1(tokens, TextTokens.Tokenize(reference.Text)) * (reference.Good ? 1 : 0.5);
            if (best.Best is null || credit > best.Credit)
            {
                best = (credit, reference);
            }
        }

        // An answer that says things no reference supports (another topic's words, say) is not fully right,
        // however much template wording it shares with a reference.
        var supported = references.SelectMany(r => TextTokens.Tokenize(r.Text)).ToHashSet(StringComparer.Ordinal);
        if (tokens.Any(t => !supported.Contains(t)))
        {
            best = (Math.Min(best.Credit, UnsupportedCap), best.Best);
        }

        return best;
    }

    public static (IReadOnlyList<(string Dimension, int Score)> Scores, string Rationale) Grade(JudgeRequest request, long seed)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (credit, best) = Credit(request.Answer, request.References);
        var scores = request.Dimensions
            .Select(d => (d.Name, Score: d.Min + (int)Math.Round(credit * (d.Max - d.Min), MidpointRounding.AwayFromZero)))
            .ToList();

        var hash = Fnv1a(string.Create(CultureInfo.InvariantCulture, $"{seed}\u001f{request.Answer}"));
        if (hash % PerturbOneIn == 0)
        {
            // Move towards the middle of the scale so the shift is never swallowed by clamping at an end.
            var index = (int)(hash / PerturbOneIn % (ulong)scores.Count);
            var dimension = request.Dimensions[index];
            var score = scores[index].Score;
            var moved = score * 2 > dimension.Min + dimension.Max ? score - Shift : score + Shift;
            scores[index] = (dimension.Name, Math.Clamp(moved, dimension.Min, dimension.Max));
        }

        var rationale = best is null
            ? "There is no reference answer to compare with, so the answer cannot be credited."
            : string.Create(CultureInfo.InvariantCulture, $"The answer's closest reference is a{(best.Good ? " good" : "n acceptable")} one (token F1 {credit / (best.Good ? 1 : 0.5):0.00}), for a credit of {credit:0.00}.");
        return (scores, rationale);
    }

    private static string Verdict(string key, IReadOnlyList<(string Dimension, int Score)> scores, string rationale)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Json))
        {
            json.WriteStartObject();
            json.WriteStartObject(key);
            foreach (var (dimension, score) in scores)
            {
                json.WriteNumber(dimension, score);
            }

            json.WriteEndObject();
            json.WriteString("rationale", rationale);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>64-bit FNV-1a over UTF-8: stable across processes, unlike <see cref="string.GetHashCode()"/>.</summary>
    private static ulong Fnv1a(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
