using System.CommandLine;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal init</c>: scaffolds a commented eval project.</summary>
internal static class InitCommand
{
    public static Command Create(CliContext context)
    {
        var directory = new Argument<DirectoryInfo?>("dir")
        {
            Description = "Where to create the project (default: the --project folder)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var name = new Option<string?>("--name") { Description = "The project name (default: the folder name)" };
        var command = new Command("init", "Create a commented starter eval project: recal.yaml, taxonomy.yaml, policy.yaml, cases/ and a .gitignore for the store");
        command.Arguments.Add(directory);
        command.Options.Add(name);
        command.SetAction(parse =>
        {
            var target = parse.GetValue(directory) ?? parse.GetValue(GlobalOptions.Project)!;
            var projectName = parse.GetValue(name) ?? target.Name;
            var diagnostics = ProjectScaffolder.Scaffold(target.FullName, projectName);
            ProjectSession.WriteDiagnostics(context.Error, diagnostics);
            if (diagnostics.Any(d => d.Severity == Diagnostics.Severity.Error))
            {
                return ExitCodes.CannotRun;
            }

            context.Out.MarkupLine($"Created eval project [bold]{Markup.Escape(projectName)}[/] in {Markup.Escape(target.FullName)}.");
            context.Out.MarkupLine("Next: edit taxonomy.yaml and policy.yaml, then [blue]recal validate[/], [blue]recal ingest traces.jsonl[/], [blue]recal drift[/].");
            return ExitCodes.Ok;
        });
        return command;
    }
}
