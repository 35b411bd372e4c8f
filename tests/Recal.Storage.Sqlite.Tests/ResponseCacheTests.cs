using FluentAssertions;
using Microsoft.Extensions.AI;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Xunit;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Recal.Storage.Sqlite.Tests;

public sealed class ResponseCacheTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task A_warm_cache_answers_without_calling_until_the_entry_expires()
    {
        // Given a chat target with a one-hour cache in the store
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var client = new CountingChatClient();
        var clock = new ManualClock(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var cache = new ResponseCacheSettings(store, "openai", "http://127.0.0.1:1/v1", "bot", TimeSpan.FromHours(1), clock);
        var target = new ChatTarget(client, RetryPolicy.Create(new RetrySettings()), new ChatOptions { Temperature = 0 }, cache: cache);

        // When the same case runs twice, then after the entry expires
        var first = await target.InvokeAsync(Case("freeze my card"), TestContext.Current.CancellationToken);
        var second = await target.InvokeAsync(Case("freeze my card"), TestContext.Current.CancellationToken);
        clock.Now = clock.Now.AddHours(2);
        var third = await target.InvokeAsync(Case("freeze my card"), TestContext.Current.CancellationToken);

        // Then the second answer comes from the cache with no call, and the third calls again
        first.FromCache.Should().BeFalse();
        second.FromCache.Should().BeTrue();
        second.Text.Should().Be(first.Text);
        second.Attempts.Should().Be(0);
        third.FromCache.Should().BeFalse();
        client.Calls.Should().Be(2);
    }

    [Fact]
    public async Task Different_parameters_or_inputs_miss_the_cache()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var client = new CountingChatClient();
        var cache = new ResponseCacheSettings(store, "openai", "http://127.0.0.1:1/v1", "bot");
        var cold = new ChatTarget(client, RetryPolicy.Create(new RetrySettings()), new ChatOptions { Temperature = 0 }, cache: cache);
        var warmer = new ChatTarget(client, RetryPolicy.Create(new RetrySettings()), new ChatOptions { Temperature = 0.7f }, cache: cache);

        await cold.InvokeAsync(Case("a"), TestContext.Current.CancellationToken);
        await warmer.InvokeAsync(Case("a"), TestContext.Current.CancellationToken);
        await cold.InvokeAsync(Case("b"), TestContext.Current.CancellationToken);
        await cold.InvokeAsync(Case("a"), TestContext.Current.CancellationToken);

        client.Calls.Should().Be(3);
    }

    private static EvalCase Case(string input) =>
        new("c", TraceInput.FromText(input), [new Reference("ok", ReferenceGrade.High)], [], "x", new Dictionary<string, string>(), null,
            new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));

    private sealed class CountingChatClient : IChatClient
    {
        public int Calls { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Calls++;
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"answer {Calls} to {messages.Last().Text}")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
