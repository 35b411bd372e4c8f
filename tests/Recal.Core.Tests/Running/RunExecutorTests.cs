using System.Text.Json;
using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Recal.Scoring;
using Xunit;

namespace Recal.Core.Tests.Running;

public sealed class RunExecutorTests
{
    [Fact]
    public async Task Keeps_no_more_cases_in_flight_than_the_concurrency_allows()
    {
        var cases = Enumerable.Range(0, 40).Select(i => Case($"c{i}", "ok")).ToList();
        var inFlight = 0;
        var most = 0;

        var run = await RunExecutor.ExecuteAsync(cases, async (c, token) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref most, now);
            await Task.Delay(5, token);
            Interlocked.Decrement(ref inFlight);
            return Response("ok");
        }, [new AssertionScorer()], new RunOptions(Concurrency: 4), cancellationToken: TestContext.Current.CancellationToken);

        most.Should().BeLessThanOrEqualTo(4).And.BeGreaterThan(1);
        run.Passed.Should().Be(40);
        run.PassRate.Should().Be(1);
    }

    [Fact]
    public async Task A_failed_call_is_recorded_as_an_error_never_a_pass_and_too_many_errors_degrade_the_run()
    {
        // Given ten cases of which two fail at the target and one fails its assertion
        var cases = Enumerable.Range(0, 10).Select(i => Case($"c{i}", i == 5 ? "missing" : "ok")).ToList();

        // When the run executes with at most 10% errors allowed
        var run = await RunExecutor.ExecuteAsync(cases, (c, _) =>
            c.Id is "c1" or "c2"
                ? throw new TargetCallException("503 after 4 retries", 503, null, transient: true)
                : ValueTask.FromResult(Response("the answer is ok")),
            [new AssertionScorer()], new RunOptions(MaxErrorShare: 0.1), cancellationToken: TestContext.Current.CancellationToken);

        // Then every case is accounted for, errors apart from failures, and the run is degraded
        run.Cases.Should().HaveCount(10);
        run.Errors.Should().Be(2);
        run.Failed.Should().Be(1);
        run.Passed.Should().Be(7);
        run.PassRate.Should().BeApproximately(7 / 8.0, 1e-12);
        run.Degraded.Should().BeTrue();
        run.Cases.Single(c => c.CaseId == "c1").Error.Should().Contain("503");
        run.Cases.Single(c => c.CaseId == "c5").Scores.Single().Reason.Should().Contain("missing 'missing'");
    }

    [Fact]
    public async Task A_broken_assertion_makes_the_case_an_error()
    {
        var evalCase = Case("c", "ok") with { Assertions = [new Assertion("regex", JsonSerializer.SerializeToElement("(unclosed"), new Dictionary<string, JsonElement>())] };

        var run = await RunExecutor.ExecuteAsync([evalCase], (_, _) => ValueTask.FromResult(Response("ok")), [new AssertionScorer()], new RunOptions(), cancellationToken: TestContext.Current.CancellationToken);

        run.Errors.Should().Be(1);
        run.Passed.Should().Be(0);
        run.Cases[0].Error.Should().Contain("invalid regular expression");
    }

    [Fact]
    public async Task A_failure_no_provider_classified_is_that_cases_error_and_the_run_goes_on()
    {
        var cases = Enumerable.Range(0, 5).Select(i => Case($"c{i}", "ok")).ToList();

        var run = await RunExecutor.ExecuteAsync(cases, (c, _) =>
            c.Id == "c2" ? throw new HttpRequestException("connection reset by peer") : ValueTask.FromResult(Response("ok")),
            [new AssertionScorer()], new RunOptions(), cancellationToken: TestContext.Current.CancellationToken);

        run.Errors.Should().Be(1);
        run.Passed.Should().Be(4);
        run.Cases.Single(c => c.CaseId == "c2").Error.Should().Be("HttpRequestException: connection reset by peer");
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while (value > (current = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }

    private static TargetResponse Response(string text) => new(text, TimeSpan.FromMilliseconds(1), 1, 1, 1, "m");

    private static EvalCase Case(string id, string mustContain) =>
        new(id, TraceInput.FromText("q"), [], [new Assertion("contains", JsonSerializer.SerializeToElement(mustContain), new Dictionary<string, JsonElement>())], "x",
            new Dictionary<string, string>(), null, new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));
}
