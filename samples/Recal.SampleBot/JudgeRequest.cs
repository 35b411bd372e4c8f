using System.Globalization;
using System.Text.RegularExpressions;

namespace Recal.Samples.Bot;

/// <summary>A reference answer as the judge prompt shows it: "good" (a high reference) or "acceptable" (borderline).</summary>
public sealed record JudgeReference(string Text, bool Good);

/// <summary>A rubric dimension as the judge prompt shows it: <c>### name (min–max)</c>.</summary>
public sealed record JudgeDimension(string Name, int Min, int Max);

/// <summary>
/// What the judge reads back out of a prompt rendered by <c>Recal.Judging.JudgePrompt</c>: the answer to grade,
/// the graded references and the rubric's dimensions.
/// </summary>
public sealed partial record JudgeRequest(string Answer, IReadOnlyList<JudgeReference> References, IReadOnlyList<JudgeDimension> Dimensions)
{
    private const string ReferencesHeading = "## Reference answers";
    private const string AnswerHeading = "## Answer to grade";
    private const string RubricHeading = "## Rubric";

    /// <summary>Reads a judge prompt; null when the text is not one (no answer section or no dimensions).</summary>
    public static JudgeRequest? Read(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var lines = prompt.ReplaceLineEndings("\n").Split('\n');

        // Sections come in a fixed order; the answer runs from its heading to the last rubric heading, so an
        // answer that itself holds markdown headings is still read whole.
        var referencesAt = Array.IndexOf(lines, ReferencesHeading);
        var answerAt = Array.IndexOf(lines, AnswerHeading, Math.Max(referencesAt, 0));
        var rubricAt = Array.LastIndexOf(lines, RubricHeading);
        if (answerAt < 0 || rubricAt < answerAt)
        {
            return null;
        }

        var answer = string.Join('\n', lines[(answerAt + 1)..rubricAt]).TrimEnd('\n');

        var references = new List<JudgeReference>();
        for (var i = referencesAt + 1; referencesAt >= 0 && i < answerAt; i++)
        {
            if (lines[i].StartsWith("- (good) ", StringComparison.Ordinal))
            {
                references.Add(new JudgeReference(lines[i]["- (good) ".Length..], Good: true));
            }
            else if (lines[i].StartsWith("- (acceptable) ", StringComparison.Ordinal))
            {
                references.Add(new JudgeReference(lines[i]["- (acceptable) ".Length..], Good: false));
            }
        }

        var dimensions = new List<JudgeDimension>();
        foreach (var line in lines[(rubricAt + 1)..])
        {
            if (DimensionPattern().Match(line) is { Success: true } match)
            {
                var min = int.Parse(match.Groups["min"].Value, CultureInfo.InvariantCulture);
                var max = int.Parse(match.Groups["max"].Value, CultureInfo.InvariantCulture);
                if (min <= max && dimensions.TrueForAll(d => d.Name != match.Groups["name"].Value))
                {
                    dimensions.Add(new JudgeDimension(match.Groups["name"].Value, min, max));
                }
            }
        }

        return dimensions.Count == 0 ? null : new JudgeRequest(answer, references, dimensions);
    }

    [GeneratedRegex(@"^### (?<name>.+?) \((?<min>-?\d{1,6})[–-](?<max>-?\d{1,6})\)")]
    private static partial Regex DimensionPattern();
}
