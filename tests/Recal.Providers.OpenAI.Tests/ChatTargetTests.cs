using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Recal.Testing;
using Xunit;

namespace Recal.Providers.OpenAI.Tests;

/// <summary>A chat target over real HTTP to the loopback fake, with faults injected.</summary>
public sealed class ChatTargetTests
{
    private static readonly RetrySettings FastRetries = new(MaxRetries: 3, BaseDelay: TimeSpan.FromMilliseconds(10), MaxDelay: TimeSpan.FromSeconds(2));

    [Fact]
    public async Task Retries_a_429_after_the_servers_retry_after_and_a_500_then_answers()
    {
        // Given an endpoint that first rate-limits (Retry-After: 1) and then fails once with 500
        await using var server = new FakeOpenAIServer();
        server.Enqueue(new FakeReply(429, """{"error":{"message":"rate limited"}}""", new Dictionary<string, string> { ["Retry-After"] = "1" }));
        server.Enqueue(new FakeReply(500, """{"error":{"message":"boom"}}"""));
        var retries = new List<(int Attempt, TimeSpan Delay)>();
        var target = Target(server, RetryPolicy.Create(FastRetries, (attempt, delay, _) => retries.Add((attempt, delay))), "You are a bank's support assistant.");

        // When a case is run
        var response = await target.InvokeAsync(Case("freeze my card"), TestContext.Current.CancellationToken);

        // Then it answers on the third attempt, having waited the server's second before the first retry
        response.Text.Should().Be("echo: freeze my card");
        response.Attempts.Should().Be(3);
        response.InputTokens.Should().Be(10);
        server.Requests.Should().HaveCount(3);
        retries[0].Delay.Should().Be(TimeSpan.FromSeconds(1));
        server.Requests.First().Json.GetProperty("messages")[0].GetProperty("role").GetString().Should().Be("system");
    }

    [Fact]
    public async Task A_bad_request_is_not_retried()
    {
        await using var server = new FakeOpenAIServer();
        server.Enqueue(new FakeReply(400, """{"error":{"message":"unknown model"}}"""));
        var target = Target(server, RetryPolicy.Create(FastRetries));

        var act = async () => await target.InvokeAsync(Case("hi"), TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<TargetCallException>()).Which.Transient.Should().BeFalse();
        server.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task Gives_up_after_the_configured_retries_and_reports_the_last_failure()
    {
        await using var server = new FakeOpenAIServer();
        for (var i = 0; i < 5; i++)
        {
            server.Enqueue(new FakeReply(503, """{"error":{"message":"overloaded"}}"""));
        }

        var target = Target(server, RetryPolicy.Create(FastRetries with { MaxRetries = 2 }));

        var act = async () => await target.InvokeAsync(Case("hi"), TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<TargetCallException>()).Which.Status.Should().Be(503);
        server.Requests.Should().HaveCount(3);
    }

    private static ChatTarget Target(FakeOpenAIServer server, Polly.ResiliencePipeline pipeline, string? systemPrompt = null)
    {
        var (client, error) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(server.BaseUrl, "support-bot"));
        error.Should().BeNull();
        return new ChatTarget(client!, pipeline, systemPrompt: systemPrompt);
    }

    private static EvalCase Case(string input) =>
        new("c-1", TraceInput.FromText(input), [new Reference("ok", ReferenceGrade.High)], [], "freeze_account", new Dictionary<string, string>(), null,
            new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));
}
