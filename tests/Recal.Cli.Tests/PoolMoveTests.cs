using FluentAssertions;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Workflows;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>A retirement or promotion as one journalled change: the cases moved and the change recorded together.</summary>
public sealed class PoolMoveTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public void Cases_moved_between_pools_and_the_changelog_entry_are_written_together_with_the_suite_they_lead_to()
    {
        // Given two gold cases of the sample
        var project = EvalProjectLoader.Load(_sample.Folder).Project!;
        var moving = project.Cases.Where(c => c.Pool == Pool.Gold).Take(2).ToList();
        var before = Changelog.Read(_sample.Folder).Entries.Count;

        // When they are retired
        ChangeEntry entry;
        using (var workspace = ProjectWorkspace.Open(_sample.Folder, "retire"))
        {
            entry = PoolMoveUseCase.Apply(
                new PoolMoveRequest(project, moving.ToDictionary(c => c.Id, _ => Pool.Retired, StringComparer.Ordinal), "retire", "retirement", "2 gold case(s) retired (test)",
                    [.. moving.Select(c => new CaseMove(c.Id, "gold", "retired", "test"))], new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero)),
                workspace);
        }

        // Then the files hold them retired, the entry names the suite the files now hash to, and no journal is left
        var after = EvalProjectLoader.Load(_sample.Folder).Project!;
        after.Cases.Where(c => moving.Any(m => m.Id == c.Id)).Should().HaveCount(2).And.OnlyContain(c => c.Pool == Pool.Retired);
        entry.SuiteBefore.Should().Be(ProjectHasher.SuiteVersion(project));
        entry.SuiteAfter.Should().Be(ProjectHasher.SuiteVersion(after)).And.NotBe(entry.SuiteBefore);
        var entries = Changelog.Read(_sample.Folder).Entries;
        entries.Should().HaveCount(before + 1);
        entries[^1].Moves.Select(m => m.CaseId).Should().Equal(moving.Select(c => c.Id));
        ProjectWorkspace.HasInterruptedChange(_sample.Folder).Should().BeFalse();
    }
}
