using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Recal.Judging;

/// <summary>One judge's scores per dimension, or why its reply could not be used.</summary>
public sealed record JudgeVerdict(string Judge, IReadOnlyDictionary<string, int>? Scores, string? Rationale, string? Error)
{
    public bool IsValid => Scores is not null;
}

/// <summary>
/// Parses a judge's reply strictly: one JSON object (a fenced block is accepted) with an integer score on the
/// rubric's scale for every dimension. Anything else is an error the caller may repair once, never a pass.
/// </summary>
public static partial class JudgeVerdictParser
{
    public static JudgeVerdict Parse(string judge, string reply, Rubric rubric)
    {
        ArgumentNullException.ThrowIfNull(reply);
        ArgumentNullException.ThrowIfNull(rubric);
        var fenced = FencePattern().Match(reply);
        var json = fenced.Success ? fenced.Groups[1].Value : reply.Trim();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            return Invalid(judge, $"the reply is not JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("scores", out var scores) || scores.ValueKind != JsonValueKind.Object)
            {
                return Invalid(judge, "the reply needs a \"scores\" object");
            }

            var result = new Dictionary<string, int>(StringComparer.Ordinal);
            var problems = new List<string>();
            foreach (var dimension in rubric.Dimensions)
            {
                if (!scores.TryGetProperty(dimension.Name, out var value))
                {
                    problems.Add($"no score for '{dimension.Name}'");
                }
                else if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var score))
                {
                    problems.Add($"'{dimension.Name}' must be a whole number, got {value.GetRawText()}");
                }
                else if (score < dimension.Min || score > dimension.Max)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"'{dimension.Name}' is {score}, outside {dimension.Min}–{dimension.Max}"));
                }
                else
                {
                    result[dimension.Name] = score;
                }
            }

            var extra = scores.EnumerateObject().Select(p => p.Name).Where(n => rubric.Dimensions.All(d => d.Name != n)).ToList();
            if (extra.Count > 0)
            {
                problems.Add($"unknown dimension(s) {string.Join(", ", extra.Select(e => $"'{e}'"))}");
            }

            if (problems.Count > 0)
            {
                return Invalid(judge, string.Join("; ", problems));
            }

            var rationale = document.RootElement.TryGetProperty("rationale", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
            return new JudgeVerdict(judge, result, rationale, null);
        }
    }

    /// <summary>The follow-up sent once to a judge whose reply broke the format.</summary>
    public static string RepairPrompt(JudgeVerdict failed, Rubric rubric)
    {
        ArgumentNullException.ThrowIfNull(failed);
        ArgumentNullException.ThrowIfNull(rubric);
        var example = string.Join(", ", rubric.Dimensions.Select(d => $"\"{d.Name}\": <{d.Min}-{d.Max}>"));
        return $"Your reply could not be used: {failed.Error}. Reply again with only this JSON object: {{\"scores\": {{{example}}}, \"rationale\": \"...\"}}";
    }

    private static JudgeVerdict Invalid(string judge, string error) => new(judge, null, null, error);

    [GeneratedRegex(@"```(?:json)?\s*([\s\S]*?)\s*```")]
    private static partial Regex FencePattern();
}
