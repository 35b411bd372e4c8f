using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli;

/// <summary>Appends a changelog entry after a command changed the set, with the suite versions around the change.</summary>
internal static class Lineage
{
    /// <summary>Records a change already written through <paramref name="workspace"/>: the suite version after is read back from the files.</summary>
    public static void Record(CliContext context, ProjectWorkspace workspace, EvalProject before, string command, string rule, string summary, IReadOnlyList<CaseMove> moves)
    {
        var after = EvalProjectLoader.Load(before.Root).Project;
        var suiteBefore = ProjectHasher.SuiteVersion(before);
        var suiteAfter = after is null ? "unreadable" : ProjectHasher.SuiteVersion(after);
        var entry = new ChangeEntry(DateTimeOffset.UtcNow, command, rule, before.Policy.Version, suiteBefore, suiteAfter, summary, moves) { Owner = before.Policy.Ownership?.Owner };
        Changelog.Append(workspace, entry);
        Say(context, entry);
    }

    /// <summary>Says which suite version a recorded change led to.</summary>
    public static void Say(CliContext context, ChangeEntry entry) =>
        context.Out.MarkupLine($"Suite version {entry.SuiteBefore} → [bold]{entry.SuiteAfter}[/]; recorded in {Changelog.FileName}.");
}
