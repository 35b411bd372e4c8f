using Recal.Diagnostics;
using Recal.Domain;
using Recal.Project;
using Recal.Storage.Sqlite;
using Spectre.Console;

namespace Recal.Cli;

/// <summary>Loads the eval project a command works on and reports its diagnostics.</summary>
internal static class ProjectSession
{
    /// <summary>Loads the project; prints its problems; returns null when it has errors.</summary>
    public static EvalProject? Load(CliContext context, DirectoryInfo directory, bool showWarnings = false)
    {
        var result = EvalProjectLoader.Load(directory.FullName);
        var errors = result.Diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        WriteDiagnostics(context.Error, showWarnings ? result.Diagnostics : errors);
        if (result.Project is null || errors.Count > 0)
        {
            context.Error.MarkupLine($"[red]The project in {Markup.Escape(directory.FullName)} has {errors.Count} error(s); run 'recal validate' for details.[/]");
            return null;
        }

        return result.Project;
    }

    /// <summary>Opens the project's store for a command that writes to it (creating and migrating it as needed).</summary>
    public static async Task<SqliteStore> OpenStoreAsync(CliContext context, EvalProject project, CancellationToken cancellationToken)
    {
        context.StorePath = project.Settings.StorePath;
        return Opened(context, await SqliteStore.OpenAsync(project.Settings.StorePath, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Says so when the store was found not closed cleanly (and sound by its quick check).</summary>
    private static SqliteStore Opened(CliContext context, SqliteStore store)
    {
        if (store.UncleanShutdown is { } who)
        {
            context.Error.MarkupLine($"[yellow]note[/]: the store was not closed cleanly ({Markup.Escape(who)} stopped with it open); SQLite's quick check finds no damage");
        }

        return store;
    }

    /// <summary>
    /// Opens the project's store for a command that reads it and caches what it computes (embeddings, a trained
    /// classifier): for writing when it can, else read-only, when the caches are used but not filled.
    /// </summary>
    public static async Task<SqliteStore> OpenStoreForCachingAsync(CliContext context, EvalProject project, CancellationToken cancellationToken)
    {
        context.StorePath = project.Settings.StorePath;
        try
        {
            return Opened(context, await SqliteStore.OpenAsync(project.Settings.StorePath, cancellationToken).ConfigureAwait(false));
        }
        catch (Storage.StoreException e) when (e.InnerException is Microsoft.Data.Sqlite.SqliteException { SqliteErrorCode: SQLitePCL.raw.SQLITE_READONLY or SQLitePCL.raw.SQLITE_CANTOPEN } && File.Exists(project.Settings.StorePath))
        {
            return Opened(context, await SqliteStore.OpenReadOnlyAsync(project.Settings.StorePath, cancellationToken).ConfigureAwait(false));
        }
    }

    /// <summary>Opens the project's store for a command that only reads it: a read-only store file works.</summary>
    public static async Task<SqliteStore> OpenStoreForReadingAsync(CliContext context, EvalProject project, CancellationToken cancellationToken)
    {
        context.StorePath = project.Settings.StorePath;
        return Opened(context, await SqliteStore.OpenReadOnlyAsync(project.Settings.StorePath, cancellationToken).ConfigureAwait(false));
    }

    public static void WriteDiagnostics(IAnsiConsole console, IEnumerable<Diagnostic> diagnostics)
    {
        foreach (var diagnostic in diagnostics)
        {
            var colour = diagnostic.Severity switch
            {
                Severity.Error => "red",
                Severity.Warning => "yellow",
                _ => "grey",
            };
            var place = diagnostic.Location is null ? string.Empty : Markup.Escape(diagnostic.Location.ToString()) + ": ";
            var hint = diagnostic.Hint is null ? string.Empty : $"\n    [grey]{Markup.Escape(diagnostic.Hint)}[/]";
            console.MarkupLine($"{place}[{colour}]{diagnostic.Severity.ToString().ToLowerInvariant()} {diagnostic.Code}[/]: {Markup.Escape(diagnostic.Message)}{hint}");
        }
    }
}
