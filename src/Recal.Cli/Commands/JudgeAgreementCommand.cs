using System.CommandLine;
using System.Globalization;
using Recal.Diagnostics;
using Recal.Judging;
using Recal.Reporting;
using Recal.Reporting.Json;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal judge-agreement</c>: how well a judge agrees with human labels.</summary>
internal static class JudgeAgreementCommand
{
    public static Command Create(CliContext context)
    {
        var file = new Argument<FileInfo>("labels") { Description = "JSONL of labelled judgments: id, segment, human, judge, and judge_swapped for pairwise items (docs/judging.md)" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the figures as JSON", HelpName = "file" };
        var command = new Command("judge-agreement", "Measure a judge against human labels: accuracy, Cohen's kappa and, for pairwise judgments, position consistency, overall and per segment");
        command.Arguments.Add(file);
        command.Options.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            if (!path.Exists)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(path.FullName)}: no such file.");
                return ExitCodes.CannotRun;
            }

            var diagnostics = new DiagnosticBag();
            var items = JudgeAgreement.Read(path.FullName, diagnostics);
            ProjectSession.WriteDiagnostics(context.Error, diagnostics.Items);
            if (items.Count == 0)
            {
                context.Error.MarkupLine("[red]error[/]: no usable labelled judgment in the file.");
                return ExitCodes.CannotRun;
            }

            var rows = JudgeAgreement.Measure(items);
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumns("segment", "items", "accuracy", "Cohen's kappa", "pairwise", "position consistency");
            foreach (var column in table.Columns.Skip(1))
            {
                column.RightAligned();
            }

            foreach (var row in rows)
            {
                table.AddRow(
                    Markup.Escape(row.Segment),
                    row.Items.ToString("N0", CultureInfo.InvariantCulture),
                    row.Accuracy.ToString("0.000", CultureInfo.InvariantCulture),
                    double.IsNaN(row.Kappa) ? "n/a" : row.Kappa.ToString("0.000", CultureInfo.InvariantCulture),
                    row.PairwiseItems.ToString("N0", CultureInfo.InvariantCulture),
                    row.PositionConsistency is { } c ? c.ToString("0.000", CultureInfo.InvariantCulture) : "—");
            }

            context.Out.Write(table);
            if (parse.GetValue(json) is { } jsonFile)
            {
                await AtomicFile.WriteAllTextAsync(jsonFile.FullName, System.Text.Json.JsonSerializer.Serialize(new { format_version = 1, rows }, ReportJson.Options), cancellationToken).ConfigureAwait(false);
            }

            return diagnostics.HasErrors ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }
}
