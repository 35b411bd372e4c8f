using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Recal.Scoring;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

public sealed class RunStorageTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Results_stored_together_are_all_kept_and_replace_earlier_results_of_the_same_case()
    {
        // Given a run with one stored result
        var token = TestContext.Current.CancellationToken;
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, token);
        var run = Run("r1", 3);
        await store.CreateRunAsync(run, token);
        await store.AddRunCaseAsync(run.Id, Record("c1", "first"), token);

        // When three results are stored in one batch, one of them for the same case
        await store.AddRunCasesAsync(run.Id, [Record("c1", "second"), Record("c2", "b"), Record("c3", "c")], token);

        // Then every case has one result, the newest
        var stored = await store.GetRunCasesAsync(run.Id, token);
        stored.Select(r => (r.CaseId, r.Output)).Should().Equal(("c1", "second"), ("c2", "b"), ("c3", "c"));
    }

    [Fact]
    public async Task A_stopped_run_keeps_every_case_that_completed_before_the_stop()
    {
        // Given a run of 50 cases whose target answers 20 at once and then hangs until the run is stopped
        var token = TestContext.Current.CancellationToken;
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, token);
        var cases = Enumerable.Range(1, 50).Select(i => Case($"c{i:D2}")).ToList();
        var run = Run("r2", cases.Count);
        await store.CreateRunAsync(run, token);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        var target = new HangingTarget(answered: 20, () => stop.Cancel());

        // When the run is stopped
        var running = EvalRunner.ExecuteAsync(store, run, cases, target, [new AssertionScorer(), new ReferenceScorer()], null, null, new RunOptions(Concurrency: 8), null, stop.Token);
        await running.Invoking(r => r).Should().ThrowAsync<OperationCanceledException>();

        // Then the 20 answered cases are stored and the run is marked interrupted
        (await store.GetRunCasesAsync(run.Id, token)).Should().HaveCount(20);
        (await store.GetRunAsync(run.Id, token))!.Status.Should().Be(RunStatus.Interrupted);
    }

    private static RunInfo Run(string id, int total) =>
        new(id, "p", "t", "{}", "suite", PoolSet.Parse("gold"), total, null, new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero), null, RunStatus.Running);

    private static RunCaseRecord Record(string caseId, string output) =>
        new(caseId, "balance", "plan=free", null, "gold", output, null, true, [], null, 12.5, 3, 4, null, 1, false, new DateTimeOffset(2026, 6, 1, 0, 0, 1, TimeSpan.Zero));

    private static EvalCase Case(string id) =>
        new(id, TraceInput.FromText("question " + id), [new Reference("answer", ReferenceGrade.High)], [], "balance", new Dictionary<string, string>(), null,
            new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));

    /// <summary>Answers the first cases at once; every later call waits for the run to stop, after asking it to.</summary>
    private sealed class HangingTarget(int answered, Action stop) : ITarget
    {
        private int _calls;

        public async ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _calls) <= answered)
            {
                return new TargetResponse("answer", TimeSpan.FromMilliseconds(1), null, null, 1, "m");
            }

            stop();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
