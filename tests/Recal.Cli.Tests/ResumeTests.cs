using System.Diagnostics;
using FluentAssertions;
using Recal.Testing;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// <c>recal run</c> stopped part way, the hard way (the process killed) and the polite way (Ctrl-C), then
/// <c>recal run --resume</c>: every case ends with exactly one stored result, and no completed case is called again.
/// </summary>
public sealed class ResumeTests
{
    private const int Cases = 40;

    [Fact]
    public async Task A_killed_run_resumes_without_calling_any_case_completed_before_the_kill()
    {
        // Given a slow target (150 ms a reply) and a run of 40 cases at concurrency 2 in a child process, cache off
        await using var server = new FakeOpenAIServer { Latency = TimeSpan.FromMilliseconds(150) };
        using var project = new RunProject(server.BaseUrl, Cases);
        using var child = RecalProcess.Start("run", "--project", project.Folder, "--no-cache");

        // When at least ten results are stored, the process is killed outright
        var deadline = Stopwatch.StartNew();
        while (project.StoredResults().Count < 10)
        {
            child.Process.HasExited.Should().BeFalse($"the run should still be going; it printed:\n{child.Output}");
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromMinutes(2), "the child run should store results");
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }

        child.Process.Kill(entireProcessTree: true);
        await child.Process.WaitForExitAsync(TestContext.Current.CancellationToken);
        await server.SettleAsync(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);
        var completed = project.StoredResults();
        var runId = completed.Select(r => r.RunId).Distinct().Should().ContainSingle().Subject;
        var requestsBeforeResume = server.Requests.Count;
        completed.Count.Should().BeInRange(10, Cases - 1, "the kill must come before the run finished");
        project.RunStatus(runId).Should().Be("running", "a killed run never got to record how it ended");

        // And the run is resumed
        var resume = await CliRunner.RunAsync("run", "--project", project.Folder, "--resume", "--no-cache");

        // Then the resumed run finished, every case has exactly one result, and no case completed before the kill was sent again
        resume.Code.Should().Be(0, resume.Out + resume.Error);
        resume.Error.Should().Contain(runId);
        var final = project.StoredResults();
        final.Should().HaveCount(Cases);
        final.Select(r => r.CaseId).Should().OnlyHaveUniqueItems().And.BeEquivalentTo(Enumerable.Range(0, Cases).Select(RunProject.CaseId));
        project.RunStatus(runId).Should().Be("completed");
        var completedInputs = completed.Select(r => RunProject.Input(int.Parse(r.CaseId["case-".Length..], System.Globalization.CultureInfo.InvariantCulture))).ToHashSet();
        var afterKill = server.Requests.Skip(requestsBeforeResume).Select(r => r.LastContent).ToList();
        afterKill.Should().NotIntersectWith(completedInputs);
        afterKill.Should().OnlyHaveUniqueItems();
        afterKill.Should().HaveCount(Cases - completed.Count, "the resumed run calls each remaining case once");
        completedInputs.Should().OnlyContain(input => server.CountFor(input) == 1);

