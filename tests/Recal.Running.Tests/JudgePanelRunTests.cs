using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Recal.Judging;
using Recal.Scoring;
using Recal.Testing;
using Xunit;

namespace Recal.Running.Tests;

/// <summary>
/// A panel of three judges on the fake server, inside whole runs: format repair, failed votes, the review queue
/// and the judge cache. Judges answer by model name, so each can misbehave in its own way.
/// </summary>
public sealed class JudgePanelRunTests : IAsyncLifetime
{
    private static readonly Rubric Rubric = new(
        "answer-quality",
        1,
        "Grade the support answer.",
        [new RubricDimension("correctness", "Is it right?", 1, 5, new Dictionary<int, string> { [1] = "wrong", [5] = "right" })],
        new PassRule(4, null));

    private RunFixture _fixture = null!;

    public async ValueTask InitializeAsync() => _fixture = await RunFixture.CreateAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    private string ReviewQueuePath => Path.Combine(_fixture.Folder, ".recal", "review-queue.jsonl");

    [Fact]
    public async Task A_judge_in_the_wrong_schema_is_repaired_a_judge_that_never_complies_is_a_failed_vote_and_the_median_of_the_rest_decides()
    {
        // Given judge-a that answers well, judge-b that first uses the wrong key and then complies, judge-c that never gives JSON
        await using var server = new FakeOpenAIServer
        {
            Respond = Judges(new()
            {
                ["judge-a"] = _ => Verdict(5),
                ["judge-b"] = r => r.Messages.Count == 1 ? "```json\n{\"score\": 5}\n```" : Verdict(4),
                ["judge-c"] = _ => "Looks fine to me!",
            }),
        };
        var panel = Panel(server, "judge-a", "judge-b", "judge-c");
        var cases = RunFixture.Cases(2);
        var run = await _fixture.NewRunAsync(cases, judges: Rubric.Id);

        // When the run executes
        var summary = await Execute(run, cases, _fixture.Target(server), panel);

        // Then judge-b's vote is valid and marked repaired, judge-c's is a failed vote, and the cases pass on the median of two
        var results = await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken);
        results.Should().HaveCount(2).And.OnlyContain(r => r.Passed && r.Error == null);
        var outcome = results[0].Judge!;
        outcome.Failures.Should().Be(1);
        outcome.Median!["correctness"].Should().Be(4.5);
        outcome.NeedsReview.Should().BeFalse();
        var votes = outcome.Votes.ToDictionary(v => v.Judge);
        votes["judge-a"].Repaired.Should().BeFalse();
        votes["judge-a"].Scores!["correctness"].Should().Be(5);
        votes["judge-b"].Repaired.Should().BeTrue();
        votes["judge-b"].Error.Should().BeNull();
        votes["judge-b"].Scores!["correctness"].Should().Be(4);
        votes["judge-c"].Scores.Should().BeNull();
        votes["judge-c"].Error.Should().Contain("not JSON").And.Contain("after the repair request");
        var judgeScore = results[0].Scores.Single(s => s.Scorer == "judge:" + Rubric.Id);
        judgeScore.Passed.Should().BeTrue();
        judgeScore.Reason.Should().Contain("1 of 3 judges failed");

