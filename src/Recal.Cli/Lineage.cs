using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli;

/// <summary>Appends a changelog entry after a command changed the set, with the suite versions around the change.</summary>
internal static class Lineage
{
    public static void Record(CliContext context, EvalProject before, string command, string rule, string summary, IReadOnlyList<CaseMove> moves)
    {
        var after = EvalProjectLoader.Load(before.Root).Project;
        var suiteBefore = ProjectHasher.SuiteVersion(before);
        var suiteAfter = after is null ? "unreadable" : ProjectHasher.SuiteVersion(after);
        Changelog.Append(before.Root, new ChangeEntry(DateTimeOffset.UtcNow, command, rule, before.Policy.Version, suiteBefore, suiteAfter, summary, moves) { Owner = before.Policy.Ownership?.Owner });
        context.Out.MarkupLine($"Suite version {suiteBefore} → [bold]{suiteAfter}[/]; recorded in {Changelog.FileName}.");
    }
}
