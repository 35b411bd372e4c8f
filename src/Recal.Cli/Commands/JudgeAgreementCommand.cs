using System.CommandLine;
using System.Globalization;
using Recal.Diagnostics;
using Recal.Judging;
using Recal.Reporting;
using Recal.Reporting.Judging;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal judge-agreement</c>: how well judges agree with human labels and with each other.</summary>
internal static class JudgeAgreementCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<FileInfo>("labels") { Description = "Labelled judgments: JSON Lines, a JSON array or {\"items\": [...]}; id, segment, human, judge (or judges), judge_id, judge_swapped (docs/judging.md)" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the figures as JSON (docs/schemas/judge-agreement.schema.json)", HelpName = "file" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the figures as Markdown", HelpName = "file" };
        var labels = new Option<string?>("--labels") { Description = "The label vocabulary, comma-separated (default: the labels the humans used)", HelpName = "a,b,..." };
        var ignoreCase = new Option<bool>("--ignore-case") { Description = "Fold labels that differ only in case or surrounding spaces onto one spelling instead of reporting them" };
        var frame = new Option<string>("--swapped-frame") { Description = "How judge_swapped is written: presented (A = the answer shown first in the swapped order; default) or original (already mapped back)", DefaultValueFactory = _ => "presented" };
        frame.AcceptOnlyFromAmong("presented", "original");
        var pairLabels = new Option<string>("--pair-labels") { Description = "The labels of the first- and second-shown answers", HelpName = "first,second", DefaultValueFactory = _ => "A,B" };
        var confidence = new Option<double>("--confidence") { Description = "Confidence level of the intervals", DefaultValueFactory = _ => 0.95 };
        var small = new Option<int>("--small-sample") { Description = "Segments with fewer items are marked small", DefaultValueFactory = _ => 30, HelpName = "n" };
        var command = new Command("judge-agreement", "Measure judges against human labels: accuracy and Cohen's kappa with intervals per judge and segment, both presentation orders and position bias for pairwise judgments, a confusion matrix, and judge-vs-judge agreement");
        command.Arguments.Add(file);
        foreach (var option in new Option[] { json, markdown, labels, ignoreCase, frame, pairLabels, confidence, small })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(path.FullName)}: no such file.");
                return ExitCodes.CannotRun;
            }

            var pair = parse.GetValue(pairLabels)!.Split(',', StringSplitOptions.TrimEntries);
            var level = parse.GetValue(confidence);
            if (pair.Length != 2 || pair.Any(p => p.Length == 0) || pair[0] == pair[1])
            {
                context.Error.MarkupLine($"[red]error[/]: --pair-labels wants two different labels, first- and second-shown, e.g. A,B or model_a,model_b; got '{Markup.Escape(parse.GetValue(pairLabels)!)}'.");
                return ExitCodes.CannotRun;
            }

            if (level is <= 0 or >= 1)
            {
                context.Error.MarkupLine($"[red]error[/]: --confidence must lie strictly between 0 and 1, e.g. 0.95; got {level.ToString(CultureInfo.InvariantCulture)}.");
                return ExitCodes.CannotRun;
            }

            var options = new JudgeAgreementOptions(
                parse.GetValue(labels) is { } list ? [.. list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)] : null,
                parse.GetValue(ignoreCase),
                parse.GetValue(frame) == "original" ? SwappedFrame.Original : SwappedFrame.Presented,
                pair[0],
                pair[1],
                level,
                parse.GetValue(small));
            var diagnostics = new DiagnosticBag();
            var items = JudgeAgreement.Read(path.FullName, diagnostics);
            var report = items.Count == 0 ? null : JudgeAgreement.Measure(items, options, diagnostics);
            ProjectSession.WriteDiagnostics(context.Error, diagnostics.Items);
            if (report is null || report.Rows.Count == 0)
            {
                context.Error.MarkupLine("[red]error[/]: no usable labelled judgment in the file.");
                return ExitCodes.CannotRun;
            }

            JudgeAgreementWriters.Render(context.Out, report);
            if (parse.GetValue(json) is { } jsonFile)
            {
                await AtomicFile.WriteAllTextAsync(jsonFile.FullName, JudgeAgreementWriters.ToJson(report, path.Name, diagnostics.Items), cancellationToken).ConfigureAwait(false);
            }

            if (parse.GetValue(markdown) is { } markdownFile)
            {
                await AtomicFile.WriteAllTextAsync(markdownFile.FullName, JudgeAgreementWriters.ToMarkdown(report, path.Name, diagnostics.Items), cancellationToken).ConfigureAwait(false);
            }

            return diagnostics.HasErrors ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }
}
