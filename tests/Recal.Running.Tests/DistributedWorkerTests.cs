using System.Collections.Concurrent;
using FluentAssertions;
using Recal.Domain;
using Recal.Scoring;
using Recal.Storage;
using Recal.Testing;
using Xunit;

namespace Recal.Running.Tests;

/// <summary>
/// A distributed run's worker over the in-memory queue: what it does when a run it joined is finished or cancelled while it
/// goes on working. Targets are in-process fakes that answer at once or when a test lets them.
/// </summary>
public sealed class DistributedWorkerTests
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_long_lived_worker_frees_each_finished_runs_target_and_reports_its_retries_while_it_keeps_working()
    {
        // Given a worker that waits for runs (no --once), and a first run of four cases whose target retried three times
        var store = new InMemoryStore();
        var sessions = new Sessions();
        var first = await EnqueueAsync(store, "first", 4);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var worker = new DistributedWorker(store, "demo", sessions.Create, new WorkerOptions(2) { Poll = Poll });
        var working = worker.RunAsync(cancellationToken: stop.Token);

        // When the first run finishes, then a second is queued and finishes
        await UntilAsync(() => sessions.For(first.Id) is { Disposed: true });
        var second = await EnqueueAsync(store, "second", 3);
        await UntilAsync(() => sessions.For(second.Id) is { Disposed: true });

        // Then each run's target was freed once its run was finished, while the worker was still running
        working.IsCompleted.Should().BeFalse("the worker waits for the next run");
        sessions.For(first.Id)!.Disposals.Should().Be(1);
        (await store.GetRunAsync(first.Id, Token))!.Status.Should().Be(RunStatus.Completed);
        (await store.GetRunAsync(second.Id, Token))!.Status.Should().Be(RunStatus.Completed);
        (await store.GetRunStateAsync(first.Id, Token))!.Retries.Should().Be(3);

        // And stopping the worker (which ends as a cancelled task, as Ctrl-C does) disposes nothing twice
        await stop.CancelAsync();
        await FluentActions.Awaiting(() => working).Should().ThrowAsync<OperationCanceledException>();
        sessions.All.Should().OnlyContain(s => s.Disposals == 1);
    }

    [Fact]
    public async Task A_cancelled_run_starts_no_more_cases_on_its_worker_keeps_those_in_flight_and_frees_its_target()
    {
        // Given a worker at concurrency 2 on a run of twenty cases, two calls in flight and more cases claimed behind them
        var store = new InMemoryStore();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sessions = new Sessions(gate.Task);
        var run = await EnqueueAsync(store, "cancelled", 20);
        var events = new ConcurrentQueue<WorkerEvent>();
        var worker = new DistributedWorker(store, "demo", sessions.Create, new WorkerOptions(2) { Poll = Poll, Once = true });
        var working = worker.RunAsync(new SynchronousEvents(events), Token);
        await UntilAsync(() => sessions.For(run.Id) is { Calls: 2 });
        (await store.GetRunStateAsync(run.Id, Token))!.Leased.Should().BeGreaterThan(2, "the worker claims ahead of its calls");

        // When the run is cancelled, the worker notices, and the calls in flight then answer
        var cancel = await store.CancelRunAsync(run.Id, Token);
        await UntilAsync(() => events.Any(e => e.Kind == WorkerEventKind.Left));
        gate.SetResult();
        var summary = await working;

        // Then only the two cases in flight were called, their results are kept, and the run's target was freed
        cancel.Cancelled.Should().BeTrue();
        sessions.For(run.Id)!.Calls.Should().Be(2);
        sessions.For(run.Id)!.Disposals.Should().Be(1);
        summary.Done.Should().Be(2);
        (await store.GetRunCasesAsync(run.Id, Token)).Should().HaveCount(2);
        var state = (await store.GetRunStateAsync(run.Id, Token))!;
        (state.Run.Status, state.Done, state.Leased, state.Queued).Should().Be((RunStatus.Cancelled, 2, 0, 18));
        events.Should().Contain(new WorkerEvent(WorkerEventKind.Left, run.Id, "cancelled"));
    }

    private static async Task<RunInfo> EnqueueAsync(InMemoryStore store, string name, int count)
    {
        var cases = RunFixture.Cases(count);
        var run = new RunInfo($"20261206-120000-{name}", "demo", "bot", "{}", "suite", PoolSet.Parse("gold"), cases.Count, null, DateTimeOffset.UtcNow, null, RunStatus.Running);
        await DistributedRuns.EnqueueAsync(store, run, cases, new DistributedRunSettings(false, false, null, 0.05), Token);
        return run;
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private sealed class SynchronousEvents(ConcurrentQueue<WorkerEvent> events) : IProgress<WorkerEvent>
    {
        public void Report(WorkerEvent value) => events.Enqueue(value);
    }

    /// <summary>Each run's session: a target that echoes the case (after <c>gate</c>, when given), counting calls and three retries, and resources that count disposals.</summary>
    private sealed class Sessions(Task? gate = null)
    {
        private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

        public IEnumerable<Session> All => _sessions.Values;

        public Session? For(string runId) => _sessions.GetValueOrDefault(runId);

        public Task<(WorkerRunSession? Session, string? Problem)> Create(RunInfo run, DistributedRunSettings settings, CancellationToken cancellationToken)
        {
            var session = _sessions.GetOrAdd(run.Id, _ => new Session(gate));
            var cases = RunFixture.Cases(run.Total).ToDictionary(c => c.Id, StringComparer.Ordinal);
            return Task.FromResult<(WorkerRunSession?, string?)>((new WorkerRunSession(cases, session, [new AssertionScorer()], null, null, new RunOptions(2), session, () => Math.Min(3, session.Calls)), null));
        }
    }

    private sealed class Session(Task? gate) : ITarget, IAsyncDisposable
    {
        private int _calls, _disposals;

        public int Calls => Volatile.Read(ref _calls);

        public int Disposals => Volatile.Read(ref _disposals);

        public bool Disposed => Disposals > 0;

        public async ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default)
        {
            Disposed.Should().BeFalse("a freed target is never called");
            Interlocked.Increment(ref _calls);
            if (gate is not null)
            {
                await gate.WaitAsync(cancellationToken);
            }

            return new TargetResponse("echo " + evalCase.Input.Text, TimeSpan.FromMilliseconds(1), null, null, 1, "bot");
        }

        public ValueTask DisposeAsync()
        {
            Interlocked.Increment(ref _disposals);
            return ValueTask.CompletedTask;
        }
    }
}
