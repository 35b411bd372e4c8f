using System.CommandLine;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal store check</c>: the store's own check of its data (SQLite: every page, index and reference).</summary>
internal static class StoreCommand
{
    public static Command Create(CliContext context)
    {
        var quick = new Option<bool>("--quick") { Description = "Check pages and constraints but not that every index matches its table (several times faster)" };
        var check = new Command("check", "Check the store's integrity (every page, index and reference); exit 1 when it is damaged");
        check.Options.Add(quick);
        check.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            var path = project.Settings.Store.Display;
            if (!await ProjectSession.StoreExistsAsync(context, project, cancellationToken).ConfigureAwait(false))
            {
                context.Error.MarkupLine($"[red]error[/]: there is no store at {Markup.Escape(path)} yet; [blue]recal ingest FILE[/] creates it.");
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForCheckAsync(context, project, cancellationToken).ConfigureAwait(false);
            var problems = await store.CheckIntegrityAsync(parse.GetValue(quick), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (problems.Count == 0)
            {
                context.Out.MarkupLine($"[green]The store is sound[/]: {Markup.Escape(path)} (schema version {store.SchemaVersion}, {(parse.GetValue(quick) ? "quick check" : "full integrity check")}).");
                return ExitCodes.Ok;
            }

            ProjectSession.WriteDiagnostics(context.Error, [new Diagnostics.Diagnostic(
                Diagnostics.Severity.Error,
                StoreException.Damaged,
                $"the store is damaged: {problems.Count} problem(s), first: {problems[0]}",
                new Diagnostics.SourceLocation(path),
                "restore the store from a backup, or move it away and ingest the traces again (runs and caches are then lost); until then no command reports from it")]);
            foreach (var problem in problems.Skip(1))
            {
                context.Out.WriteLine(problem);
            }

            return ExitCodes.Findings;
        });
        var command = new Command("store", "Look after the project's store (docs/store.md)");
        command.Subcommands.Add(check);
        return command;
    }
}
