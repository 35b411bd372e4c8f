using System.Globalization;
using Recal.Diagnostics;
using Recal.Statistics;

namespace Recal.Judging;

/// <summary>How well judges agree with human labels and with each other, per judge and segment (docs/judging.md).</summary>
public static class JudgeAgreement
{
    public const string Overall = "(all)";

    public const string DefaultJudge = "judge";

    /// <summary>The label of a verdict that was missing, empty or not a known label.</summary>
    public const string Unparsed = "(unparsed)";

    /// <summary>Whether the winner survives swapping the answers: A↔B are exchanged, anything else (a tie) must stay.</summary>
    public static bool IsPositionConsistent(string judge, string judgeSwapped)
    {
        ArgumentNullException.ThrowIfNull(judge);
        ArgumentNullException.ThrowIfNull(judgeSwapped);
        return string.Equals(judge, Flip(judgeSwapped, "A", "B"), StringComparison.Ordinal);
    }

    /// <summary>Reads labelled judgments (docs/judging.md), reporting bad items; see <see cref="JudgeAgreementReader"/>.</summary>
    public static IReadOnlyList<LabelledJudgment> Read(string path, DiagnosticBag diagnostics) => JudgeAgreementReader.Read(path, diagnostics);

    /// <summary>Validates the labels (reporting problems into <paramref name="diagnostics"/>) and measures every judge.</summary>
    public static JudgeAgreementReport Measure(IReadOnlyList<LabelledJudgment> items, JudgeAgreementOptions? options = null, DiagnosticBag? diagnostics = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        options ??= new JudgeAgreementOptions();
        diagnostics ??= new DiagnosticBag();
        var vocabulary = new Vocabulary(items, options, diagnostics);
        var clean = vocabulary.Normalise(items);
        var judges = clean.Select(i => i.JudgeId).Distinct(StringComparer.Ordinal).ToList();
        var rows = new List<JudgeAgreementRow>();
        var confusion = new List<JudgeConfusion>();
        foreach (var judge in judges)
        {
            var own = clean.Where(i => i.JudgeId == judge).Select(i => Mapped(i, options)).ToList();
            CheckFrame(judge, own, options, diagnostics);
            CheckMixed(judge, own, diagnostics);
            rows.Add(Row(judge, Overall, own, options));
            rows.AddRange(own.GroupBy(i => i.Item.Segment, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => Row(judge, g.Key, [.. g], options)));
            confusion.Add(Confusion(judge, own, vocabulary.Labels));
        }

        var pairs = new List<JudgePairAgreement>();
        var byJudge = judges.ToDictionary(j => j, j => clean.Where(i => i.JudgeId == j && i.Judge != Unparsed).ToDictionary(i => i.Id, i => i.Judge, StringComparer.Ordinal), StringComparer.Ordinal);
        for (var a = 0; a < judges.Count; a++)
        {
            for (var b = a + 1; b < judges.Count; b++)
            {
                var first = byJudge[judges[a]];
                var second = byJudge[judges[b]];
                var shared = first.Keys.Where(second.ContainsKey).ToList();
                pairs.Add(new JudgePairAgreement(judges[a], judges[b], Compare([.. shared.Select(id => first[id])], [.. shared.Select(id => second[id])], options.Confidence)));
            }
        }

        JudgesFleissKappa? fleiss = null;
        if (judges.Count >= 3)
        {
            var common = byJudge[judges[0]].Keys.Where(id => judges.All(j => byJudge[j].ContainsKey(id))).ToList();
            var result = Agreement.FleissKappa([.. common.Select(id => (IReadOnlyList<string>)[.. judges.Select(j => byJudge[j][id])])]);
            fleiss = new JudgesFleissKappa(judges, common.Count, result.Kappa);
        }

        return new JudgeAgreementReport(judges, vocabulary.Labels, clean.Any(i => i.JudgeSwapped is not null), options.Frame, options.Confidence, options.SmallSample, rows, confusion, pairs, fleiss);
    }

