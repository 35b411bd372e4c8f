using FluentAssertions;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Project;

/// <summary>The one writer of a project: locked, atomic, and a change of several files all or nothing after a crash.</summary>
public sealed class ProjectWorkspaceTests : IDisposable
{
    private static readonly WorkspaceOptions NoWait = new() { Wait = TimeSpan.Zero };

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Read(string relative) => File.ReadAllText(Path.Combine(_folder.Path, relative));

    private bool Exists(string relative) => File.Exists(Path.Combine(_folder.Path, relative));

    [Fact]
    public void Writes_whole_files_and_leaves_no_temporary_file()
    {
        using var workspace = ProjectWorkspace.Open(_folder.Path, "test");

        workspace.WriteAllLines("cases/gold.jsonl", ["a", "b"]);
        workspace.AppendAllLines("cases/gold.jsonl", ["c"]);
        workspace.AppendAllLines("cases/new.jsonl", ["x"]);
        workspace.Write("holdout/cases.sealed", [1, 2, 3]);
        workspace.Delete("holdout/missing.json");

        Read("cases/gold.jsonl").Should().Be("a\nb\nc\n");
        Read("cases/new.jsonl").Should().Be("x\n");
        File.ReadAllBytes(Path.Combine(_folder.Path, "holdout/cases.sealed")).Should().Equal(1, 2, 3);
        Directory.EnumerateFiles(_folder.Path, "*.tmp", SearchOption.AllDirectories).Should().BeEmpty();
        FluentActions.Invoking(() => workspace.WriteAllText("../outside.txt", "x")).Should().Throw<ArgumentException>().WithMessage("*outside the project*");
    }

    [Fact]
    public void A_second_writer_is_refused_with_the_holder_named_and_gets_in_once_the_first_is_done()
    {
        // Given a writer holding the project
        var first = ProjectWorkspace.Open(_folder.Path, "rotate");

        // When a second one tries, then tries again after the first is done
        var refused = FluentActions.Invoking(() => ProjectWorkspace.Open(_folder.Path, "label import", NoWait)).Should().Throw<WorkspaceException>().Which;
        first.Dispose();
        using var second = ProjectWorkspace.Open(_folder.Path, "label import", NoWait);

        // Then the refusal is RC1801 naming the holder's process and command
        refused.Diagnostic.Code.Should().Be(ProjectWorkspace.LockedCode);
        refused.Diagnostic.Message.Should().Contain($"process {Environment.ProcessId}").And.Contain("'recal rotate'");
        refused.Diagnostic.Location!.File.Should().Be(Path.Combine(".recal", "project.lock"));
        second.Diagnostics.Should().BeEmpty();
    }

    [Fact]
    public void A_change_reads_what_it_staged_and_changes_nothing_until_committed()
    {
        _folder.Write("cases/gold.jsonl", "a\n");
        using var workspace = ProjectWorkspace.Open(_folder.Path, "test");

        using (var change = workspace.Begin("test"))
        {
            change.AppendAllLines("cases/gold.jsonl", ["b"]);
            change.ReadAllLines("cases/gold.jsonl").Should().Equal("a", "b");
            change.Delete("cases/gold.jsonl");
            change.ReadAllText("cases/gold.jsonl").Should().BeNull();
        }

        Read("cases/gold.jsonl").Should().Be("a\n");
        ProjectWorkspace.HasInterruptedChange(_folder.Path).Should().BeFalse();
    }

    [Fact]
    public void A_change_interrupted_mid_way_is_completed_when_the_project_is_next_opened()
    {
        // Given a project with a case file and a seal
        _folder.Write("cases/gold.jsonl", "g1\n");
        _folder.Write("holdout/seal.json", "{}\n");
        _folder.Write("changelog.jsonl", "e1\n");

        // When a change of four files fails after its first two steps (as a crash would)
        var crashing = new WorkspaceOptions { Fault = (step, _) => { if (step == 2) { throw new IOException("power cut"); } } };
        using (var workspace = ProjectWorkspace.Open(_folder.Path, "rotate", crashing))
        {
            using var change = workspace.Begin("rotate");
            change.AppendAllLines("cases/gold.jsonl", ["h1"]);
            change.WriteAllLines("cases/retired.jsonl", ["h2"]);
            change.Delete("holdout/seal.json");
            change.AppendAllLines("changelog.jsonl", ["e2"]);
            FluentActions.Invoking(change.Commit).Should().Throw<IOException>();
        }

        var halfway = (Read("cases/gold.jsonl"), Exists("holdout/seal.json"), Read("changelog.jsonl"));
        using var reopened = ProjectWorkspace.Open(_folder.Path, "status");

        // Then it was half made, and reopening completed it and said so
        halfway.Should().Be(("g1\nh1\n", true, "e1\n"));
        ProjectWorkspace.HasInterruptedChange(_folder.Path).Should().BeFalse();
        Read("cases/gold.jsonl").Should().Be("g1\nh1\n");
        Read("cases/retired.jsonl").Should().Be("h2\n");
        Exists("holdout/seal.json").Should().BeFalse();
        Read("changelog.jsonl").Should().Be("e1\ne2\n");
        reopened.Diagnostics.Should().ContainSingle().Which.Code.Should().Be(ProjectWorkspace.RecoveredCode);
        reopened.Diagnostics[0].Message.Should().Contain("(rotate)").And.Contain("4 file(s)");
    }

    [Fact]
    public void A_journal_that_cannot_be_read_stops_the_next_writer_and_applies_nothing()
    {
        _folder.Write(".recal/project.journal", "{ not json");

        var thrown = FluentActions.Invoking(() => ProjectWorkspace.Open(_folder.Path, "rotate", NoWait)).Should().Throw<WorkspaceException>().Which;

        thrown.Diagnostic.Code.Should().Be(ProjectWorkspace.BadJournalCode);
        ProjectWorkspace.HasInterruptedChange(_folder.Path).Should().BeTrue();
        FluentActions.Invoking(() => ProjectWorkspace.Open(_folder.Path, "rotate", NoWait)).Should().Throw<WorkspaceException>()
            .Which.Diagnostic.Code.Should().Be(ProjectWorkspace.BadJournalCode, "the refused open released the lock");
    }
}
