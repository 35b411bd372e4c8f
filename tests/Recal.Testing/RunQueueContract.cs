using FluentAssertions;
using Recal.Domain;
using Recal.Running;
using Recal.Storage;
using Xunit;

namespace Recal.Testing;

/// <summary>
/// What every queue of distributed runs must do, through <see cref="IRunQueue"/> and <see cref="IRunStore"/> alone: a
/// store passes it by deriving a test class that opens a fresh, empty store that is also a queue (PostgreSQL in
/// tests/Recal.Storage.Postgres.Tests, <see cref="InMemoryStore"/> in tests/Recal.Storage.Contract.Tests). Leases are
/// short and waited out; no test asserts a time.
/// </summary>
public abstract class RunQueueContract
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ShortLease = TimeSpan.FromMilliseconds(300);

    /// <summary>A fresh, empty store of the kind under test; it must implement <see cref="IRunQueue"/>.</summary>
    protected abstract Task<IRecalStore> OpenEmptyAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_queued_run_is_open_with_its_settings_until_its_last_case_is_written()
    {
        // Given a run of three cases queued with a cap and the holdout's commitment
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var settings = new DistributedRunSettings(true, false, 120, 0.1, MaxInFlight: 2, Holdout: new SealedHoldoutUse("abc123", Early: true));
        var run = await EnqueueAsync(queue, "r1", 3, settings);

        // When it is read back, and all three cases are claimed and written
        var open = await queue.GetOpenRunsAsync("demo", Token);
        var other = await queue.GetOpenRunsAsync("another-project", Token);
        var claimed = new List<ClaimedCase>();
        claimed.AddRange(await queue.ClaimCasesAsync("w:1:a", [run.Id], 10, Lease, Token));
        await queue.CompleteCasesAsync(run.Id, "w:1:a", [.. claimed.Select(c => Record(c.CaseId))], 0, Token);
        claimed.AddRange(await queue.ClaimCasesAsync("w:1:a", [run.Id], 10, Lease, Token));
        var last = await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record(claimed[^1].CaseId)], 0, Token);

        // Then it was open in its project only, with the settings it was queued with, and the last write finished it
        open.Should().ContainSingle().Which.Settings.Should().Be(settings);
        open[0].Run.Id.Should().Be(run.Id);
        other.Should().BeEmpty();
        claimed.Select(c => c.CaseId).Should().Equal("c0", "c1", "c2");
        last.Should().Be(new CaseCompletion(1, 0, RunStatus.Completed));
        (await queue.GetOpenRunsAsync("demo", Token)).Should().BeEmpty();
        var state = (await queue.GetRunStateAsync(run.Id, Token))!;
        (state.Run.Status, state.Done, state.Queued, state.Leased).Should().Be((RunStatus.Completed, 3, 0, 0));
        state.Run.Finished.Should().NotBeNull();
        (await store.GetRunCasesAsync(run.Id, Token)).Should().HaveCount(3);
        (await queue.GetRunStateAsync("no-such-run", Token)).Should().BeNull();
    }

    [Fact]
    public async Task Two_workers_never_share_a_case_and_an_expired_lease_is_claimed_again()
    {
        // Given a run of ten cases, four claimed by a worker with a short lease and four by one that heartbeats
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var run = await EnqueueAsync(queue, "r1", 10);
        var dying = await queue.ClaimCasesAsync("w:1:dying", [run.Id], 4, ShortLease, Token);
        var alive = await queue.ClaimCasesAsync("w:2:alive", [run.Id], 4, ShortLease, Token);

        // When the lease runs out for both but the second heartbeats first, and a third worker claims everything it can
        await queue.HeartbeatAsync("w:2:alive", 4, Lease, Token);
        await Task.Delay(ShortLease * 2, Token);
        var third = await queue.ClaimCasesAsync("w:3:late", [run.Id], 100, Lease, Token);

        // Then no case was claimed twice at once: the third took the two never claimed and the dying worker's four, claimed again
        dying.Select(c => c.CaseId).Should().NotIntersectWith(alive.Select(c => c.CaseId));
        third.Select(c => c.CaseId).Should().BeEquivalentTo(Ids(10).Except(alive.Select(c => c.CaseId)));
        third.Where(c => c.Claims == 2).Select(c => c.CaseId).Should().BeEquivalentTo(dying.Select(c => c.CaseId));
        var state = (await queue.GetRunStateAsync(run.Id, Token))!;
        (state.Leased, state.Queued, state.Reclaimed).Should().Be((10, 0, 4));
    }

    [Fact]
    public async Task A_case_keeps_its_first_result_and_too_many_errors_finish_the_run_degraded()
    {
        // Given a run of four cases allowing a quarter of errors, all claimed by one worker
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var run = await EnqueueAsync(queue, "r1", 4, new DistributedRunSettings(false, false, null, 0.25));
        await queue.ClaimCasesAsync("w:1:a", [run.Id], 4, Lease, Token);

        // When two results are errors, one case is written twice, and a stopped worker's late result comes after the end
        var first = await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record("c0") with { Error = "boom", Passed = false }, Record("c1", "first")], 0, Token);
        var again = await queue.CompleteCasesAsync(run.Id, "w:2:b", [Record("c1", "second")], 0, Token);
        var end = await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record("c2") with { Error = "boom", Passed = false }, Record("c3")], 0, Token);
        var late = await queue.CompleteCasesAsync(run.Id, "w:2:b", [Record("c3", "late")], 0, Token);

        // Then each case kept its first result, the duplicates were counted as discarded, and the run ended degraded
        (first, again, end, late).Should().Be((new CaseCompletion(2, 0, null), new CaseCompletion(0, 1, null), new CaseCompletion(2, 0, RunStatus.Degraded), new CaseCompletion(0, 1, null)));
        (await store.GetRunCasesAsync(run.Id, Token)).Single(r => r.CaseId == "c1").Output.Should().Be("first");
        var state = (await queue.GetRunStateAsync(run.Id, Token))!;
        (state.Run.Status, state.Errors, state.Passed).Should().Be((RunStatus.Degraded, 2, 2));
        state.RecentErrors.Select(e => e.CaseId).Should().BeEquivalentTo(["c0", "c2"]);
    }

    [Fact]
    public async Task A_worker_that_stops_puts_its_cases_back_and_is_shown_stopped()
    {
        // Given a worker that wrote one case and holds two
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var run = await EnqueueAsync(queue, "r1", 3);
        await queue.HeartbeatAsync("w:1:a", 2, Lease, Token);
        var claimed = await queue.ClaimCasesAsync("w:1:a", [run.Id], 3, Lease, Token);
        await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record(claimed[0].CaseId)], 0, Token);

        // When it stops
        await queue.ReleaseWorkerAsync("w:1:a", Token);

        // Then its two cases are queued again for another worker, and it is listed as stopped with its one case
        var state = (await queue.GetRunStateAsync(run.Id, Token))!;
        (state.Queued, state.Leased, state.Done).Should().Be((2, 0, 1));
        state.Workers.Should().ContainSingle().Which.Should().Match<WorkerState>(w => w.Worker == "w:1:a" && w.Stopped && w.Done == 1 && w.Concurrency == 2);
        (await queue.ClaimCasesAsync("w:2:b", [run.Id], 3, Lease, Token)).Select(c => c.CaseId).Should().Equal(claimed[1].CaseId, claimed[2].CaseId);
    }

    [Fact]
    public async Task A_run_capped_at_three_cases_in_flight_never_has_more_leased_across_workers()
    {
        // Given a run of ten cases capped at three in flight
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var run = await EnqueueAsync(queue, "r1", 10, new DistributedRunSettings(false, false, null, 0.05, MaxInFlight: 3));

        // When two workers each ask for eight, then one result is written, then both ask again
        var first = await queue.ClaimCasesAsync("w:1:a", [run.Id], 8, Lease, Token);
        var second = await queue.ClaimCasesAsync("w:2:b", [run.Id], 8, Lease, Token);
        await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record(first[0].CaseId)], 0, Token);
        var third = await queue.ClaimCasesAsync("w:2:b", [run.Id], 8, Lease, Token);
        var fourth = await queue.ClaimCasesAsync("w:1:a", [run.Id], 8, Lease, Token);

        // Then the first got the cap's three, the second none, and the written case made room for exactly one more
        (first.Count, second.Count, third.Count, fourth.Count).Should().Be((3, 0, 1, 0));
        (await queue.GetRunStateAsync(run.Id, Token))!.Leased.Should().Be(3);
    }

    [Fact]
    public async Task An_expired_lease_no_longer_counts_against_the_cap()
    {
        // Given a run capped at two whose two leased cases' worker went silent
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var run = await EnqueueAsync(queue, "r1", 5, new DistributedRunSettings(false, false, null, 0.05, MaxInFlight: 2));
        (await queue.ClaimCasesAsync("w:1:gone", [run.Id], 5, ShortLease, Token)).Should().HaveCount(2);

        // When their lease has expired and another worker claims
        await Task.Delay(ShortLease * 2, Token);
        var claimed = await queue.ClaimCasesAsync("w:2:b", [run.Id], 5, Lease, Token);

        // Then it gets two again, the silent worker's among the candidates
        claimed.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_cancelled_run_is_closed_its_leases_are_taken_back_and_its_stored_results_are_kept()
    {
        // Given a run of six cases: two written, three leased to a worker, one queued
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var run = await EnqueueAsync(queue, "r1", 6);
        var claimed = await queue.ClaimCasesAsync("w:1:a", [run.Id], 5, Lease, Token);
        await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record(claimed[0].CaseId), Record(claimed[1].CaseId)], 0, Token);

        // When it is cancelled, twice, and a worker then claims and writes a result it computed before the cancel
        var cancel = await queue.CancelRunAsync(run.Id, Token);
        var again = await queue.CancelRunAsync(run.Id, Token);
        var afterwards = await queue.ClaimCasesAsync("w:2:b", [run.Id], 10, Lease, Token);
        var late = await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record(claimed[2].CaseId)], 0, Token);

        // Then the first cancel stopped it, took three leases back and kept the two results; the second changed nothing
        (cancel.Cancelled, cancel.Released, cancel.Stored, cancel.Run!.Status).Should().Be((true, 3, 2, RunStatus.Cancelled));
        cancel.Run.Finished.Should().NotBeNull();
        (again.Cancelled, again.Released, again.Run!.Status).Should().Be((false, 0, RunStatus.Cancelled));
        again.Run.Finished.Should().Be(cancel.Run.Finished);

        // And it is no longer open or claimable; the late result is stored once, and the run stays cancelled
        (await queue.GetOpenRunsAsync("demo", Token)).Should().BeEmpty();
        afterwards.Should().BeEmpty();
        late.Should().Be(new CaseCompletion(1, 0, null));
        var state = (await queue.GetRunStateAsync(run.Id, Token))!;
        (state.Run.Status, state.Done, state.Leased, state.Queued).Should().Be((RunStatus.Cancelled, 3, 0, 3));
        (await store.GetRunCasesAsync(run.Id, Token)).Should().HaveCount(3);
        (await store.GetRunAsync(run.Id, Token))!.Status.Should().Be(RunStatus.Cancelled);
    }

    [Fact]
    public async Task Cancelling_a_finished_run_or_an_unknown_one_changes_nothing_and_says_so()
    {
        // Given a run whose one case is written
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var run = await EnqueueAsync(queue, "r1", 1);
        await queue.ClaimCasesAsync("w:1:a", [run.Id], 1, Lease, Token);
        await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record("c0")], 0, Token);

        // When it is cancelled, and so is a run that does not exist
        var finished = await queue.CancelRunAsync(run.Id, Token);
        var unknown = await queue.CancelRunAsync("no-such-run", Token);

        // Then the finished run keeps its status and the unknown one is not found
        (finished.Cancelled, finished.Run!.Status, finished.Stored).Should().Be((false, RunStatus.Completed, 1));
        unknown.Run.Should().BeNull();
        (await store.GetRunAsync(run.Id, Token))!.Status.Should().Be(RunStatus.Completed);
    }

    [Fact]
    public async Task Each_workers_retries_and_calls_add_up_in_the_runs_state()
    {
        // Given a run of four cases claimed by two workers
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var run = await EnqueueAsync(queue, "r1", 4);
        await queue.HeartbeatAsync("w:1:a", 2, Lease, Token);
        await queue.HeartbeatAsync("w:2:b", 2, Lease, Token);
        var a = await queue.ClaimCasesAsync("w:1:a", [run.Id], 2, Lease, Token);
        var b = await queue.ClaimCasesAsync("w:2:b", [run.Id], 2, Lease, Token);

        // When they write their results in three commits, reporting the retries made since their last
        await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record(a[0].CaseId)], 2, Token);
        await queue.CompleteCasesAsync(run.Id, "w:1:a", [Record(a[1].CaseId)], 1, Token);
        await queue.CompleteCasesAsync(run.Id, "w:2:b", [.. b.Select(c => Record(c.CaseId))], 4, Token);

        // Then each worker's totals and the run's retries are the sums
        var state = (await queue.GetRunStateAsync(run.Id, Token))!;
        state.Workers.Select(w => (w.Worker, w.Done, w.Calls, w.Retries)).Should().Equal(("w:1:a", 2, 2, 3), ("w:2:b", 2, 2, 4));
        state.Retries.Should().Be(7);
    }

    [Fact]
    public async Task Call_slots_of_one_limit_are_handed_out_a_spacing_apart()
    {
        // Given a limit with slots a second apart
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        var spacing = TimeSpan.FromSeconds(1);

        // When three slots are reserved at once, and one of another limit
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 3; i++)
        {
            waits.Add(await queue.ReserveCallSlotAsync("target:bot", spacing, Token));
        }

        var other = await queue.ReserveCallSlotAsync("judges", spacing, Token);

        // Then each waits about one spacing more than the one before, and the other limit's first slot is now
        waits[0].Should().Be(TimeSpan.Zero);
        (waits[1] - waits[0]).Should().BeCloseTo(spacing, TimeSpan.FromMilliseconds(250));
        (waits[2] - waits[1]).Should().BeCloseTo(spacing, TimeSpan.FromMilliseconds(250));
        other.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task A_worker_waiting_for_runs_is_woken_by_a_run_queued_while_it_waits()
    {
        // Given a worker that has waited once (the store now listens) and waits again, for as long as a test may take
        await using var store = await OpenEmptyAsync();
        var queue = (IRunQueue)store;
        await queue.WaitForRunsAsync(TimeSpan.FromMilliseconds(10), Token);
        var waiting = queue.WaitForRunsAsync(TimeSpan.FromHours(1), Token).AsTask();

        // When a run is queued
        var run = await EnqueueAsync(queue, "r1", 2);

        // Then the wait ends long before its timeout, and the run is there to be claimed
        (await Task.WhenAny(waiting, Task.Delay(TimeSpan.FromMinutes(1), Token))).Should().BeSameAs(waiting, "a queued run wakes the waiting worker");
        (await queue.GetOpenRunsAsync("demo", Token)).Select(r => r.Run.Id).Should().Equal(run.Id);
    }

    private static async Task<RunInfo> EnqueueAsync(IRunQueue queue, string suffix, int cases, DistributedRunSettings? settings = null)
    {
        var run = new RunInfo($"20261206-120000-{suffix}", "demo", "bot", "{}", "suite", PoolSet.Parse("gold"), cases, null, new DateTimeOffset(2026, 12, 6, 12, 0, 0, TimeSpan.Zero), null, RunStatus.Running);
        await queue.EnqueueRunAsync(run, Ids(cases), settings ?? new DistributedRunSettings(false, false, null, 0.05), Token);
        return run;
    }

    private static IReadOnlyList<string> Ids(int count) => [.. Enumerable.Range(0, count).Select(i => $"c{i}")];

    private static RunCaseRecord Record(string caseId, string output = "ok") =>
        new(caseId, "refund", "plan=free", "easy", "gold", output, null, true, [], null, 1, null, null, null, 1, false, new DateTimeOffset(2026, 12, 6, 12, 0, 1, TimeSpan.Zero));
}
