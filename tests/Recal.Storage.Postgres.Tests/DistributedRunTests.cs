using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Providers.OpenAI;
using Recal.Running;
using Recal.Scoring;
using Recal.Testing;
using Xunit;

namespace Recal.Storage.Postgres.Tests;

/// <summary>
/// Distributed runs on PostgreSQL: workers in this process, each on its own store (its own connections), against a
/// loopback chat endpoint that counts every request; short leases keep the tests quick.
/// </summary>
public sealed class DistributedRunTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncDisposable
{
    private static readonly TimeSpan ShortLease = TimeSpan.FromSeconds(1.5);
    private readonly List<IAsyncDisposable> _owned = [];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Four_workers_store_every_case_once_call_it_once_and_the_last_write_finishes_the_run()
    {
        // Given 200 queued cases and an endpoint that answers in 20 ms
        await using var server = new FakeOpenAIServer { Latency = TimeSpan.FromMilliseconds(20) };
        var (connection, submitter) = await StoreAsync();
        var cases = Cases(200);
        var run = await EnqueueAsync(submitter, cases);

        // When four workers, each on its own connections, work until no run is open
        var workers = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            var store = await PostgresStore.OpenAsync(connection, "test", Token);
            _owned.Add(store);
            return await Worker(store, server, cases, concurrency: 8).RunAsync(cancellationToken: Token);
        }));

        // Then every case has one result, the endpoint saw each case once, and exactly one worker finished the run
        var results = await submitter.GetRunCasesAsync(run.Id, Token);
        results.Select(r => r.CaseId).Should().OnlyHaveUniqueItems().And.BeEquivalentTo(cases.Select(c => c.Id));
        results.Should().OnlyContain(r => r.Passed);
        cases.Should().OnlyContain(c => server.CountFor(c.Input.Text!) == 1);
        workers.Sum(w => w.Done).Should().Be(200);
        workers.Sum(w => w.Calls).Should().Be(200);
        workers.Sum(w => w.Discarded).Should().Be(0);
        workers.Sum(w => w.RunsFinished).Should().Be(1);
        workers.Should().OnlyContain(w => w.Done > 0, "every worker takes a share");
        var state = (await submitter.GetRunStateAsync(run.Id, Token))!;
        state.Run.Status.Should().Be(RunStatus.Completed);
        state.Run.Finished.Should().NotBeNull();
        (state.Done, state.Queued, state.Leased, state.Reclaimed).Should().Be((200, 0, 0, 0));
        state.Workers.Should().HaveCount(4).And.OnlyContain(w => w.Stopped);
        (await submitter.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();

        // And its summary is the one a local run of the same cases gives, case for case
        var local = await submitter.CreateLocalRunAsync(cases);
        var localSummary = await EvalRunner.ExecuteAsync(submitter, local, cases, Target(server, submitter), Scorers, null, null, new RunOptions(8), cancellationToken: Token);
        var summary = await DistributedRuns.SummarizeAsync(submitter, state, Token);
        (summary.Done, summary.Passed, summary.Failed, summary.Errors, summary.Calls, summary.Degraded)
            .Should().Be((localSummary.Done, localSummary.Passed, localSummary.Failed, localSummary.Errors, localSummary.Calls, localSummary.Degraded));
        var localResults = await submitter.GetRunCasesAsync(local.Id, Token);
        results.Select(Comparable).Should().Equal(localResults.Select(Comparable));
    }

    [Fact]
    public async Task Cases_a_killed_worker_held_are_claimed_again_once_its_lease_expires_and_its_late_result_is_discarded()
    {
        // Given 60 queued cases, 10 of them claimed by a worker that then died (no heartbeat, no result)
        await using var server = new FakeOpenAIServer();
        var (connection, submitter) = await StoreAsync();
        var cases = Cases(60);
        var run = await EnqueueAsync(submitter, cases);
        var held = await submitter.ClaimCasesAsync("gone:1:dead", [run.Id], 10, ShortLease, Token);
        held.Should().HaveCount(10);
        var watch = Stopwatch.StartNew();

        // When two live workers run until no run is open
        var store = await PostgresStore.OpenAsync(connection, "test", Token);
        _owned.Add(store);
        var workers = await Task.WhenAll(
            Worker(store, server, cases, concurrency: 4).RunAsync(cancellationToken: Token),
            Worker(submitter, server, cases, concurrency: 4).RunAsync(cancellationToken: Token));

        // Then the dead worker's cases were taken over after its lease ran out, and every case has exactly one result
        watch.Elapsed.Should().BeGreaterThan(ShortLease * 0.9, "nobody takes a lease before it expires");
        var state = (await submitter.GetRunStateAsync(run.Id, Token))!;
        state.Run.Status.Should().Be(RunStatus.Completed);
        state.Reclaimed.Should().Be(10);
        (await submitter.GetRunCasesAsync(run.Id, Token)).Should().HaveCount(60);
        cases.Should().OnlyContain(c => server.CountFor(c.Input.Text!) == 1, "the dead worker never called");
        workers.Sum(w => w.Done).Should().Be(60);

        // And a result the dead worker sends late is discarded: the case keeps its first result
        var late = await submitter.CompleteCasesAsync(run.Id, "gone:1:dead", [Record(held[0].CaseId, "late")], cancellationToken: Token);
        late.Should().Be(new CaseCompletion(0, 1, null));
        (await submitter.GetRunCasesAsync(run.Id, Token)).Single(r => r.CaseId == held[0].CaseId).Output.Should().NotBe("late");
        (await submitter.GetRunAsync(run.Id, Token))!.Status.Should().Be(RunStatus.Completed);
    }

    [Fact]
    public async Task The_requests_per_minute_limit_holds_across_workers_at_the_endpoint()
    {
        // Given 30 queued cases for a target limited to 600 requests a minute (a slot every 100 ms), shared through the store
        var arrivals = new ConcurrentQueue<long>();
        await using var server = new FakeOpenAIServer { Respond = _ => { arrivals.Enqueue(Stopwatch.GetTimestamp()); return null; } };
        var (connection, submitter) = await StoreAsync();
        var cases = Cases(30);
        await EnqueueAsync(submitter, cases);
        var spacing = TimeSpan.FromMilliseconds(100);

        // When three workers at concurrency 4 each take the limit from the store
        var workers = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
        {
            var store = await PostgresStore.OpenAsync(connection, "test", Token);
            _owned.Add(store);
            var guard = new CallGuard(new SharedRequestRateLimiter(store, "target:bot", 600), null);
            return await Worker(store, server, cases, concurrency: 4, guard).RunAsync(cancellationToken: Token);
        }));

        // Then each worker called, and the requests reached the endpoint no closer than the limit allows: any k of them
        // span at least k - 1 slots, less three slots for the lateness of a timer or of the loopback on a loaded machine
        // (a limiter at twice the rate, or none, still fails this at seven requests apart)
        workers.Should().OnlyContain(w => w.Calls > 0);
        var times = arrivals.Order().Select(t => Stopwatch.GetElapsedTime(arrivals.Min(), t)).ToList();
        times.Should().HaveCount(30);
        for (var i = 0; i < times.Count; i++)
        {
            for (var j = i + 1; j < times.Count; j++)
            {
                (times[j] - times[i]).Should().BeGreaterThanOrEqualTo(spacing * Math.Max(0, j - i - 3), $"requests {i} and {j} are {j - i} slots apart");
            }
        }
    }

    [Fact]
    public async Task Claims_at_once_never_share_a_case_and_one_completion_finishes_the_run()
    {
        // Given a run of 80 cases and eight stores on their own connections
        var (connection, submitter) = await StoreAsync();
        var cases = Cases(80);
        var run = await EnqueueAsync(submitter, cases);
        var stores = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => PostgresStore.OpenAsync(connection, "test", Token)));
        _owned.AddRange(stores);

        // When they all claim ten cases at the same time, then write their results at the same time
        var claims = await Task.WhenAll(stores.Select((s, i) => s.ClaimCasesAsync($"w:{i}:x", [run.Id], 10, ShortLease, Token).AsTask()));
        var completions = await Task.WhenAll(stores.Select((s, i) => s.CompleteCasesAsync(run.Id, $"w:{i}:x", [.. claims[i].Select(c => Record(c.CaseId, "ok"))], cancellationToken: Token).AsTask()));

        // Then the claims cover every case once, and exactly one write finished the run
        claims.SelectMany(c => c).Select(c => c.CaseId).Should().OnlyHaveUniqueItems().And.HaveCount(80);
        completions.Sum(c => c.Written).Should().Be(80);
        completions.Count(c => c.Finished is not null).Should().Be(1);
        (await submitter.GetRunAsync(run.Id, Token))!.Status.Should().Be(RunStatus.Completed);
        (await submitter.GetOpenRunsAsync("demo", Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_run_with_too_many_errors_is_finished_degraded_as_a_local_run_would_be()
    {
        // Given a run of 10 cases allowing 5% errors, two of whose results are errors
        var (_, submitter) = await StoreAsync();
        var run = await EnqueueAsync(submitter, Cases(10));
        var claimed = await submitter.ClaimCasesAsync("w:1:x", [run.Id], 10, ShortLease, Token);

        // When every result is written
        var completion = await submitter.CompleteCasesAsync(run.Id, "w:1:x", [.. claimed.Select((c, i) => Record(c.CaseId, "ok") with { Error = i < 2 ? "boom" : null, Passed = i >= 2 })], cancellationToken: Token);

        // Then the run is degraded, as EvalRunner.Summarize says of the same results
        completion.Finished.Should().Be(RunStatus.Degraded);
        var state = (await submitter.GetRunStateAsync(run.Id, Token))!;
        EvalRunner.Summarize(state.Run, await submitter.GetRunCasesAsync(run.Id, Token), state.Settings.MaxErrorShare).Degraded.Should().BeTrue();
        state.RecentErrors.Should().HaveCount(2);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned)
        {
            await owned.DisposeAsync();
        }
    }

    private static readonly IReadOnlyList<IScorer> Scorers = [new AssertionScorer(), new ReferenceScorer()];

    private async Task<(string Connection, PostgresStore Store)> StoreAsync()
    {
        var database = await fixture.EmptyAsync(Token);
        var store = await PostgresStore.OpenAsync(database.ConnectionString, "test", Token);
        _owned.Add(store);
        return (database.ConnectionString, store);
    }

    private static async Task<RunInfo> EnqueueAsync(PostgresStore store, IReadOnlyList<EvalCase> cases)
    {
        var run = new RunInfo("20261206-120000-bot", "demo", "bot", "{}", "suite", PoolSet.Parse("gold"), cases.Count, null, DateTimeOffset.UtcNow, null, RunStatus.Running);
        await DistributedRuns.EnqueueAsync(store, run, cases, new DistributedRunSettings(UseCache: false, UseJudges: false, null, 0.05), Token);
        return run;
    }

    private DistributedWorker Worker(PostgresStore store, FakeOpenAIServer server, IReadOnlyList<EvalCase> cases, int concurrency, CallGuard? guard = null)
    {
        var byId = cases.ToDictionary(c => c.Id);
        var target = Target(server, store, guard);
        return new DistributedWorker(
            store,
            "demo",
            (_, _, _) => Task.FromResult<(WorkerRunSession?, string?)>((new WorkerRunSession(byId, target, Scorers, null, null, new RunOptions(concurrency)), null)),
            new WorkerOptions(concurrency) { Lease = ShortLease, Poll = TimeSpan.FromMilliseconds(50), Once = true });
    }

    private ChatTarget Target(FakeOpenAIServer server, PostgresStore store, CallGuard? guard = null)
    {
        _ = store;
        var (client, error) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(server.BaseUrl, "bot"));
        _owned.Add(new AsyncDisposer(client ?? throw new InvalidOperationException(error)));
        return new ChatTarget(client, RetryPolicy.Create(new RetrySettings(MaxRetries: 0)), new Microsoft.Extensions.AI.ChatOptions { Temperature = 0 }, null, null, guard);
    }

    private static IReadOnlyList<EvalCase> Cases(int count) =>
        [.. Enumerable.Range(0, count).Select(i => new EvalCase(
            $"c{i:000}", TraceInput.FromText($"q{i:000}"), [new Reference($"echo: q{i:000}", ReferenceGrade.High)],
            [new Assertion("contains", JsonSerializer.SerializeToElement($"q{i:000}"), new Dictionary<string, JsonElement>())],
            i % 2 == 0 ? "refund" : "cancel", new Dictionary<string, string> { ["plan"] = i % 3 == 0 ? "free" : "pro" }, Difficulty.Easy,
            new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", i + 1)))];

    private static RunCaseRecord Record(string caseId, string output) =>
        new(caseId, "refund", "plan=free", "easy", "gold", output, null, true, [], null, 1, null, null, null, 1, false, DateTimeOffset.UtcNow);

    /// <summary>What two runs of the same cases must agree on: everything but times and latency.</summary>
    private static string Comparable(RunCaseRecord r) =>
        JsonSerializer.Serialize(r with { LatencyMs = null, Finished = default });

    private sealed class AsyncDisposer(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

internal static class LocalRuns
{
    /// <summary>A local run over the same cases, stored beside the distributed one.</summary>
    public static async Task<RunInfo> CreateLocalRunAsync(this PostgresStore store, IReadOnlyList<EvalCase> cases)
    {
        var run = new RunInfo("20261206-130000-bot", "demo", "bot", "{}", "suite", PoolSet.Parse("gold"), cases.Count, null, DateTimeOffset.UtcNow, null, RunStatus.Running);
        await store.CreateRunAsync(run, TestContext.Current.CancellationToken);
        return run;
    }
}
