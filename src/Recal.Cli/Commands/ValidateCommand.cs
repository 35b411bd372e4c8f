using System.CommandLine;
using Recal.Diagnostics;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal validate</c>: checks every project file against its schema and the cross-references.</summary>
internal static class ValidateCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("validate", "Check recal.yaml, taxonomy.yaml, policy.yaml and every case file; exit code 1 when there are errors");
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(GlobalOptions.Project)!;
            ProjectSession.CompleteInterruptedChange(context, directory);
            var result = EvalProjectLoader.Load(directory.FullName);
            var diagnostics = ProjectSession.WithStoreCheck(context, result);
            ProjectSession.WriteDiagnostics(context.Out, diagnostics);
            var errors = diagnostics.Count(d => d.Severity == Severity.Error);
            var warnings = diagnostics.Count(d => d.Severity == Severity.Warning);
            var cases = result.Project?.Cases.Count ?? 0;
            if (errors == 0)
            {
                var seal = result.Project!.Seal is { } record ? $", and {record.Cases:N0} sealed holdout cases (until {record.SealedUntil:yyyy-MM-dd})" : string.Empty;
                context.Out.MarkupLine($"[green]Valid:[/] {cases:N0} cases{seal}, {result.Project.Taxonomy.Intents.Count} intents, policy v{result.Project.Policy.Version}" +
                    (warnings > 0 ? $"; {warnings} warning(s)" : string.Empty) + ".");
                return ExitCodes.Ok;
            }

            context.Out.MarkupLine($"[red]{errors} error(s)[/], {warnings} warning(s) in {Markup.Escape(directory.FullName)}.");
            return ExitCodes.Findings;
        });
        return command;
    }
}
