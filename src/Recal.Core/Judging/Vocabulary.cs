using System.Globalization;
using Recal.Diagnostics;

namespace Recal.Judging;

/// <summary>
/// The label vocabulary of a judge-agreement file (declared, or the labels the humans used) and the validation of every
/// label against it: spellings that differ only in case, unknown labels and judges whose labels share none with the
/// humans' are reported, never scored as silent disagreements (docs/judging.md).
/// </summary>
internal sealed class Vocabulary
{
    private readonly JudgeAgreementOptions _options;
    private readonly DiagnosticBag _diagnostics;
    private readonly HashSet<string> _labels;
    private readonly Dictionary<string, string> _canonical = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Code, string Judge, string Label), (SourceLocation? First, int Count)> _problems = [];

    public Vocabulary(IReadOnlyList<LabelledJudgment> items, JudgeAgreementOptions options, DiagnosticBag diagnostics)
    {
        _options = options;
        _diagnostics = diagnostics;
        if (options.Labels is { } declared)
        {
            Labels = [.. declared.Distinct(StringComparer.Ordinal)];
            foreach (var label in Labels)
            {
                _canonical.TryAdd(Key(label), label);
            }
        }
        else
        {
            var spellings = items.GroupBy(i => i.Human, StringComparer.Ordinal).Select(g => (Label: g.Key, Count: g.Count(), First: g.First().Location)).ToList();
            var labels = new List<string>();
            foreach (var group in spellings.GroupBy(s => Key(s.Label), StringComparer.Ordinal))
            {
                var ranked = group.OrderByDescending(s => s.Count).ThenBy(s => s.Label, StringComparer.Ordinal).ToList();
                if (ranked.Count > 1 && !options.IgnoreCase)
                {
                    var listed = string.Join(", ", ranked.Select(s => $"'{s.Label}' ({s.Count.ToString(CultureInfo.InvariantCulture)} items)"));
                    diagnostics.Error("RC1405", $"human labels {listed} differ only in case or spaces; labels are compared exactly", ranked[1].First, $"write one spelling, '{ranked[0].Label}', or pass --ignore-case");
                    labels.AddRange(ranked.Select(s => s.Label));
                    continue;
                }

                _canonical[group.Key] = ranked[0].Label;
                labels.Add(ranked[0].Label);
            }

            Labels = [.. labels.Order(StringComparer.Ordinal)];
        }

        _labels = new HashSet<string>(Labels, StringComparer.Ordinal);
        if (items.Any(i => i.JudgeSwapped is not null) && !(_labels.Contains(options.FirstLabel) && _labels.Contains(options.SecondLabel)))
        {
            diagnostics.Warning("RC1410", $"pairwise items (judge_swapped) but '{options.FirstLabel}' and '{options.SecondLabel}' are not both labels ({Listed(Labels)}): the answers cannot be swapped back", null, "name the labels of the first- and second-shown answers with --pair-labels FIRST,SECOND");
        }
    }

    /// <summary>The labels, in the declared order or sorted.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Items with every label checked: human labels mapped onto the vocabulary, unusable verdicts made <see cref="JudgeAgreement.Unparsed"/>.</summary>
    public List<LabelledJudgment> Normalise(IReadOnlyList<LabelledJudgment> items)
    {
        var kept = new List<LabelledJudgment>();
        var rawByJudge = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var raw = rawByJudge.TryGetValue(item.JudgeId, out var set) ? set : rawByJudge[item.JudgeId] = new HashSet<string>(StringComparer.Ordinal);
            raw.Add(item.Judge);
            if (item.JudgeSwapped is { } s)
            {
                raw.Add(s);
            }

            if (Human(item) is not { } human)
            {
                continue;
            }

            kept.Add(item with { Human = human, Judge = Verdict(item, item.Judge), JudgeSwapped = item.JudgeSwapped is { } swapped ? Verdict(item, swapped) : null });
        }

        var disjoint = rawByJudge.Where(kv => kv.Value.Any(l => l != JudgeAgreement.Unparsed) && !kv.Value.Any(l => _labels.Contains(l) || _canonical.ContainsKey(Key(l)))).Select(kv => kv.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var judge in disjoint)
        {
            var verdicts = rawByJudge[judge].Where(l => l != JudgeAgreement.Unparsed).Order(StringComparer.Ordinal).ToList();
            var first = _problems.Where(p => p.Key.Judge == judge).Select(p => p.Value.First).FirstOrDefault();
            _diagnostics.Error("RC1407", $"{Who(judge)}verdicts {Listed(verdicts)} share no label with the human labels {Listed(Labels)}: every item would count as a disagreement", first, "map both to one vocabulary, or declare it with --labels");
        }

        foreach (var ((code, judge, label), (location, count)) in _problems)
        {
            var times = count == 1 ? "once" : $"{count.ToString(CultureInfo.InvariantCulture)} times";
            switch (code)
            {
                case "RC1404":
                    _diagnostics.Error(code, $"human label '{label}' ({times}) is not one of the labels {Listed(Labels)}; those items are skipped", location, $"use one of {Listed(Labels)}");
                    break;
                case "RC1405" when judge.Length == 0:
                    _diagnostics.Error(code, $"human label '{label}' ({times}) differs only in case or spaces from '{_canonical[Key(label)]}'; those items are skipped", location, $"write '{_canonical[Key(label)]}', or pass --ignore-case");
                    break;
                case "RC1405":
                    _diagnostics.Error(code, $"{Who(judge)}verdict '{label}' ({times}) differs only in case or spaces from the label '{_canonical[Key(label)]}'; it counts as unparsed", location, $"write '{_canonical[Key(label)]}', or pass --ignore-case");
                    break;
                case "RC1406" when !disjoint.Contains(judge):
                    _diagnostics.Warning(code, $"{Who(judge)}verdict '{label}' ({times}) is not one of the labels {Listed(Labels)}; it counts as unparsed", location, "declare the vocabulary with --labels if the humans did not use every label");
                    break;
            }
        }

        return kept;
    }

    private static string Key(string label) => label.Trim().ToUpperInvariant();

    private static string Listed(IEnumerable<string> labels) => "{" + string.Join(", ", labels) + "}";

    private static string Who(string judge) => judge == JudgeAgreement.DefaultJudge ? "judge " : $"judge '{judge}': ";

    private string? Human(LabelledJudgment item)
    {
        if (_labels.Contains(item.Human))
        {
            return item.Human;
        }

        if (_canonical.TryGetValue(Key(item.Human), out var canonical))
        {
            if (_options.IgnoreCase)
            {
                return canonical;
            }

            Note("RC1405", string.Empty, item.Human, item.Location);
            return null;
        }

        Note("RC1404", string.Empty, item.Human, item.Location);
        return null;
    }

    private string Verdict(LabelledJudgment item, string verdict)
    {
        if (verdict == JudgeAgreement.Unparsed || _labels.Contains(verdict))
        {
            return verdict;
        }

        if (_canonical.TryGetValue(Key(verdict), out var canonical))
        {
            if (_options.IgnoreCase)
            {
                return canonical;
            }

            Note("RC1405", item.JudgeId, verdict, item.Location);
            return JudgeAgreement.Unparsed;
        }

        Note("RC1406", item.JudgeId, verdict, item.Location);
        return JudgeAgreement.Unparsed;
    }

    private void Note(string code, string judge, string label, SourceLocation? location)
    {
        var key = (code, judge, label);
        _problems[key] = _problems.TryGetValue(key, out var seen) ? (seen.First, seen.Count + 1) : (location, 1);
    }
}
