using System.Globalization;
using Recal.Judging;
using Recal.Reporting.Runs;

namespace Recal.Reporting.Judging;

/// <summary>Lays out a judge-agreement report as text tables, so the terminal and Markdown show the same numbers.</summary>
public static class JudgeAgreementTables
{
    public static string Figure(double value) => double.IsFinite(value) ? value.ToString("0.000", CultureInfo.InvariantCulture) : "n/a";

    public static string Figure(double? value) => value is { } v ? Figure(v) : "—";

    public static string Interval(double lower, double upper) =>
        double.IsFinite(lower) && double.IsFinite(upper) ? $"{Figure(lower)}–{Figure(upper)}" : "—";

    public static IReadOnlyList<ReportTable> Tables(JudgeAgreementReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var tables = new List<ReportTable>();
        var level = report.Confidence.ToString("0%", CultureInfo.InvariantCulture);
        foreach (var judge in report.Judges)
        {
            var rows = report.Rows.Where(r => r.Judge == judge).ToList();
            var pairwise = rows.Any(r => r.PairwiseItems > 0);
            var name = report.Judges.Count == 1 && judge == JudgeAgreement.DefaultJudge ? "the judge" : $"judge {judge}";
            List<string> headers = ["segment", "items", "accuracy", $"{level} CI", "Cohen's κ", $"{level} CI"];
            if (pairwise)
            {
                headers.AddRange(["swapped accuracy", "swapped κ", "mean accuracy", "mean κ", "right in both orders"]);
            }

            var small = rows.Where(r => r.SmallSample).Select(r => r.Segment).ToList();
            var note = small.Count == 0 ? null : $"small samples (fewer than {report.SmallSample.ToString(CultureInfo.InvariantCulture)} items): {string.Join(", ", small)} — their intervals are wide and the large-sample κ interval is rough";
            tables.Add(new ReportTable($"{Capitalised(name)} against human labels", headers, [.. rows.Select(r => HumanRow(r, pairwise))], note));
            if (pairwise)
            {
                tables.Add(new ReportTable(
                    $"Presentation order, {name}",
                    ["segment", "pairs", "position consistency", "κ between orders", "first-shown share", $"{level} CI", "inconsistent", "first both times", "second both times", "ties", "unparsed"],
                    [.. rows.Where(r => r.PairwiseItems > 0).Select(OrderRow)],
                    "position consistency: share of pairs whose winner survives the swap; first-shown share: decisive verdicts picking the answer shown first (0.500 = no bias)"));
            }
            else if (rows.Any(r => r.Unparsed > 0))
            {
                tables.Add(new ReportTable($"Unparsed verdicts, {name}", ["segment", "unparsed"], [.. rows.Select(r => (IReadOnlyList<string>)[r.Segment, Count(r.Unparsed)])]));
            }
        }

        foreach (var confusion in report.Confusion)
        {
            tables.Add(ConfusionTable(confusion, "shown order", confusion.Shown));
            if (confusion.Swapped is { } swapped)
            {
                tables.Add(ConfusionTable(confusion, "swapped order", swapped));
            }
        }

        if (report.BetweenJudges.Count > 0)
        {
            var fleiss = report.Fleiss is { } f ? $"Fleiss' κ over the {Count(f.Items)} items every judge judged: {Figure(f.Kappa)}" : null;
            tables.Add(new ReportTable(
                "Judge against judge (shown order, parsed verdicts)",
                ["judges", "items", "agreement", "Cohen's κ", $"{level} CI"],
                [.. report.BetweenJudges.Select(p => (IReadOnlyList<string>)[$"{p.First} · {p.Second}", Count(p.Agreement.Items), Figure(p.Agreement.Accuracy), Figure(p.Agreement.Kappa), Interval(p.Agreement.KappaLower, p.Agreement.KappaUpper)])],
                fleiss));
        }

        return tables;
    }

    private static IReadOnlyList<string> HumanRow(JudgeAgreementRow r, bool pairwise)
    {
        List<string> cells = [r.Segment, Count(r.Items) + (r.SmallSample ? " (small)" : string.Empty), Figure(r.Shown.Accuracy), Interval(r.Shown.AccuracyLower, r.Shown.AccuracyUpper), Figure(r.Shown.Kappa), Interval(r.Shown.KappaLower, r.Shown.KappaUpper)];
        if (pairwise)
        {
            cells.AddRange(r.Swapped is { } s
                ? [Figure(s.Accuracy), Figure(s.Kappa), Figure(r.MeanAccuracy), Figure(r.MeanKappa), Figure(r.CorrectInBothOrdersShare)]
                : ["—", "—", "—", "—", "—"]);
        }

        return cells;
    }

    private static IReadOnlyList<string> OrderRow(JudgeAgreementRow r)
    {
        var bias = r.PositionBias!;
        return
        [
            r.Segment, Count(r.PairwiseItems), Figure(r.PositionConsistency), Figure(r.BetweenOrders!.Kappa), Figure(bias.Share), Interval(bias.Lower, bias.Upper),
            Count(bias.InconsistentPairs), Count(bias.FirstBothTimes), Count(bias.SecondBothTimes), Count(r.Ties ?? 0), Count(r.Unparsed),
        ];
    }

    private static ReportTable ConfusionTable(JudgeConfusion confusion, string order, long[][] matrix) =>
        new(
            $"Confusion, judge {confusion.Judge}, {order}",
            ["human \\ judge", .. confusion.Labels],
            [.. confusion.Labels.Select((label, i) => (IReadOnlyList<string>)[label, .. matrix[i].Select(Count)]).Where(row => row[0] != JudgeAgreement.Unparsed)]);

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
