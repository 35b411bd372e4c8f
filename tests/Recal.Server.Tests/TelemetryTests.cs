using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using FluentAssertions;
using Recal.Diagnostics;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>The receiver's own telemetry: one <c>recal.serve.commit</c> activity per commit, counts and names only.</summary>
public sealed class TelemetryTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_commit_is_an_activity_with_its_counts_and_no_text_or_token_in_any_tag()
    {
        var commits = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RecalTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == RecalTelemetry.CommitActivity)
                {
                    commits.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var server = await Harness.StartAsync();
        var body = Spans.Request([Spans.ChatSpan(Spans.TraceId(50, 0), "0000000000000001", 0), Spans.ChatSpan(Spans.TraceId(50, 1), "0000000000000002", 1), Spans.ChatSpan(string.Empty, "0000000000000003", 2)]);

        var response = await server.Client.PostAsync("/v1/traces", Spans.Json(body), Cancel);
        await server.StopAsync();

        response.StatusCode.Should().Be(HttpStatusCode.OK);

        // Other tests' servers commit at the same time: this one's is the commit of two parts and one reject.
        var commit = commits.Should().Contain(a => (int)a.GetTagItem("recal.serve.parts")! == 2 && (long)a.GetTagItem("recal.ingest.quarantined")! == 1).Which;
        commit.GetTagItem("recal.serve.requests").Should().Be(1);
        commit.GetTagItem("recal.ingest.traces_added").Should().Be(2L);
        commit.Status.Should().Be(ActivityStatusCode.Unset);
        foreach (var activity in commits)
        {
            activity.TagObjects.Select(t => t.Value?.ToString() ?? string.Empty).Should().AllSatisfy(value =>
                value.Should().NotContain("refund").And.NotContain("password").And.NotContain(Harness.Token));
        }
    }
}
