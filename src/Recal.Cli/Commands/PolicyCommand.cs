using System.CommandLine;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal policy</c>: prints the sampling policy as plain language.</summary>
internal static class PolicyCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("policy", "Print the sampling policy as the plain-language paragraph a new engineer reads in five minutes");
        command.SetAction(parse =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            context.Out.WriteLine(PolicyNarrator.Describe(project.Policy, project.Taxonomy));
            return ExitCodes.Ok;
        });
        return command;
    }
}
