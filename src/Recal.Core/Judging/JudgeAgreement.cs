using System.Text.Json;
using Recal.Diagnostics;
using Recal.Statistics;

namespace Recal.Judging;

/// <summary>
/// One item a judge and a human both labelled. For pairwise judgments, <paramref name="JudgeSwapped"/> is the
/// judge's verdict when the two answers were shown in swapped order, in that presentation's own labels
/// (<c>A</c> = the answer shown first).
/// </summary>
public sealed record LabelledJudgment(string Id, string Segment, string Human, string Judge, string? JudgeSwapped);

/// <summary>Agreement of a judge with human labels for one segment (or overall).</summary>
/// <param name="PositionConsistency">Share of pairwise items whose winner survives swapping the answers; null without pairwise items.</param>
public sealed record AgreementRow(string Segment, long Items, double Accuracy, double Kappa, long PairwiseItems, double? PositionConsistency);

/// <summary>How well a judge agrees with human labels, overall and per segment (docs/judging.md).</summary>
public static class JudgeAgreement
{
    public const string Overall = "(all)";

    public static IReadOnlyList<AgreementRow> Measure(IReadOnlyList<LabelledJudgment> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var rows = new List<AgreementRow> { Row(Overall, items) };
        rows.AddRange(items.GroupBy(i => i.Segment, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Row(g.Key, [.. g])));
        return rows;
    }

    /// <summary>Whether the winner survives swapping the answers: A↔B are exchanged, anything else (a tie) must stay.</summary>
    public static bool IsPositionConsistent(string judge, string judgeSwapped)
    {
        ArgumentNullException.ThrowIfNull(judge);
        ArgumentNullException.ThrowIfNull(judgeSwapped);
        var flipped = judgeSwapped switch
        {
            "A" => "B",
            "B" => "A",
            _ => judgeSwapped,
        };
        return string.Equals(judge, flipped, StringComparison.Ordinal);
    }

    /// <summary>Reads labelled judgments (JSONL: id, segment, human, judge, optional judge_swapped), reporting bad lines.</summary>
    public static IReadOnlyList<LabelledJudgment> Read(string path, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var items = new List<LabelledJudgment>();
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var location = new SourceLocation(path, line);
            try
            {
                using var document = JsonDocument.Parse(text);
                var root = document.RootElement;
                string? Field(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var human = Field("human");
                var judge = Field("judge");
                if (human is null || judge is null)
                {
                    diagnostics.Error("RC1401", "each line needs 'human' and 'judge' labels (strings)", location, "e.g. {\"id\":\"q1\",\"segment\":\"billing\",\"human\":\"pass\",\"judge\":\"fail\"}");
                    continue;
                }

                items.Add(new LabelledJudgment(Field("id") ?? $"line {line}", Field("segment") ?? "(none)", human, judge, Field("judge_swapped")));
            }
            catch (JsonException e)
            {
                diagnostics.Error("RC1401", $"not valid JSON: {e.Message}", location with { Column = (int)(e.BytePositionInLine ?? 0) + 1 });
            }
        }

        return items;
    }

    private static AgreementRow Row(string segment, IReadOnlyList<LabelledJudgment> items)
    {
        var agreement = Agreement.CohenKappa([.. items.Select(i => i.Human)], [.. items.Select(i => i.Judge)]);
        var pairwise = items.Where(i => i.JudgeSwapped is not null).ToList();
        double? consistency = pairwise.Count == 0 ? null : pairwise.Count(i => IsPositionConsistent(i.Judge, i.JudgeSwapped!)) / (double)pairwise.Count;
        return new AgreementRow(segment, items.Count, agreement.Accuracy, agreement.Kappa, pairwise.Count, consistency);
    }
}
