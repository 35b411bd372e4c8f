using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli;

/// <summary>The changelog entry of a change to the set, with the suite versions around it, and what the command says of it.</summary>
internal static class Lineage
{
    /// <summary>
    /// The changelog entry of a change from <paramref name="before"/> to <paramref name="after"/> (the project as the
    /// change leaves it, in memory), to append in the same journalled change as its files.
    /// </summary>
    public static ChangeEntry Entry(EvalProject before, EvalProject after, string command, string rule, string summary, IReadOnlyList<CaseMove> moves) =>
        new(DateTimeOffset.UtcNow, command, rule, before.Policy.Version, ProjectHasher.SuiteVersion(before), ProjectHasher.SuiteVersion(after), summary, moves) { Owner = before.Policy.Ownership?.Owner };

    /// <summary>Says which suite version a recorded change led to.</summary>
    public static void Say(CliContext context, ChangeEntry entry) =>
        context.Out.MarkupLine($"Suite version {entry.SuiteBefore} → [bold]{entry.SuiteAfter}[/]; recorded in {Changelog.FileName}.");
}
