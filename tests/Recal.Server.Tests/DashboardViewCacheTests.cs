using FluentAssertions;
using Recal.Domain;
using Recal.Gates;
using Recal.Ingest;
using Recal.Ingest.Otel;
using Recal.Server.Dashboard;
using Recal.Testing;
using Recal.Workflows;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>
/// The dashboard's view cache: a view of an earlier state served at once with its note while the current one is
/// computed, and the views kept in the store so a restart serves them; a kept view of other project inputs is never
/// read back.
/// </summary>
public sealed class DashboardViewCacheTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Monday = new(2026, 8, 3, 9, 0, 0, TimeSpan.Zero);
    private readonly InMemoryStore _store = new();
    private readonly string _project = Path.Combine(Path.GetTempPath(), "recal-view-cache-" + Guid.NewGuid().ToString("N")[..12]);

    public DashboardViewCacheTests() => Directory.CreateDirectory(_project);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_view_of_an_earlier_state_is_served_at_once_with_its_note_and_replaced_when_its_round_is_done()
    {
        // Given a view computed for the store's state, then three traces stored
        await AddAsync(2);
        var service = Service();
        var first = await service.GetAsync("health", await service.StateAsync(Cancel), heavy: true, _ => Task.FromResult(Result("first")));
        await AddAsync(3);
        var state = await service.StateAsync(Cancel);

        // When the view is asked for while its new computation waits at a gate
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stale = await service.GetAsync("health", state, heavy: true, async _ =>
        {
            await gate.Task;
            return Result("second");
        });

        // Then the earlier view is served at once, noted as of its time with the traces since, and updating
        first.Stale.Should().BeNull();
        stale.Value.Findings[0].Evidence.Should().Be("first");
        stale.Stale.Should().NotBeNull();
        stale.Stale!.TracesSince.Should().Be(3);
        stale.Stale.Updating.Should().BeTrue();
        service.Updating.Should().BeTrue();
        service.IsReady("health", state).Should().BeFalse();

        // And once the round is done, the new view replaces it, without a note
        gate.SetResult();
        await service.RefreshAsync("health", state, heavy: true, _ => Task.FromResult(Result("not asked: one is under way")));
        var fresh = await service.GetAsync("health", state, heavy: true, _ => Task.FromResult(Result("not asked: computed")));
        fresh.Value.Findings[0].Evidence.Should().Be("second");
        fresh.Stale.Should().BeNull();
        service.Updating.Should().BeFalse();
    }

    [Fact]
    public async Task A_restart_on_an_unchanged_store_serves_the_kept_view_without_computing()
    {
        // Given a view kept by a server that has stopped
        await KeepAsync(4, "kept");

        // When a new server over the same store and project asks for it
        var after = Service();
        var served = await after.GetAsync<CheckResult>("health", await after.StateAsync(Cancel), heavy: true, _ => throw new InvalidOperationException("a kept view of this state is not computed again"), persisted: true);

        // Then the kept view is served as current, and nothing was computed
        served.Value.Should().BeEquivalentTo(Result("kept"));
        served.Stale.Should().BeNull();
        after.Computations.Should().Be(0);
    }

    [Fact]
    public async Task A_kept_view_of_other_project_inputs_is_not_read_back()
    {
        // Given a view kept for the project as it was
        await KeepAsync(2, "of the old project");

        // When a project file changes and a new server asks for the view
        await File.WriteAllTextAsync(Path.Combine(_project, "recal.yaml"), "name: changed\n", Cancel);
        var after = Service();
        var served = await after.GetAsync("health", await after.StateAsync(Cancel), heavy: true, _ => Task.FromResult(Result("of the new project")), persisted: true);

        // Then it is computed for the new project, the kept one never shown
        served.Value.Findings[0].Evidence.Should().Be("of the new project");
        served.Stale.Should().BeNull();
        after.Computations.Should().Be(1);
    }

    [Fact]
    public async Task A_kept_view_of_another_store_state_is_shown_only_as_stale_until_the_current_one_is_computed()
    {
        // Given a view kept for the store as it was, and a trace stored after the server stopped
        await KeepAsync(2, "of two traces");
        await AddAsync(1);

        // When a new server asks for the view
        var after = Service();
        var state = await after.StateAsync(Cancel);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var served = await after.GetAsync("health", state, heavy: true, async _ =>
        {
            await gate.Task;
            return Result("of three traces");
        }, persisted: true);

        // Then the kept view is never served as current: it carries its note until the current one replaces it
        served.Value.Findings[0].Evidence.Should().Be("of two traces");
        served.Stale!.TracesSince.Should().Be(1);
        after.IsReady("health", state).Should().BeFalse();
        gate.SetResult();
        await after.RefreshAsync<CheckResult>("health", state, heavy: true, _ => throw new InvalidOperationException("one is under way"), persisted: true);
        var fresh = await after.GetAsync<CheckResult>("health", state, heavy: true, _ => throw new InvalidOperationException("computed already"), persisted: true);
        fresh.Value.Findings[0].Evidence.Should().Be("of three traces");
        fresh.Stale.Should().BeNull();
    }

    [Fact]
    public async Task Opening_more_windows_than_are_kept_leaves_the_views_computed_ahead_and_the_most_recently_used_and_a_restart_serves_them()
    {
        // Given a server that computed two views ahead
        await AddAsync(3);
        var service = Service();
        var state = await service.StateAsync(Cancel);
        await service.RefreshAsync("health", state, heavy: true, _ => Task.FromResult(Result("ahead")), persisted: true);
        await service.RefreshAsync("timeline", state, heavy: true, _ => Task.FromResult(Result("ahead")), persisted: true);

        // When a reader opens N + 5 windows, the first one again before the last five
        var windows = Enumerable.Range(0, DashboardService.KeptViews + 5).Select(i => $"drift?from=w{i:00}").ToList();
        foreach (var window in windows.Take(DashboardService.KeptViews))
        {
            await service.GetAsync(window, state, heavy: true, _ => Task.FromResult(Result(window)), persisted: true);
        }

        await service.GetAsync<CheckResult>(windows[0], state, heavy: true, _ => throw new InvalidOperationException("computed already"), persisted: true);
        foreach (var window in windows.Skip(DashboardService.KeptViews))
        {
            await service.GetAsync(window, state, heavy: true, _ => Task.FromResult(Result(window)), persisted: true);
        }

        // Then the store keeps the two ahead and the N most recently used: the first window and the last N - 1
        var kept = (await _store.ListBlobsAsync("dashboard-view:", Cancel)).Select(b => b.Key["dashboard-view:".Length..]).ToList();
        kept.Should().HaveCount(DashboardService.KeptViews + 2);
        kept.Should().BeEquivalentTo(["health", "timeline", windows[0], .. windows.TakeLast(DashboardService.KeptViews - 1)]);

        // And a restarted server (the views computed ahead read back first, as its warmer does) serves a kept window
        // without computing it, and computes one that was let go, keeping the bound
        var after = Service();
        await after.LoadKeptAsync<CheckResult>("health", Cancel);
        await after.LoadKeptAsync<CheckResult>("timeline", Cancel);
        var again = await after.StateAsync(Cancel);
        var served = await after.GetAsync<CheckResult>(windows[^1], again, heavy: true, _ => throw new InvalidOperationException("a kept view is served"), persisted: true);
        served.Value.Findings[0].Evidence.Should().Be(windows[^1]);
        after.Computations.Should().Be(0);
        var dropped = await after.GetAsync(windows[1], again, heavy: true, _ => Task.FromResult(Result("computed again")), persisted: true);
        dropped.Value.Findings[0].Evidence.Should().Be("computed again");
        after.Computations.Should().Be(1);
        var bounded = (await _store.ListBlobsAsync("dashboard-view:", Cancel)).Select(b => b.Key["dashboard-view:".Length..]).ToList();
        bounded.Should().HaveCount(DashboardService.KeptViews + 2).And.Contain(["health", "timeline", windows[1], windows[^1]]);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_project, recursive: true);
    }

    private DashboardService Service() =>
        new(new RecalServerContext(_store, (_, _) => throw new InvalidOperationException("nothing is received"), Path.Combine(_project, "quarantine.jsonl"), new OtelMappingOptions(InteractionRule.Trace, FeedbackMap.Default), "demo") { ProjectRoot = _project }, minimumAge: TimeSpan.Zero);

    /// <summary>Stores <paramref name="traces"/> traces, then has a server compute and keep the health view with <paramref name="evidence"/>.</summary>
    private async Task KeepAsync(int traces, string evidence)
    {
        await AddAsync(traces);
        var server = Service();
        await server.GetAsync("health", await server.StateAsync(Cancel), heavy: true, _ => Task.FromResult(Result(evidence)), persisted: true);
    }

    private static CheckResult Result(string evidence) => new([new Finding("intent mix", Verdict.Healthy, evidence)], null);

    private int _added;

    private async Task AddAsync(int count)
    {
        var batch = Enumerable.Range(_added, count).Select(i =>
            new ClassifiedTrace(new Trace($"t{i}", Monday.AddMinutes(i), TraceInput.FromText("question " + i), null, null, new Dictionary<string, string>(), Feedback.None, null), TraceKeys.IdPrefix + $"t{i}", "balance", IntentSource.Classifier, 0.9, "plan=free")).ToList();
        _added += count;
        await _store.AddTracesAsync(batch, Cancel);
    }
}