        // And the repair request carried the broken reply and the instructions, once per failing judge and case
        var repairs = server.Requests.Where(r => r.Model == "judge-b" && r.Messages.Count == 3).ToList();
        repairs.Should().HaveCount(2);
        repairs[0].Messages[1].Should().Be(("assistant", "```json\n{\"score\": 5}\n```"));
        repairs[0].Messages[2].Content.Should().Contain("could not be used").And.Contain("\"correctness\"");
        server.Requests.Count(r => r.Model == "judge-c").Should().Be(4, "one request and one repair request per case, no more");
        panel.Repairs.Should().Be(4);
        panel.FailedVotes.Should().Be(2);
        summary.Passed.Should().Be(2);
    }

    [Fact]
    public async Task When_every_judge_fails_the_case_is_an_error_and_never_a_pass()
    {
        // Given three judges that never reply with a usable verdict (one of them a server that is down)
        await using var server = new FakeOpenAIServer
        {
            Respond = r => r.Model == "judge-c" ? FakeReply.ServerError(503) : null,
            Answer = body => body.GetProperty("model").GetString() switch
            {
                "judge-a" => "{\"scores\": {\"correctness\": 9}}",
                "judge-b" => "{\"verdict\": \"pass\"}",
                _ => "echo: " + LastContent(body),
            },
        };
        var panel = Panel(server, "judge-a", "judge-b", "judge-c");
        var cases = RunFixture.Cases(3);
        var run = await _fixture.NewRunAsync(cases, judges: Rubric.Id);

        // When the run executes
        var summary = await Execute(run, cases, _fixture.Target(server), panel);

        // Then every case is an error (the assertions passed, but the judges could not judge), none a pass
        var results = await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken);
        results.Should().HaveCount(3).And.OnlyContain(r => !r.Passed && r.Error != null);
        results[0].Error.Should().Contain("no judge gave a usable verdict");
        var judgeScore = results[0].Scores.Single(s => s.Scorer == "judge:" + Rubric.Id);
        judgeScore.IsError.Should().BeTrue();
        judgeScore.Passed.Should().BeFalse();
        results[0].Scores.Single(s => s.Scorer != judgeScore.Scorer).Passed.Should().BeTrue();
        results[0].Judge!.Median.Should().BeNull();
        results[0].Judge!.Failures.Should().Be(3);
        results[0].Judge!.Votes.Single(v => v.Judge == "judge-a").Error.Should().Contain("outside 1–5");
        results[0].Judge!.Votes.Single(v => v.Judge == "judge-c").Error.Should().Contain("the call failed");
        summary.Errors.Should().Be(3);
        summary.Passed.Should().Be(0);
        summary.Degraded.Should().BeTrue();
    }

    [Fact]
    public async Task Judges_more_than_one_point_apart_send_the_case_to_the_review_queue()
    {
        // Given judges that score q01's answer 5, 2 and 4, and every other answer 5, 5 and 4
        await using var server = new FakeOpenAIServer
        {
            Respond = Judges(new()
            {
                ["judge-a"] = _ => Verdict(5),
                ["judge-b"] = r => Verdict(r.LastContent!.Contains("echo: q01", StringComparison.Ordinal) ? 2 : 5),
                ["judge-c"] = _ => Verdict(4),
            }),
        };
        var panel = Panel(server, "judge-a", "judge-b", "judge-c");
        var cases = RunFixture.Cases(3);
        var run = await _fixture.NewRunAsync(cases, judges: Rubric.Id);

        // When the run executes
        await Execute(run, cases, _fixture.Target(server), panel);

        // Then exactly one line, for q01, is in the review queue, with the input, the output and every vote
        var lines = await File.ReadAllLinesAsync(ReviewQueuePath, TestContext.Current.CancellationToken);
        lines.Should().ContainSingle();
        using var line = JsonDocument.Parse(lines[0]);
        var root = line.RootElement;
        root.GetProperty("run").GetString().Should().Be(run.Id);
        root.GetProperty("caseId").GetString().Should().Be("c01");
        root.GetProperty("input").GetString().Should().Be("q01");
        root.GetProperty("output").GetString().Should().Be("echo: q01");
        root.GetProperty("disagreements").EnumerateArray().Select(d => d.GetString()).Should().Equal("correctness");
        root.GetProperty("votes").GetArrayLength().Should().Be(3);
        root.GetProperty("median").GetProperty("correctness").GetDouble().Should().Be(4);
        panel.Reviews.Should().Be(1);
        var results = await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken);
        results.Single(r => r.CaseId == "c01").Judge!.NeedsReview.Should().BeTrue();
        results.Where(r => r.CaseId != "c01").Should().OnlyContain(r => !r.Judge!.NeedsReview);
    }

    [Fact]
    public async Task Judge_replies_are_cached_so_a_second_run_makes_no_judge_call()
    {
        // Given a run whose target and judges (one of them repaired) filled the cache
        await using var server = new FakeOpenAIServer
        {
            Respond = Judges(new()
            {
                ["judge-a"] = _ => Verdict(5),
                ["judge-b"] = r => r.Messages.Count == 1 ? "{\"scores\": {}}" : Verdict(5),
                ["judge-c"] = _ => Verdict(4),
            }),
        };
        var cases = RunFixture.Cases(4);
        var firstPanel = Panel(server, "judge-a", "judge-b", "judge-c", cache: true);
        await Execute(await _fixture.NewRunAsync(cases, judges: Rubric.Id), cases, _fixture.Target(server, cache: true), firstPanel);
        var afterFirst = server.Requests.Count;

        // When the same cases run again with a fresh panel on the same store
        var secondPanel = Panel(server, "judge-a", "judge-b", "judge-c", cache: true);
        var second = await _fixture.NewRunAsync(cases, judges: Rubric.Id);
        var summary = await Execute(second, cases, _fixture.Target(server, cache: true), secondPanel);

        // Then nothing was called, and every vote, the repaired one included, came from the cache with the same verdict
        firstPanel.Calls.Should().Be(16, "three judges and one repair request per case");
        afterFirst.Should().Be(20);
        server.Requests.Count.Should().Be(afterFirst);
        secondPanel.Calls.Should().Be(0);
        summary.Calls.Should().Be(0);
        summary.Passed.Should().Be(4);
        var results = await _fixture.Store.GetRunCasesAsync(second.Id, TestContext.Current.CancellationToken);
        results.SelectMany(r => r.Judge!.Votes).Should().OnlyContain(v => v.FromCache && v.Error == null);
        results.SelectMany(r => r.Judge!.Votes).Where(v => v.Judge == "judge-b").Should().OnlyContain(v => v.Repaired);
    }

    private static string Verdict(int correctness) =>
        JsonSerializer.Serialize(new { scores = new { correctness }, rationale = "graded" });

    private static string LastContent(JsonElement body)
    {
        var messages = body.GetProperty("messages");
        return messages[messages.GetArrayLength() - 1].GetProperty("content").GetString()!;
    }

    /// <summary>Judges answer by model; any other model (the target) gets the default echo.</summary>
    private static Func<FakeRequest, FakeReply?> Judges(Dictionary<string, Func<FakeRequest, string>> byModel) =>
        request => request.Model is { } model && byModel.TryGetValue(model, out var answer) ? FakeReply.Ok(answer(request)) : null;

    private JudgePanel Panel(FakeOpenAIServer server, string a, string b, string c, bool cache = false)
    {
        var judges = new[] { a, b, c }.Select((model, i) =>
            new PanelJudge(model, _fixture.Client(server, model), server.BaseUrl.ToString(), model, new ChatOptions { Temperature = 0, Seed = i + 1 })).ToList();
        return new JudgePanel(Rubric, judges, RetryPolicy.Create(RunFixture.FastRetries with { MaxRetries = 1 }), cache ? _fixture.Store : null, null, null, new ReviewQueue(ReviewQueuePath));
    }

    private Task<RunSummary> Execute(RunInfo run, IReadOnlyList<Recal.Domain.EvalCase> cases, ITarget target, JudgePanel panel) =>
        EvalRunner.ExecuteAsync(_fixture.Store, run, cases, target, [new AssertionScorer()], panel, null, new RunOptions(Concurrency: 2, MaxErrorShare: 0.05), cancellationToken: TestContext.Current.CancellationToken);
}
