using System.CommandLine;
using Recal.Lifecycle;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal history</c>: the set's suite versions and what changed between them; rebuilds a past version.</summary>
internal static class HistoryCommand
{
    public static Command Create(CliContext context)
    {
        var rebuild = new Option<string?>("--rebuild") { Description = "Rebuild the project as it was at this suite version (needs the project under git)", HelpName = "version" };
        var output = new Option<DirectoryInfo?>("--out") { Description = "Where --rebuild writes the project", HelpName = "dir" };
        var verbose = new Option<bool>("--moves") { Description = "List every case that moved" };
        var command = new Command("history", "List the suite versions of the set with what moved, why and under which rule; rebuild a past version");
        foreach (var option in new Option[] { rebuild, output, verbose })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            if (parse.GetValue(rebuild) is { } version)
            {
                return Rebuild(context, project.Root, version, parse.GetValue(output));
            }

            var (entries, problems) = Changelog.Read(project.Root);
            foreach (var problem in problems)
            {
                context.Error.MarkupLine($"[yellow]warning[/]: {Markup.Escape(problem)}");
            }

            context.Out.MarkupLine($"Current suite version: [bold]{ProjectHasher.SuiteVersion(project)}[/]");
            if (entries.Count == 0)
            {
                context.Out.MarkupLine($"No change recorded yet: {Changelog.FileName} is written by label import, holdout seal/unseal, retire, promote and rotate.");
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Simple);
            table.AddColumns("when (UTC)", "command", "rule", "policy", "suite", "what");
            foreach (var entry in entries)
            {
                table.AddRow(
                    entry.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture),
                    Markup.Escape(entry.Command),
                    Markup.Escape(entry.Rule),
                    $"v{entry.PolicyVersion}",
                    $"{entry.SuiteBefore} → {entry.SuiteAfter}",
                    Markup.Escape(entry.Summary));
                if (parse.GetValue(verbose))
                {
                    foreach (var move in entry.Moves)
                    {
                        table.AddRow(string.Empty, string.Empty, string.Empty, string.Empty, Markup.Escape(move.CaseId), Markup.Escape($"{move.From ?? "—"} → {move.To ?? "—"}{(move.Reason is null ? string.Empty : ": " + move.Reason)}"));
                    }
                }
            }

            context.Out.Write(table);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static int Rebuild(CliContext context, string root, string version, DirectoryInfo? output)
    {
        if (output is null)
        {
            context.Error.MarkupLine("[red]error[/]: --rebuild needs --out DIR, an empty folder to write the past project to.");
            return ExitCodes.CannotRun;
        }

        if (output.Exists && output.EnumerateFileSystemInfos().Any())
        {
            context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(output.FullName)} is not empty.");
            return ExitCodes.CannotRun;
        }

        var (commit, error) = Changelog.FindCommit(root, version);
        if (commit is null)
        {
            context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)}");
            return ExitCodes.CannotRun;
        }

        if (Changelog.Export(root, commit, output.FullName) is { } exportError)
        {
            context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(exportError)}");
            return ExitCodes.CannotRun;
        }

        var rebuilt = EvalProjectLoader.Load(output.FullName).Project;
        var actual = rebuilt is null ? null : ProjectHasher.SuiteVersion(rebuilt);
        if (actual != version)
        {
            context.Error.MarkupLine($"[red]error[/]: the project at commit {commit[..12]} hashes to {actual ?? "nothing (it does not load)"}, not {Markup.Escape(version)}.");
            return ExitCodes.Findings;
        }

        context.Out.MarkupLine($"Suite version [bold]{Markup.Escape(version)}[/] rebuilt from commit {commit[..12]} into {Markup.Escape(output.FullName)}; its hash checks out.");
        return ExitCodes.Ok;
    }
}
