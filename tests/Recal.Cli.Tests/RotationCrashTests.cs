using FluentAssertions;
using Recal.Cli.Commands;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Storage.Sqlite;
using Recal.Workflows;
using Spectre.Console;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>The project's workspace under rotation: a crash mid-way never leaves it half-rotated, and a second writer is refused.</summary>
public sealed class RotationCrashTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_rotation_that_fails_mid_apply_is_completed_on_the_next_open_and_the_project_is_whole()
    {
        // Given the sample's traffic in the store and its sealed holdout opened with the demo key
        (await CliRunner.RunAsync("ingest", _sample.PathOf("traffic/traffic.jsonl.gz"), "-p", _sample.Folder)).Code.Should().Be(0);
        var project = EvalProjectLoader.Load(_sample.Folder).Project!;
        var quiet = new CliContext(AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }), AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }));
        var (holdout, error) = HoldoutCommand.OpenForRun(quiet, project, new FileInfo(_sample.PathOf("sample-holdout.key")), early: true);
        holdout.Should().NotBeNull(error);
        var suiteBefore = ProjectHasher.SuiteVersion(project);

        // When the rotation's change fails after its first two files (the seal not yet removed), as a crash would
        await using (var store = await SqliteStore.OpenAsync(project.Settings.StorePath, Token))
        {
            var plan = await RotateUseCase.PlanAsync(new RotateRequest(project, holdout!, 0.5, 0, DateTimeOffset.UtcNow), store, Token);
            var crashing = new WorkspaceOptions { Fault = (step, _) => { if (step == 2) { throw new IOException("power cut"); } } };
            using var workspace = ProjectWorkspace.Open(_sample.Folder, "rotate", crashing);
            var apply = () => RotateUseCase.ApplyAsync(plan, workspace, store, Token);
            await apply.Should().ThrowAsync<IOException>();
        }

        var halfway = (Seal: File.Exists(HoldoutSeal.RecordPath(_sample.Folder)), Retired: File.Exists(_sample.PathOf("cases/retired.jsonl")));
        var validate = await CliRunner.RunAsync("validate", "-p", _sample.Folder);

        // Then the crash left it half made, and the next command completed the rotation before reading the project
        halfway.Should().Be((true, true), "the graduates were written while the seal was still there");
        validate.Error.Should().Contain("warning RC1802").And.Contain("(rotate)");
        validate.Code.Should().Be(0, validate.Out + validate.Error);
        ProjectWorkspace.HasInterruptedChange(_sample.Folder).Should().BeFalse();
        File.Exists(HoldoutSeal.RecordPath(_sample.Folder)).Should().BeFalse();
        File.Exists(HoldoutSeal.CiphertextPath(_sample.Folder)).Should().BeFalse();
        Directory.EnumerateFiles(_sample.PathOf("drafts"), "holdout-*-s0.jsonl").Should().ContainSingle();
        var rotated = EvalProjectLoader.Load(_sample.Folder).Project!;
        rotated.Cases.Count(c => c.Id.StartsWith("holdout-", StringComparison.Ordinal) && c.Pool == Domain.Pool.Gold).Should().Be(holdout!.Count / 2);
        var entry = Changelog.Read(_sample.Folder).Entries[^1];
        entry.Rule.Should().Be("rotation");
        entry.SuiteBefore.Should().Be(suiteBefore);
        entry.SuiteAfter.Should().Be(ProjectHasher.SuiteVersion(rotated), "the entry's suite version is the rotated project's");
    }

    [Fact]
    public async Task A_second_writer_is_refused_with_the_holder_named()
    {
        // Given another writer holding the project
        using var holder = ProjectWorkspace.Open(_sample.Folder, "rotate");

        // When a command that writes to the project runs
        var unseal = await CliRunner.RunAsync("holdout", "unseal", "--key-file", _sample.PathOf("sample-holdout.key"), "-p", _sample.Folder);

        // Then it stops with RC1801 naming the holder, and changed nothing
        unseal.Code.Should().Be(2, unseal.Out);
        unseal.Error.Should().Contain("error RC1801").And.Contain($"process {Environment.ProcessId}").And.Contain("'recal rotate'");
        File.Exists(HoldoutSeal.RecordPath(_sample.Folder)).Should().BeTrue();
    }
}
