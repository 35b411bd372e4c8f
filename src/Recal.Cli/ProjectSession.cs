using Recal.Diagnostics;
using Recal.Domain;
using Recal.Project;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli;

/// <summary>Loads the eval project a command works on and reports its diagnostics.</summary>
internal static class ProjectSession
{
    /// <summary>Loads the project; prints its problems; returns null when it has errors (a store no provider opens among them).</summary>
    public static EvalProject? Load(CliContext context, DirectoryInfo directory, bool showWarnings = false)
    {
        CompleteInterruptedChange(context, directory);
        var result = EvalProjectLoader.Load(directory.FullName);
        var diagnostics = WithStoreCheck(context, result);
        var errors = diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        WriteDiagnostics(context.Error, showWarnings ? diagnostics : errors);
        if (result.Project is null || errors.Count > 0)
        {
            context.Error.MarkupLine($"[red]The project in {Markup.Escape(directory.FullName)} has {errors.Count} error(s); run 'recal validate' for details.[/]");
            return null;
        }

        return result.Project;
    }

    /// <summary>Completes a change a crash interrupted before anything reads the project, so nothing sees it half-made.</summary>
    public static void CompleteInterruptedChange(CliContext context, DirectoryInfo directory)
    {
        if (ProjectWorkspace.HasInterruptedChange(directory.FullName))
        {
            using var recovering = OpenWorkspace(context, directory, "recover");
        }
    }

    /// <summary>
    /// Opens the project's workspace for a command that writes to the project: takes its lock (RC1801 naming the holder
    /// when another writer keeps it) and completes a change a crash interrupted, saying so. Null when the folder holds no
    /// project (the load that follows says so).
    /// </summary>
    public static ProjectWorkspace? OpenWorkspace(CliContext context, DirectoryInfo directory, string command)
    {
        if (!File.Exists(Path.Combine(directory.FullName, EvalProjectLoader.ProjectFile)))
        {
            return null;
        }

        var workspace = ProjectWorkspace.Open(directory.FullName, command);
        WriteDiagnostics(context.Error, workspace.Diagnostics);
        return workspace;
    }

    /// <summary>The loader's diagnostics and, when recal.yaml was read, the host's check of its <c>store:</c> setting.</summary>
    public static IReadOnlyList<Diagnostic> WithStoreCheck(CliContext context, ProjectLoadResult result) =>
        result.Settings is { } settings && context.Stores.Check(settings.Store) is { } unknown ? [.. result.Diagnostics, unknown] : result.Diagnostics;

    /// <summary>Opens the project's store for a command that writes to it (creating and migrating it as needed).</summary>
    public static Task<IRecalStore> OpenStoreAsync(CliContext context, EvalProject project, CancellationToken cancellationToken) =>
        Provider(context, project).OpenAsync(project.Settings.Store, Note(context), cancellationToken);

    /// <summary>
    /// Opens the project's store for a command that reads it and caches what it computes (embeddings, a trained
    /// classifier): for writing when it can, else read-only, when the caches are used but not filled.
    /// </summary>
    public static Task<IRecalStore> OpenStoreForCachingAsync(CliContext context, EvalProject project, CancellationToken cancellationToken) =>
        Provider(context, project).OpenForCachingAsync(project.Settings.Store, Note(context), cancellationToken);

    /// <summary>Opens the project's store for a command that only reads it: a read-only store works.</summary>
    public static Task<IRecalStore> OpenStoreForReadingAsync(CliContext context, EvalProject project, CancellationToken cancellationToken) =>
        Provider(context, project).OpenReadOnlyAsync(project.Settings.Store, Note(context), cancellationToken);

    /// <summary>Opens the project's store to check its integrity.</summary>
    public static Task<IRecalStore> OpenStoreForCheckAsync(CliContext context, EvalProject project, CancellationToken cancellationToken) =>
        Provider(context, project).OpenForCheckAsync(project.Settings.Store, cancellationToken);

    /// <summary>Whether the project's store exists yet.</summary>
    public static ValueTask<bool> StoreExistsAsync(CliContext context, EvalProject project, CancellationToken cancellationToken) =>
        Provider(context, project).ExistsAsync(project.Settings.Store, cancellationToken);

    /// <summary>The provider of the project's store, remembered so a store failure anywhere in the command can say which store failed.</summary>
    private static IStoreProvider Provider(CliContext context, EvalProject project)
    {
        context.Store = project.Settings.Store;
        return context.Stores.Resolve(project.Settings.Store);
    }

    /// <summary>What the provider says of the store as found, as a note on the error console.</summary>
    private static Action<string> Note(CliContext context) => text => context.Error.MarkupLine($"[yellow]note[/]: {Markup.Escape(text)}");

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
