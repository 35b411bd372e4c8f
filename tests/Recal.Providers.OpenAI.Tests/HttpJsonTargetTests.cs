using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Recal.Testing;
using Xunit;

namespace Recal.Providers.OpenAI.Tests;

public sealed class HttpJsonTargetTests
{
    private static readonly RetrySettings FastRetries = new(MaxRetries: 3, BaseDelay: TimeSpan.FromMilliseconds(10));

    [Fact]
    public async Task Fills_the_template_posts_it_and_reads_the_answer_at_the_path_retrying_a_503_and_a_truncated_body()
    {
        // Given an endpoint that fails with 503, then sends half a JSON body, then answers
        await using var server = new FakeOpenAIServer();
        server.Enqueue(new FakeReply(503, "{}"));
        server.Enqueue(new FakeReply(200, """{"data":{"ans"""));
        server.Enqueue(new FakeReply(200, """{"data":{"answer":"Your card is frozen."}}"""));
        using var http = new HttpClient();
        var target = new HttpJsonTarget(http, new Uri(server.BaseUrl, "bot"), """{"query": {{input}}, "lang": "en"}""", "$.data.answer", RetryPolicy.Create(FastRetries));

        // When a case whose input needs escaping is sent
        var response = await target.InvokeAsync(Case("freeze \"my\" card"), TestContext.Current.CancellationToken);

        // Then the input was written as a JSON string, and the answer read after two retries
        response.Text.Should().Be("Your card is frozen.");
        response.Attempts.Should().Be(3);
        server.Requests.Last().Json.GetProperty("query").GetString().Should().Be("freeze \"my\" card");
        server.Requests.Last().Path.Should().Be("/v1/bot");
    }

    [Fact]
    public async Task A_response_without_the_path_is_an_error_naming_what_is_missing()
    {
        await using var server = new FakeOpenAIServer();
        server.Enqueue(new FakeReply(200, """{"data":{}}"""));
        using var http = new HttpClient();
        var target = new HttpJsonTarget(http, new Uri(server.BaseUrl, "bot"), """{"q": {{input}}}""", "$.data.answer", RetryPolicy.Create(FastRetries));

        var act = async () => await target.InvokeAsync(Case("hi"), TestContext.Current.CancellationToken);

        (await act.Should().ThrowAsync<TargetCallException>()).Which.Message.Should().Contain("no property 'answer'");
        server.Requests.Should().HaveCount(1);
    }

    [Theory]
    [InlineData("""{"data":{"answer":null}}""", "is null")]
    [InlineData("""{"data":{"answer":""}}""", "empty answer")]
    [InlineData("""{"data":{"answer":"   "}}""", "empty answer")]
    public async Task A_null_or_empty_answer_is_an_error_not_an_output(string body, string reason)
    {
        await using var server = new FakeOpenAIServer();
        server.Enqueue(new FakeReply(200, body));
        using var http = new HttpClient();
        var target = new HttpJsonTarget(http, new Uri(server.BaseUrl, "bot"), """{"q": {{input}}}""", "$.data.answer", RetryPolicy.Create(FastRetries));

        var act = async () => await target.InvokeAsync(Case("hi"), TestContext.Current.CancellationToken);

        var failure = (await act.Should().ThrowAsync<TargetCallException>()).Which;
        failure.Message.Should().Contain(reason);
        failure.Attempts.Should().Be(1);
    }

    private static EvalCase Case(string input) =>
        new("c-1", TraceInput.FromText(input), [new Reference("ok", ReferenceGrade.High)], [], "x", new Dictionary<string, string>(), null,
            new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));
}
