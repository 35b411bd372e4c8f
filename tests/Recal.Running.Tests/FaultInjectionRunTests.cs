using System.Collections.Concurrent;
using System.Text.Json;
using FluentAssertions;
using Recal.Domain;
using Recal.Scoring;
using Recal.Testing;
using Xunit;

namespace Recal.Running.Tests;

/// <summary>
/// Whole runs (EvalRunner, SQLite store, chat target over the OpenAI-compatible client) against the loopback fake
/// server with faults injected: every case ends as exactly one stored pass, failure or error.
/// </summary>
public sealed class FaultInjectionRunTests : IAsyncLifetime
{
    private static readonly IScorer[] Scorers = [new AssertionScorer()];
    private RunFixture _fixture = null!;

    public async ValueTask InitializeAsync() => _fixture = await RunFixture.CreateAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task A_429_with_retry_after_is_retried_after_the_servers_wait_and_the_case_passes_on_attempt_two()
    {
        // Given a server that rate-limits the first request for q03 (Retry-After: 1) and answers everything else
        await using var server = new FakeOpenAIServer();
        server.Respond = FirstCallFor("q03", FakeReply.RateLimited(1));
        var delays = new ConcurrentBag<TimeSpan>();
        var target = _fixture.Target(server, pipeline: RetryPolicy.Create(RunFixture.FastRetries, (_, delay, _) => delays.Add(delay)));
        var cases = RunFixture.Cases(6);
        var run = await _fixture.NewRunAsync(cases);

        // When the run executes
        var summary = await Execute(run, cases, target);

        // Then q03 passed on its second attempt, after waiting what the server asked, and nothing else was retried
        var results = await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken);
        var rateLimited = results.Single(r => r.CaseId == "c03");
        rateLimited.Passed.Should().BeTrue();
        rateLimited.Error.Should().BeNull();
        rateLimited.Attempts.Should().Be(2);
        results.Where(r => r.CaseId != "c03").Should().OnlyContain(r => r.Attempts == 1 && r.Passed);
        delays.Should().Equal(TimeSpan.FromSeconds(1));
        server.CountFor("q03").Should().Be(2);
        summary.Passed.Should().Be(6);
        summary.Errors.Should().Be(0);
        summary.Degraded.Should().BeFalse();
    }

    [Fact]
    public async Task A_persistent_500_makes_the_case_an_error_never_a_pass_leaves_the_others_alone_and_degrades_the_run()
    {
        // Given a server that always fails q02 with 500
        await using var server = new FakeOpenAIServer { Respond = r => r.LastContent == "q02" ? FakeReply.ServerError() : null };
        var target = _fixture.Target(server, pipeline: RetryPolicy.Create(RunFixture.FastRetries with { MaxRetries = 2 }));
        var cases = RunFixture.Cases(10);
        var run = await _fixture.NewRunAsync(cases);

        // When the run executes allowing at most 5% errors
        var summary = await Execute(run, cases, target, new RunOptions(Concurrency: 4, MaxErrorShare: 0.05));

        // Then q02 is a stored error after three attempts, the nine others pass, and one error in ten degrades the run
        var results = await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken);
        results.Should().HaveCount(10);
        var failed = results.Single(r => r.CaseId == "c02");
        failed.Passed.Should().BeFalse();
        failed.Error.Should().Contain("500");
        failed.Output.Should().BeNull();
        server.CountFor("q02").Should().Be(3);
        results.Where(r => r.CaseId != "c02").Should().OnlyContain(r => r.Passed && r.Error == null);
        summary.Errors.Should().Be(1);
        summary.Passed.Should().Be(9);
        summary.Failed.Should().Be(0);
        summary.PassRate.Should().Be(1.0, "errors are excluded from the pass rate, not counted as failures");
        summary.Degraded.Should().BeTrue();
        (await _fixture.Store.GetRunAsync(run.Id, TestContext.Current.CancellationToken))!.Status.Should().Be(RunStatus.Degraded);
    }

    [Fact]
    public async Task An_error_share_within_the_allowance_completes_the_run()
    {
        await using var server = new FakeOpenAIServer { Respond = r => r.LastContent == "q02" ? FakeReply.ServerError(503) : null };
        var target = _fixture.Target(server, pipeline: RetryPolicy.Create(RunFixture.FastRetries with { MaxRetries = 1 }));
        var cases = RunFixture.Cases(10);
        var run = await _fixture.NewRunAsync(cases);

        var summary = await Execute(run, cases, target, new RunOptions(Concurrency: 4, MaxErrorShare: 0.1));

        summary.Errors.Should().Be(1);
        summary.Degraded.Should().BeFalse();
        (await _fixture.Store.GetRunAsync(run.Id, TestContext.Current.CancellationToken))!.Status.Should().Be(RunStatus.Completed);
    }

    [Fact]
    public async Task A_reply_slower_than_the_attempt_timeout_is_abandoned_and_retried_and_an_endpoint_that_never_answers_in_time_is_an_error()
    {
        // Given a 300 ms per-attempt timeout, a first reply for q01 that takes 20 s, and q02 that always takes 20 s
        await using var server = new FakeOpenAIServer();
        var slow = FakeReply.Ok("late", TimeSpan.FromSeconds(20));
        var first = FirstCallFor("q01", slow);
        server.Respond = r => r.LastContent == "q02" ? slow : first(r);
        var guard = new CallGuard(null, TimeSpan.FromMilliseconds(300));
        var target = _fixture.Target(server, guard: guard, pipeline: RetryPolicy.Create(RunFixture.FastRetries with { MaxRetries = 1 }));
        var cases = RunFixture.Cases(4);
        var run = await _fixture.NewRunAsync(cases);

        // When the run executes
        var summary = await Execute(run, cases, target);

        // Then q01 passed on its second attempt, q02 is an error naming the timeout, never a pass
        var results = await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken);
        var retried = results.Single(r => r.CaseId == "c01");
        retried.Passed.Should().BeTrue();
        retried.Attempts.Should().Be(2);
        retried.Output.Should().Be("echo: q01");
        var timedOut = results.Single(r => r.CaseId == "c02");
        timedOut.Passed.Should().BeFalse();
        timedOut.Error.Should().Contain("no answer within 0.3 s");
        server.CountFor("q02").Should().Be(2);
        summary.Passed.Should().Be(3);
        summary.Errors.Should().Be(1);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("not json")]
    [InlineData("empty")]
    public async Task A_truncated_or_invalid_json_body_is_retried_and_the_case_passes(string fault)
    {
        // Given a server whose first reply for q01 is a 200 with a broken body
        await using var server = new FakeOpenAIServer();
        var broken = fault switch
        {
            "truncated" => FakeReply.Truncated(),
            "not json" => new FakeReply(200, "<html>Bad gateway</html>"),
            _ => new FakeReply(200, string.Empty),
        };
        server.Respond = FirstCallFor("q01", broken);
        var target = _fixture.Target(server);
        var cases = RunFixture.Cases(3);
        var run = await _fixture.NewRunAsync(cases);

        // When the run executes
        var summary = await Execute(run, cases, target);

        // Then the broken body was retried, and the case passed on its second attempt
        var results = await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken);
        var retried = results.Single(r => r.CaseId == "c01");
        retried.Error.Should().BeNull();
        retried.Passed.Should().BeTrue();
        retried.Attempts.Should().Be(2);
        server.CountFor("q01").Should().Be(2);
        summary.Passed.Should().Be(3);
    }

    [Fact]
    public async Task A_warm_cache_reruns_without_a_single_call_and_no_cache_calls_again()
    {
        // Given a first run that filled the cache
        await using var server = new FakeOpenAIServer();
        var cases = RunFixture.Cases(8);
        var first = await Execute(await _fixture.NewRunAsync(cases), cases, _fixture.Target(server, cache: true));
        var afterFirst = server.Requests.Count;

        // When the same cases run again with the cache, then with the cache off (--no-cache)
        var warmRun = await _fixture.NewRunAsync(cases);
        var warmProgress = new LastProgress();
        var warm = await Execute(warmRun, cases, _fixture.Target(server, cache: true), progress: warmProgress);
        var afterWarm = server.Requests.Count;
        var coldRun = await _fixture.NewRunAsync(cases);
        var cold = await Execute(coldRun, cases, _fixture.Target(server, cache: false));

        // Then the warm run made no call and says every answer came from the cache; without the cache every case is called again
        first.Calls.Should().Be(8);
        afterFirst.Should().Be(8);
        afterWarm.Should().Be(afterFirst);
        warm.Calls.Should().Be(0);
        warm.CacheHits.Should().Be(8);
        warm.Passed.Should().Be(8);
        warmProgress.Last.Should().BeEquivalentTo(new RunProgress(8, 8, 8, 0) { Resumed = 0, Cached = 8 }, "the progress line leaves cached answers out of the call rate");
        var warmResults = await _fixture.Store.GetRunCasesAsync(warmRun.Id, TestContext.Current.CancellationToken);
        warmResults.Should().OnlyContain(r => r.FromCache && r.Attempts == 0 && r.Output!.StartsWith("echo: q", StringComparison.Ordinal));
        cold.Calls.Should().Be(8);
        cold.CacheHits.Should().Be(0);
        server.Requests.Count.Should().Be(16);
        (await _fixture.Store.GetRunCasesAsync(coldRun.Id, TestContext.Current.CancellationToken)).Should().OnlyContain(r => !r.FromCache);
    }

    [Fact]
    public async Task Cached_answers_expire_after_their_time_to_live()
    {
        // Given a run cached with a one-hour TTL
        await using var server = new FakeOpenAIServer();
        var clock = new ManualClock(new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero));
        var cases = RunFixture.Cases(3);
        await Execute(await _fixture.NewRunAsync(cases), cases, _fixture.Target(server, cache: true, ttl: TimeSpan.FromHours(1), clock: clock));

        // When the cases run again 30 minutes later, and again two hours later
        clock.Now = clock.Now.AddMinutes(30);
        var within = await Execute(await _fixture.NewRunAsync(cases), cases, _fixture.Target(server, cache: true, ttl: TimeSpan.FromHours(1), clock: clock));
        var callsWithin = server.Requests.Count;
        clock.Now = clock.Now.AddHours(2);
        var expired = await Execute(await _fixture.NewRunAsync(cases), cases, _fixture.Target(server, cache: true, ttl: TimeSpan.FromHours(1), clock: clock));

        // Then the first re-run is served from the cache, the later one calls again
        within.CacheHits.Should().Be(3);
        callsWithin.Should().Be(3);
        expired.CacheHits.Should().Be(0);
        expired.Calls.Should().Be(3);
        server.Requests.Count.Should().Be(6);
    }

    [Fact]
    public async Task An_http_json_target_behind_the_response_cache_reruns_without_calls_until_its_configuration_changes()
    {
        // Given an HTTP JSON endpoint (the fake echoes the request body's "q" at $.answer) behind the cache
        await using var server = new FakeOpenAIServer
        {
            Respond = r => new FakeReply(200, JsonSerializer.Serialize(new { answer = "echo: " + r.Json.GetProperty("q").GetString() })),
        };
        using var http = new HttpClient();
        ITarget Cached(string template) => new CachingTarget(
            new HttpJsonTarget(http, new Uri(server.BaseUrl, "ask"), template, "$.answer", RetryPolicy.Create(RunFixture.FastRetries)),
            _fixture.Store,
            "http",
            new Uri(server.BaseUrl, "ask").ToString(),
            new Dictionary<string, JsonElement> { ["request_template"] = JsonSerializer.SerializeToElement(template) },
            null);
        var cases = RunFixture.Cases(5);

        // When the cases run, run again, and run with another request template
        var first = await Execute(await _fixture.NewRunAsync(cases), cases, Cached("""{"q": {{input}}}"""));
        var warmRun = await _fixture.NewRunAsync(cases);
        var warm = await Execute(warmRun, cases, Cached("""{"q": {{input}}}"""));
        var afterWarm = server.Requests.Count;
        var changed = await Execute(await _fixture.NewRunAsync(cases), cases, Cached("""{"q": {{input}}, "lang": "en"}"""));

        // Then the re-run is answered from the cache alone, and the changed configuration calls again
        first.Passed.Should().Be(5);
        first.Calls.Should().Be(5);
        warm.Calls.Should().Be(0);
        warm.CacheHits.Should().Be(5);
        afterWarm.Should().Be(5);
        (await _fixture.Store.GetRunCasesAsync(warmRun.Id, TestContext.Current.CancellationToken)).Should().OnlyContain(r => r.FromCache && r.Passed && r.Output!.StartsWith("echo: q", StringComparison.Ordinal));
        changed.Calls.Should().Be(5);
        server.Requests.Count.Should().Be(10);
    }

    [Theory]
    [InlineData("content_filter", """{"choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"content_filter"}]}""", "content filter", 1)]
    [InlineData("non-string content", """{"choices":[{"index":0,"message":{"role":"assistant","content":{"text":42}},"finish_reason":"stop"}]}""", "malformed content", 1)]
    [InlineData("empty content", """{"choices":[{"index":0,"message":{"role":"assistant","content":""},"finish_reason":"stop"}]}""", "empty message", 1)]
    [InlineData("null content", """{"choices":[{"index":0,"message":{"role":"assistant","content":null},"finish_reason":"stop"}]}""", "no content", 1)]
    [InlineData("no choices", """{"id":"x","object":"chat.completion","choices":[]}""", "without a choice", 4)]
    public async Task A_reply_with_no_usable_answer_is_a_classified_error_never_a_pass(string fault, string body, string reason, int attempts)
    {
        // Given a server that always gives this broken 200 reply for q01, and a case that passes on any output without "zzz"
        await using var server = new FakeOpenAIServer { Respond = r => r.LastContent == "q01" ? new FakeReply(200, body) : null };
        var target = _fixture.Target(server);
        var notContains = new Assertion("not_contains", JsonSerializer.SerializeToElement("zzz"), new Dictionary<string, JsonElement>());
        IReadOnlyList<Recal.Domain.EvalCase> cases = [.. RunFixture.Cases(3).Select(c => c with { Assertions = [notContains] })];
        var run = await _fixture.NewRunAsync(cases);

        // When the run executes
        var summary = await Execute(run, cases, target);

        // Then that case is an error with the reason and the attempts the endpoint saw; the others pass
        var results = await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken);
        var broken = results.Single(r => r.CaseId == "c01");
        broken.Passed.Should().BeFalse();
        broken.Error.Should().Contain(reason, because: fault);
        broken.Attempts.Should().Be(attempts).And.Be(server.CountFor("q01"));
        summary.Passed.Should().Be(2);
        summary.Errors.Should().Be(1);
    }

    [Fact]
    public async Task An_errored_case_stores_the_attempts_the_endpoint_saw()
    {
        // Given a server that always fails q02 with 503 and a policy of three retries
        await using var server = new FakeOpenAIServer { Respond = r => r.LastContent == "q02" ? FakeReply.ServerError(503) : null };
        var target = _fixture.Target(server, pipeline: RetryPolicy.Create(RunFixture.FastRetries));
        var cases = RunFixture.Cases(3);
        var run = await _fixture.NewRunAsync(cases);

        // When the run executes
        await Execute(run, cases, target);

        // Then the errored case records four attempts, as the endpoint saw
        var errored = (await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken)).Single(r => r.CaseId == "c02");
        errored.Error.Should().NotBeNull();
        errored.Attempts.Should().Be(4).And.Be(server.CountFor("q02"));
    }

    /// <summary>Replies <paramref name="reply"/> to the first request whose user turn is <paramref name="input"/>; echoes otherwise.</summary>
    internal static Func<FakeRequest, FakeReply?> FirstCallFor(string input, FakeReply reply)
    {
        var seen = 0;
        return request => request.LastContent == input && Interlocked.Increment(ref seen) == 1 ? reply : null;
    }

    private Task<RunSummary> Execute(RunInfo run, IReadOnlyList<Recal.Domain.EvalCase> cases, ITarget target, RunOptions? options = null, IProgress<RunProgress>? progress = null) =>
        EvalRunner.ExecuteAsync(_fixture.Store, run, cases, target, Scorers, null, null, options ?? new RunOptions(Concurrency: 4, MaxErrorShare: 0.5), progress, TestContext.Current.CancellationToken);

    /// <summary>Keeps the report with the most cases done, synchronously (Progress&lt;T&gt; would post it later).</summary>
    private sealed class LastProgress : IProgress<RunProgress>
    {
        private readonly Lock _lock = new();

        public RunProgress? Last { get; private set; }

        public void Report(RunProgress value)
        {
            lock (_lock)
            {
                if (Last is null || value.Done >= Last.Done)
                {
                    Last = value;
                }
            }
        }
    }
}