        // And each gold case's exposure counts the killed and resumed run once
        var status = await CliRunner.RunAsync("status", "--project", project.Folder);
        status.Out.Should().Contain($"1 target configuration(s) of 1 target(s) evaluated on the {Cases} gold cases in 1 run(s)").And.Contain("1.0 per case").And.Contain("no choice among configurations yet");
    }

    [Fact]
    public async Task Ctrl_c_stops_the_run_with_exit_code_130_marks_it_interrupted_and_resume_finishes_it()
    {
        // Given a run of 40 cases whose Ctrl-C comes when the target has received its tenth request
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        await using var server = new FakeOpenAIServer { Latency = TimeSpan.FromMilliseconds(20), Respond = CancelOnRequest(10, stop) };
        using var project = new RunProject(server.BaseUrl, Cases);

        // When the run is started in-process and stopped
        var stopped = await CliRunner.RunAsync(stop.Token, "run", "--project", project.Folder, "--no-cache");

        // Then it exits with 130, keeps what completed, and says how to resume
        stopped.Code.Should().Be(130, stopped.Out + stopped.Error);
        stopped.Error.Should().Contain("Stopped.").And.Contain("--resume");
        var kept = project.StoredResults();
        var runId = kept.Select(r => r.RunId).Distinct().Should().ContainSingle().Subject;
        kept.Count.Should().BeInRange(1, Cases - 1);
        project.RunStatus(runId).Should().Be("interrupted");
        var requestsBeforeResume = server.Requests.Count;

        // And resuming it finishes the remaining cases only
        server.Respond = null;
        var resume = await CliRunner.RunAsync("run", "--project", project.Folder, "--resume", runId, "--no-cache");

        resume.Code.Should().Be(0, resume.Out + resume.Error);
        project.StoredResults().Should().HaveCount(Cases);
        project.RunStatus(runId).Should().Be("completed");
        var keptInputs = kept.Select(r => "question " + r.CaseId["case-".Length..]).ToHashSet();
        server.Requests.Skip(requestsBeforeResume).Select(r => r.LastContent).Should().NotIntersectWith(keptInputs).And.HaveCount(Cases - kept.Count);
    }

    [Fact]
    public async Task Two_parallel_resumes_of_one_run_call_the_endpoint_once_per_case_and_the_second_says_who_holds_the_run()
    {
        // Given a run stopped after its fifth request, on a slow endpoint
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        await using var server = new FakeOpenAIServer { Latency = TimeSpan.FromMilliseconds(60), Respond = CancelOnRequest(5, stop) };
        using var project = new RunProject(server.BaseUrl, Cases);
        (await CliRunner.RunAsync(stop.Token, "run", "--project", project.Folder, "--no-cache")).Code.Should().Be(130);
        var runId = project.StoredResults().Select(r => r.RunId).Distinct().Single();
        var kept = project.StoredResults().Count;
        await Task.Delay(200, TestContext.Current.CancellationToken);
        var before = server.Requests.Count;
        server.Respond = null;

        // When two resumes of it start at once
        var resumes = await Task.WhenAll(
            Task.Run(() => CliRunner.RunAsync("run", "--project", project.Folder, "--resume", runId, "--no-cache"), TestContext.Current.CancellationToken),
            Task.Run(() => CliRunner.RunAsync("run", "--project", project.Folder, "--resume", runId, "--no-cache"), TestContext.Current.CancellationToken));

        // Then one finishes the run, the other is refused saying who runs it (or that it already finished), and no case was called twice
        resumes.Select(r => r.Code).Should().BeEquivalentTo([0, 2], string.Join("\n", resumes.Select(r => r.Error)));
        resumes.Single(r => r.Code == 2).Error.Should().Match(e => e.Contains("is being executed by", StringComparison.Ordinal) || e.Contains("already finished", StringComparison.Ordinal));
        project.StoredResults().Should().HaveCount(Cases);
        project.RunStatus(runId).Should().Be("completed");
        server.Requests.Skip(before).Select(r => r.LastContent).Should().OnlyHaveUniqueItems().And.HaveCount(Cases - kept);
    }

    [Fact]
    public async Task Resume_without_an_unfinished_run_says_there_is_none()
    {
        await using var server = new FakeOpenAIServer();
        using var project = new RunProject(server.BaseUrl, 3);
        (await CliRunner.RunAsync("run", "--project", project.Folder)).Code.Should().Be(0);

        var resume = await CliRunner.RunAsync("run", "--project", project.Folder, "--resume");

        resume.Code.Should().Be(2);
        resume.Error.Should().Contain("no unfinished run");
    }

    /// <summary>Answers normally and cancels <paramref name="stop"/> (a Ctrl-C) when the <paramref name="n"/>th request arrives.</summary>
    private static Func<FakeRequest, FakeReply?> CancelOnRequest(int n, CancellationTokenSource stop)
    {
        var received = 0;
        return _ =>
        {
            if (Interlocked.Increment(ref received) == n)
            {
                stop.Cancel();
            }

            return null;
        };
    }
}
