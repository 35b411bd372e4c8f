using FluentAssertions;
using Recal.Server.Dashboard;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>
/// The dashboard over HTTP on the sample when the store's state changes and when the server starts again: the last
/// computed page is served at once with its note while the round runs, then replaced; a restart serves the kept views.
/// </summary>
public sealed class DashboardStaleViewTests : IClassFixture<DashboardTests.Sample>
{
    /// <summary>The views the server computes ahead and keeps, with their cache keys.</summary>
    private static readonly (string Path, string Key)[] Kept =
    [
        ("/", DashboardEndpoints.HealthKey),
        ("/timeline", DashboardEndpoints.DriftKey(Storage.Period.Week, null, null, timeline: true)),
        ("/mix", DashboardEndpoints.DriftKey(Storage.Period.None, null, null, timeline: false)),
        ("/coverage", DashboardEndpoints.CoverageKey(null, null)),
    ];

    private readonly DashboardTests.Sample _sample;

    public DashboardStaleViewTests(DashboardTests.Sample sample) => _sample = sample;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task After_a_state_change_the_last_page_is_served_with_its_note_and_replaced_once_the_round_is_done_and_a_restart_serves_the_kept_pages()
    {
        // Given the sample's server with its views computed ahead
        SlowViewStore? gate = null;
        var first = await Harness.StartOnAsync(_sample.Folder, wrap: store =>
        {
            var (slow, held) = SlowViewStore.Wrap(store);
            gate = held;
            return slow;
        });
        var service = Service(first);
        await ReadyAsync(service);
        using var reader = Reader(first);
        (await reader.GetStringAsync("/", Cancel)).Should().NotContain("class=\"info stale\"");

        // When traces arrive while the next round is held up
        gate!.Open.Reset();
        var before = await service.StateAsync(Cancel);
        var export = await first.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(5, 0, 3)), Cancel);
        export.EnsureSuccessStatusCode();
        var state = await WaitForAsync(async () => await service.StateAsync(Cancel) is var now && now != before ? now : null);

        // Then every kept view is served at once from the last round, noted as of its time with the traces since
        foreach (var (path, _) in Kept)
        {
            var page = await reader.GetStringAsync(path, Cancel);
            page.Should().Contain("class=\"info stale\"", path).And.Contain("traces since; updating", path).And.Contain("<meta name=\"recal-view\"", path);
        }

        (await reader.GetStringAsync("/api/state?view=health", Cancel)).Should().Contain("\"updating\":true").And.Contain("\"ready\":false");

        // And once the round is done the pages are the current state's, without a note
        gate.Open.Set();
        await ReadyAsync(service);
        await WaitForAsync(() => Task.FromResult(service.Updating ? null : "done"));
        (await reader.GetStringAsync("/api/state?view=health", Cancel)).Should().Contain("\"ready\":true");
        var current = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (path, _) in Kept)
        {
            current[path] = await reader.GetStringAsync(path, Cancel);
            current[path].Should().NotContain("class=\"info stale\"", path).And.Contain($"content=\"{await service.StateAsync(Cancel)}\"", path);
        }

        // When the server stops and another starts over the same, unchanged store
        await first.StopAsync();
        await using var second = await Harness.StartOnAsync(_sample.Folder);
        using var again = Reader(second);

        // Then it serves the kept pages as they were, computing none of them
        foreach (var (path, _) in Kept)
        {
            (await again.GetStringAsync(path, Cancel)).Should().Be(current[path], path);
        }

        Service(second).Computations.Should().Be(0);
        await first.DisposeAsync();
    }

    private static DashboardService Service(Harness server) => (DashboardService)server.App.Services.GetService(typeof(DashboardService))!;

    private static HttpClient Reader(Harness server)
    {
        var client = new HttpClient { BaseAddress = server.Url };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Harness.ReadToken);
        return client;
    }

    /// <summary>Waits until the warmer has computed every kept view for the current state.</summary>
    private static async Task ReadyAsync(DashboardService service) =>
        await WaitForAsync(async () => await service.StateAsync(Cancel) is var state && Kept.All(k => service.IsReady(k.Key, state)) ? state : null);

    private static async Task<string> WaitForAsync(Func<Task<string?>> probe)
    {
        for (var i = 0; i < 1200; i++)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            await Task.Delay(100, Cancel);
        }

        throw new TimeoutException("the dashboard did not get there in two minutes");
    }
}