    /// <summary>Accuracy with its Wilson interval and Cohen's kappa with its large-sample interval.</summary>
    public static OrderAgreement Compare(IReadOnlyList<string> a, IReadOnlyList<string> b, double confidence)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var agreeing = a.Zip(b).LongCount(p => string.Equals(p.First, p.Second, StringComparison.Ordinal));
        var (lower, upper) = Proportion.WilsonInterval(agreeing, a.Count, confidence);
        var kappa = Agreement.CohenKappaInterval(a, b, confidence);
        return new OrderAgreement(a.Count, agreeing, a.Count == 0 ? double.NaN : agreeing / (double)a.Count, a.Count == 0 ? double.NaN : lower, a.Count == 0 ? double.NaN : upper, kappa.Kappa, kappa.StandardError, kappa.Lower, kappa.Upper);
    }

    private static string Flip(string label, string first, string second) =>
        label == first ? second : label == second ? first : label;

    /// <summary>One item with its swapped verdict both mapped to the original answers and as the judge saw it.</summary>
    private sealed record MappedItem(LabelledJudgment Item, string? SwappedOriginal, string? SwappedPresented);

    private static MappedItem Mapped(LabelledJudgment item, JudgeAgreementOptions options)
    {
        if (item.JudgeSwapped is not { } swapped)
        {
            return new MappedItem(item, null, null);
        }

        var flipped = Flip(swapped, options.FirstLabel, options.SecondLabel);
        return options.Frame == SwappedFrame.Presented ? new MappedItem(item, flipped, swapped) : new MappedItem(item, swapped, flipped);
    }

    private static JudgeAgreementRow Row(string judge, string segment, IReadOnlyList<MappedItem> items, JudgeAgreementOptions options)
    {
        var shown = Compare([.. items.Select(i => i.Item.Human)], [.. items.Select(i => i.Item.Judge)], options.Confidence);
        var unparsed = items.LongCount(i => i.Item.Judge == Unparsed) + items.LongCount(i => i.SwappedOriginal == Unparsed);
        var pairwise = items.Where(i => i.SwappedOriginal is not null).ToList();
        if (pairwise.Count == 0)
        {
            return new JudgeAgreementRow(judge, segment, items.Count, items.Count < options.SmallSample, shown, 0, null, null, null, null, null, null, null, null, unparsed);
        }

        var swapped = Compare([.. pairwise.Select(i => i.Item.Human)], [.. pairwise.Select(i => i.SwappedOriginal!)], options.Confidence);
        var bothRight = pairwise.LongCount(i => i.Item.Judge == i.Item.Human && i.SwappedOriginal == i.Item.Human);
        var parsed = pairwise.Where(i => i.Item.Judge != Unparsed && i.SwappedOriginal != Unparsed).ToList();
        var between = Compare([.. parsed.Select(i => i.Item.Judge)], [.. parsed.Select(i => i.SwappedOriginal!)], options.Confidence);
        var presented = pairwise.SelectMany(i => new[] { i.Item.Judge, i.SwappedPresented! }).ToList();
        var decisive = presented.LongCount(v => v == options.FirstLabel || v == options.SecondLabel);
        var firstShown = presented.LongCount(v => v == options.FirstLabel);
        var (lower, upper) = Proportion.WilsonInterval(firstShown, decisive, options.Confidence);
        var inconsistent = parsed.Where(i => i.Item.Judge != i.SwappedOriginal).ToList();
        var bias = new PositionBias(
            decisive,
            firstShown,
            decisive == 0 ? double.NaN : firstShown / (double)decisive,
            decisive == 0 ? double.NaN : lower,
            decisive == 0 ? double.NaN : upper,
            inconsistent.Count,
            inconsistent.LongCount(i => i.Item.Judge == options.FirstLabel && i.SwappedPresented == options.FirstLabel),
            inconsistent.LongCount(i => i.Item.Judge == options.SecondLabel && i.SwappedPresented == options.SecondLabel));
        var ties = presented.LongCount(v => v != options.FirstLabel && v != options.SecondLabel && v != Unparsed);
        return new JudgeAgreementRow(
            judge,
            segment,
            items.Count,
            items.Count < options.SmallSample,
            shown,
            pairwise.Count,
            swapped,
            (shown.Accuracy + swapped.Accuracy) / 2,
            (shown.Kappa + swapped.Kappa) / 2,
            bothRight,
            bothRight / (double)pairwise.Count,
            between,
            bias,
            ties,
            unparsed);
    }

    private static JudgeConfusion Confusion(string judge, IReadOnlyList<MappedItem> items, IReadOnlyList<string> vocabulary)
    {
        var pairwise = items.Where(i => i.SwappedOriginal is not null).ToList();
        var labels = vocabulary.ToList();
        if (items.Any(i => i.Item.Judge == Unparsed || i.SwappedOriginal == Unparsed))
        {
            labels.Add(Unparsed);
        }

        static long[][] Jagged(long[,] m) => [.. Enumerable.Range(0, m.GetLength(0)).Select(r => Enumerable.Range(0, m.GetLength(1)).Select(c => m[r, c]).ToArray())];
        var shown = Agreement.ConfusionMatrix([.. items.Select(i => i.Item.Human)], [.. items.Select(i => i.Item.Judge)], labels);
        var swapped = pairwise.Count == 0 ? null : Jagged(Agreement.ConfusionMatrix([.. pairwise.Select(i => i.Item.Human)], [.. pairwise.Select(i => i.SwappedOriginal!)], labels));
        return new JudgeConfusion(judge, labels, Jagged(shown), swapped);
    }

    /// <summary>
    /// Warns when the swapped verdicts fit the human labels far better read the other way: a file whose
    /// <c>judge_swapped</c> is already mapped back to the original answers (or the reverse of what --swapped-frame says).
    /// </summary>
    private static void CheckFrame(string judge, IReadOnlyList<MappedItem> items, JudgeAgreementOptions options, DiagnosticBag diagnostics)
    {
        var decisive = items.Where(i => i.SwappedOriginal is not null && i.SwappedOriginal != Unparsed && IsDecisive(i.SwappedOriginal, options)).ToList();
        var asRead = decisive.LongCount(i => i.SwappedOriginal == i.Item.Human && i.SwappedPresented != i.Item.Human);
        var otherWay = decisive.LongCount(i => i.SwappedPresented == i.Item.Human && i.SwappedOriginal != i.Item.Human);
        if (asRead + otherWay < 10 || otherWay <= asRead || McNemar.Exact(otherWay, asRead).PValue >= 0.01)
        {
            return;
        }

        var sameLetter = items.LongCount(i => i.Item.JudgeSwapped is not null && i.Item.JudgeSwapped == i.Item.Judge && IsDecisive(i.Item.Judge, options));
        var other = options.Frame == SwappedFrame.Presented ? "original" : "presented";
        var who = judge == DefaultJudge ? string.Empty : $"judge '{judge}': ";
        diagnostics.Warning(
            "RC1408",
            $"{who}judge_swapped reads as if given in the {other} frame: read as --swapped-frame {options.Frame.ToString().ToLowerInvariant()} it agrees with the human label on {asRead.ToString(CultureInfo.InvariantCulture)} decisive pairs where the other reading does not, read the other way on {otherWay.ToString(CultureInfo.InvariantCulture)} ({sameLetter.ToString(CultureInfo.InvariantCulture)} pairs give the same letter in both orders)",
            items[0].Item.Location is { } l ? l with { Line = null } : null,
            $"check how the file wrote judge_swapped; if it is already mapped back to the original answers, pass --swapped-frame {other} (docs/judging.md)");
    }

    private static bool IsDecisive(string label, JudgeAgreementOptions options) => label == options.FirstLabel || label == options.SecondLabel;

    private static void CheckMixed(string judge, IReadOnlyList<MappedItem> items, DiagnosticBag diagnostics)
    {
        var pairwise = items.Count(i => i.SwappedOriginal is not null);
        if (pairwise > 0 && pairwise < items.Count)
        {
            var without = items.First(i => i.SwappedOriginal is null);
            var who = judge == DefaultJudge ? string.Empty : $"judge '{judge}': ";
            diagnostics.Warning("RC1409", $"{who}{pairwise.ToString(CultureInfo.InvariantCulture)} of {items.Count.ToString(CultureInfo.InvariantCulture)} items have a judge_swapped verdict; the shown-order figures cover all items, the swapped-order ones only those", without.Item.Location, "give judge_swapped on every pairwise item, or measure pairwise and single-answer judgments in separate files");
        }
    }
}
