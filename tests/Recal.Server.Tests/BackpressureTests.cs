using System.Net;
using FluentAssertions;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>A slow store fills the bounded queue and the server turns requests away with Retry-After; a failing store gets 503.</summary>
public sealed class BackpressureTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task With_the_writer_held_and_the_queue_full_a_request_gets_429_with_Retry_After_instead_of_waiting_in_memory()
    {
        GatedStore gate = null!;
        var options = new RecalServerOptions { WriteToken = Harness.Token, QueueParts = 3, RetryAfter = TimeSpan.FromSeconds(2) };
        await using var server = await Harness.StartAsync(options, store =>
        {
            (var gated, gate) = GatedStore.Wrap(store, gated: true);
            return gated;
        });

        // The first request's 2 parts reach the writer, which waits at the gate; the second's fill the queue (3 parts).
        var first = server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(20, 0, 2)), Cancel);
        await gate.Entered.Task.WaitAsync(Cancel);
        var second = server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(20, 2, 1)), Cancel);
        await WaitForQueuedAsync(server, 3);
        var turnedAway = await server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(20, 3, 1)), Cancel);
        var health = Spans.Parse(await server.Client.GetStringAsync("/healthz", Cancel));

        turnedAway.StatusCode.Should().Be(HttpStatusCode.TooManyRequests);
        turnedAway.Headers.RetryAfter!.Delta.Should().Be(TimeSpan.FromSeconds(2));
        (await turnedAway.Content.ReadAsStringAsync(Cancel)).Should().Contain("write queue is full");
        health.GetProperty("queued").GetInt64().Should().Be(3);
        first.IsCompleted.Should().BeFalse("nothing is acknowledged before it is committed");

        gate.Open.SetResult();
        (await first).StatusCode.Should().Be(HttpStatusCode.OK);
        (await second).StatusCode.Should().Be(HttpStatusCode.OK);
        var retried = await server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(20, 3, 1)), Cancel);
        retried.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Harness.StoredAsync(server.Store)).Should().HaveCount(4);
    }

    [Fact]
    public async Task A_store_that_cannot_commit_gets_503_with_Retry_After_and_the_retry_stores_the_batch_once()
    {
        GatedStore gate = null!;
        await using var server = await Harness.StartAsync(null, store =>
        {
            (var gated, gate) = GatedStore.Wrap(store, gated: false);
            return gated;
        });
        var body = Spans.Traces(21, 0, 3);

        gate.Failing = true;
        var failed = await server.Client.PostAsync("/v1/traces", Spans.Json(body), Cancel);
        gate.Failing = false;
        var retried = await server.Client.PostAsync("/v1/traces", Spans.Json(body), Cancel);
        var again = await server.Client.PostAsync("/v1/traces", Spans.Json(body), Cancel);

        failed.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
        failed.Headers.RetryAfter.Should().NotBeNull();
        (await failed.Content.ReadAsStringAsync(Cancel)).Should().Contain("could not commit").And.NotContain("disk is full");
        retried.StatusCode.Should().Be(HttpStatusCode.OK);
        again.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Harness.StoredAsync(server.Store)).Should().HaveCount(3);
    }

    /// <summary>Polls the health probe until the queue holds <paramref name="parts"/> (the request is parsed and queued).</summary>
    private static async Task WaitForQueuedAsync(Harness server, long parts)
    {
        while (Spans.Parse(await server.Client.GetStringAsync("/healthz", Cancel)).GetProperty("queued").GetInt64() < parts)
        {
            await Task.Delay(10, Cancel);
        }
    }
}
