using System.CommandLine;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Workflows;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal label export|import</c>: the labelling round trip for drafts.</summary>
internal static class LabelCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("label", "Send drafts out for labelling and bring labelled cases back");
        command.Subcommands.Add(Export(context));
        command.Subcommands.Add(Import(context));
        return command;
    }

    private static Command Export(CliContext context)
    {
        var csv = new Option<FileInfo?>("--csv") { Description = "Write the drafts as CSV for a spreadsheet", HelpName = "file" };
        var jsonl = new Option<FileInfo?>("--jsonl") { Description = "Write the drafts as JSONL with empty references to fill", HelpName = "file" };
        var pool = EnumOptions.One<Pool>("--pool", "Only drafts bound for this pool");
        var command = new Command("export", "Write the drafts with their production answer and feedback as context, for labellers");
        foreach (var option in new Option[] { csv, jsonl, pool })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            var wanted = parse.GetValue(pool)?.ToString().ToLowerInvariant();
            var drafts = SampleCommand.ReadDraftFiles(context, project.Root).Select(d => d.Draft).Where(d => wanted is null || d.Pool == wanted).ToList();
            if (drafts.Count == 0)
            {
                context.Error.MarkupLine("[red]error[/]: there are no drafts to label; draw some with [blue]recal sample[/].");
                return ExitCodes.CannotRun;
            }

            var csvFile = parse.GetValue(csv);
            var jsonlFile = parse.GetValue(jsonl);
            if (csvFile is null && jsonlFile is null)
            {
                csvFile = new FileInfo(Path.Combine(project.Root, SampleCommand.DraftsFolder, "to-label.csv"));
            }

            if (csvFile is not null)
            {
                await Reporting.AtomicFile.WriteAllTextAsync(csvFile.FullName, Labelling.ToCsv(drafts), cancellationToken).ConfigureAwait(false);
                context.Out.MarkupLine($"{drafts.Count:N0} drafts written to {Markup.Escape(csvFile.FullName)}: fill intent (if wrong), reference_high and optionally reference_borderline, contains, difficulty, valid_until.");
            }

            if (jsonlFile is not null)
            {
                await Reporting.AtomicFile.WriteAllTextAsync(jsonlFile.FullName, Labelling.ToJsonl(drafts), cancellationToken).ConfigureAwait(false);
                context.Out.MarkupLine($"{drafts.Count:N0} drafts written to {Markup.Escape(jsonlFile.FullName)}: fill references (text, grade high|borderline) and optionally assertions.");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Import(CliContext context)
    {
        var file = new Argument<FileInfo>("file") { Description = "The labelled CSV or JSONL" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and show what would be imported without writing" };
        var command = new Command("import", "Validate labelled drafts and add them as cases; rows with problems are reported with their line and stay drafts");
        command.Arguments.Add(file);
        command.Options.Add(dryRun);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var directory = parse.GetValue(GlobalOptions.Project)!;
            using var workspace = ProjectSession.OpenWorkspace(context, directory, "label import");
            var project = ProjectSession.Load(context, directory);
            if (project is null || workspace is null)
            {
                return ExitCodes.CannotRun;
            }

            var input = parse.GetValue(file)!;
            if (!input.Exists)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(input.FullName)}: no such file.");
                return ExitCodes.CannotRun;
            }

            var outcome = LabelImportUseCase.Run(new LabelImportRequest(project, input.FullName, DateTimeOffset.UtcNow, parse.GetValue(dryRun), input.Name), workspace);
            foreach (var problem in outcome.DraftProblems)
            {
                context.Error.MarkupLine($"[yellow]warning[/]: {Markup.Escape(problem)}");
            }

            var result = outcome.Import;
            ProjectSession.WriteDiagnostics(context.Error, result.Diagnostics);
            var errors = outcome.Errors;
            foreach (var (pool, target, count) in outcome.Written)
            {
                context.Out.MarkupLine($"{count:N0} case(s) for {pool.ToString().ToLowerInvariant()} → {Markup.Escape(Path.GetRelativePath(project.Root, target))}");
            }

            if (outcome.Entry is { } entry)
            {
                Lineage.Say(context, entry);
            }

            context.Out.MarkupLine($"Imported {result.Cases.Count:N0}; {result.Unlabelled.Count:N0} row(s) without a reference stay drafts; {errors:N0} row problem(s).{(parse.GetValue(dryRun) ? " Dry run: nothing was written." : string.Empty)}");
            return errors > 0 ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }
}
