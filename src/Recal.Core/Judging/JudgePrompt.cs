using System.Globalization;
using System.Text;
using Recal.Domain;

namespace Recal.Judging;

/// <summary>Renders a rubric, a case and an output into the judge's prompt, asking for strict JSON.</summary>
public static class JudgePrompt
{
    public static string Render(Rubric rubric, EvalCase evalCase, string output)
    {
        ArgumentNullException.ThrowIfNull(rubric);
        ArgumentNullException.ThrowIfNull(evalCase);
        ArgumentNullException.ThrowIfNull(output);
        var text = new StringBuilder();
        text.AppendLine("You are grading an assistant's answer against a rubric. Judge only what is written.");
        if (!string.IsNullOrWhiteSpace(rubric.Instructions))
        {
            text.AppendLine(rubric.Instructions.Trim());
        }

        text.AppendLine().AppendLine("## User input");
        if (evalCase.Input.Text is { } input)
        {
            text.AppendLine(input);
        }
        else
        {
            foreach (var message in evalCase.Input.Messages!)
            {
                text.Append(message.Role).Append(": ").AppendLine(message.Content);
            }
        }

        if (evalCase.References.Count > 0)
        {
            text.AppendLine().AppendLine("## Reference answers");
            foreach (var reference in evalCase.References)
            {
                text.Append(reference.Grade == ReferenceGrade.High ? "- (good) " : "- (acceptable) ").AppendLine(reference.Text);
            }
        }

        text.AppendLine().AppendLine("## Answer to grade").AppendLine(output);
        text.AppendLine().AppendLine("## Rubric");
        foreach (var dimension in rubric.Dimensions)
        {
            text.Append(CultureInfo.InvariantCulture, $"### {dimension.Name} ({dimension.Min}–{dimension.Max})");
            text.AppendLine(dimension.Description is null ? string.Empty : $": {dimension.Description}");
            foreach (var (point, meaning) in dimension.Anchors.OrderBy(a => a.Key))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {point}: {meaning}");
            }
        }

        var example = string.Join(", ", rubric.Dimensions.Select(d => $"\"{d.Name}\": <{d.Min}-{d.Max}>"));
        text.AppendLine().AppendLine("Reply with one JSON object and nothing else:");
        text.Append("{\"scores\": {").Append(example).AppendLine("}, \"rationale\": \"<one or two sentences>\"}");
        return text.ToString();
    }
}
