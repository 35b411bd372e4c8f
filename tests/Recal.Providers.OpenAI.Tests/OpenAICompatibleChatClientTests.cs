using FluentAssertions;
using Microsoft.Extensions.AI;
using Recal.Running;
using Recal.Testing;
using Xunit;

namespace Recal.Providers.OpenAI.Tests;

public sealed class OpenAICompatibleChatClientTests
{
    private const string KeyVariable = "RECAL_TEST_OPENAI_KEY";

    [Fact]
    public async Task Sends_model_messages_parameters_and_the_key_from_the_environment_and_reads_text_and_usage()
    {
        // Given a loopback endpoint and a key in the environment
        await using var server = new FakeOpenAIServer();
        Environment.SetEnvironmentVariable(KeyVariable, "sk-test-123");
        var (client, error) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(server.BaseUrl, "support-bot", KeyVariable));
        error.Should().BeNull();

        // When a chat request is sent
        var response = await client!.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "be brief"), new ChatMessage(ChatRole.User, "freeze my card")],
            new ChatOptions { Temperature = 0.2f, MaxOutputTokens = 64, Seed = 7 },
            TestContext.Current.CancellationToken);

        // Then the request carries everything that determines the answer, and the answer comes back whole
        var request = server.Requests.Single();
        request.Path.Should().Be("/v1/chat/completions");
        request.Authorization.Should().Be("Bearer sk-test-123");
        var body = request.Json;
        body.GetProperty("model").GetString().Should().Be("support-bot");
        body.GetProperty("messages").GetArrayLength().Should().Be(2);
        body.GetProperty("temperature").GetDouble().Should().BeApproximately(0.2, 1e-6);
        body.GetProperty("seed").GetInt64().Should().Be(7);
        response.Text.Should().Be("echo: freeze my card");
        response.Usage!.InputTokenCount.Should().Be(10);
        response.Usage.OutputTokenCount.Should().Be(5);
        response.FinishReason.Should().Be(ChatFinishReason.Stop);
    }

    [Fact]
    public void Missing_key_variable_is_named_in_the_error_and_no_client_is_made()
    {
        var (client, error) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(new Uri("http://127.0.0.1:9/v1/"), "m", "RECAL_TEST_UNSET_VARIABLE_X"));

        client.Should().BeNull();
        error.Should().Contain("RECAL_TEST_UNSET_VARIABLE_X");
    }

    [Fact]
    public async Task Server_errors_surface_to_the_caller_without_hidden_retries()
    {
        // Given an endpoint that answers 429 with Retry-After, then 500
        await using var server = new FakeOpenAIServer();
        server.Enqueue(new FakeReply(429, """{"error":{"message":"slow down"}}""", new Dictionary<string, string> { ["Retry-After"] = "1" }));
        var (client, _) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(server.BaseUrl, "m"));

        // When a request is sent
        var act = () => client!.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then the 429 reaches the caller after exactly one attempt, classified with the server's Retry-After:
        // retry policy belongs to the runner
        var error = (await act.Should().ThrowAsync<TargetCallException>()).Which;
        error.Status.Should().Be(429);
        error.Transient.Should().BeTrue();
        error.RetryAfter.Should().Be(TimeSpan.FromSeconds(1));
        server.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_malformed_body_with_status_200_is_a_transient_call_error_not_a_crash()
    {
        // Given an endpoint that answers 200 with half a completion
        await using var server = new FakeOpenAIServer();
        server.Enqueue(FakeReply.Truncated());
        var (client, _) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(server.BaseUrl, "m"));

        // When a request is sent
        var act = () => client!.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then it surfaces as a retryable call error that says the body was not JSON
        var error = (await act.Should().ThrowAsync<TargetCallException>()).Which;
        error.Transient.Should().BeTrue();
        error.Message.Should().Contain("not JSON");
    }
}
