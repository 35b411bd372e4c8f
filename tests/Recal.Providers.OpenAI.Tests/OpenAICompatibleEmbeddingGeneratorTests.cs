using FluentAssertions;
using Recal.Embeddings;
using Recal.Running;
using Recal.Testing;
using Xunit;

namespace Recal.Providers.OpenAI.Tests;

/// <summary>The embeddings client over real HTTP to the loopback fake, with faults injected.</summary>
public sealed class OpenAICompatibleEmbeddingGeneratorTests
{
    private const string KeyVariable = "RECAL_TEST_OPENAI_EMBEDDING_KEY";

    [Fact]
    public async Task Sends_the_model_inputs_dimensions_and_key_in_batches_and_returns_vectors_in_input_order()
    {
        // Given a loopback endpoint, a key in the environment and a batch size of 2
        await using var server = new FakeOpenAIServer();
        Environment.SetEnvironmentVariable(KeyVariable, "sk-embed-1");
        var (generator, error) = OpenAICompatibleEmbeddingGenerator.Create(new OpenAICompatibleSettings(server.BaseUrl, "text-embedder", KeyVariable), dimensions: 4, batchSize: 2);
        error.Should().BeNull();

        // When five texts are embedded
        string[] texts = ["a", "bb b", "ccc", "d d d d", "eeeee"];
        var embeddings = await generator!.GenerateAsync(texts, cancellationToken: TestContext.Current.CancellationToken);

        // Then three requests carried the texts in order with the model, dimensions and key, and each vector is its text's
        var requests = server.Requests.ToList();
        requests.Should().HaveCount(3).And.OnlyContain(r => r.Path == "/v1/embeddings" && r.Authorization == "Bearer sk-embed-1");
        requests.SelectMany(r => r.EmbeddingInputs).Should().BeEquivalentTo(texts);
        requests.Select(r => r.Json.GetProperty("model").GetString()).Should().OnlyContain(m => m == "text-embedder");
        requests.Should().OnlyContain(r => r.Json.GetProperty("dimensions").GetInt32() == 4);
        embeddings.Select(e => e.Vector.ToArray()).Should().BeEquivalentTo(texts.Select(server.Embed), o => o.WithStrictOrdering());
        embeddings.Usage!.InputTokenCount.Should().Be(9);
        generator.Id.Should().Be($"openai-compatible/{server.BaseUrl.AbsoluteUri.TrimEnd('/')}/text-embedder/d4");
    }

    [Fact]
    public async Task Vectors_sent_as_plain_floats_are_read_as_well_as_base64()
    {
        // Given an endpoint that ignores encoding_format and always answers with float arrays
        await using var server = new FakeOpenAIServer();
        server.Respond = request => new FakeReply(200, FakeOpenAIServer.EmbeddingsResponse([.. request.EmbeddingInputs.Select(server.Embed)], base64: false));
        var (generator, _) = OpenAICompatibleEmbeddingGenerator.Create(new OpenAICompatibleSettings(server.BaseUrl, "m"));

        // When a text is embedded
        var embeddings = await generator!.GenerateAsync(["hello there"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the floats come through unchanged
        embeddings.Single().Vector.ToArray().Should().Equal(server.Embed("hello there"));
    }

    [Fact]
    public async Task A_rate_limit_surfaces_as_a_transient_call_error_after_one_attempt_with_the_servers_retry_after()
    {
        // Given an endpoint that answers 429 with Retry-After
        await using var server = new FakeOpenAIServer();
        server.Enqueue(FakeReply.RateLimited(2));
        var (generator, _) = OpenAICompatibleEmbeddingGenerator.Create(new OpenAICompatibleSettings(server.BaseUrl, "m"));

        // When texts are embedded
        var act = () => generator!.GenerateAsync(["a"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the SDK did not retry on its own, and the error carries what a retry policy needs
        var error = (await act.Should().ThrowAsync<TargetCallException>()).Which;
        error.Status.Should().Be(429);
        error.Transient.Should().BeTrue();
        error.RetryAfter.Should().Be(TimeSpan.FromSeconds(2));
        server.Requests.Should().HaveCount(1);
    }

    [Fact]
    public async Task A_bad_request_is_a_permanent_error_and_a_truncated_body_a_transient_one()
    {
        await using var server = new FakeOpenAIServer();
        server.Enqueue(new FakeReply(400, """{"error":{"message":"model not found"}}"""));
        server.Enqueue(new FakeReply(200, FakeOpenAIServer.EmbeddingsResponse([[1f, 2f]], base64: false)[..20]));
        var (generator, _) = OpenAICompatibleEmbeddingGenerator.Create(new OpenAICompatibleSettings(server.BaseUrl, "m"));

        var bad = (await ((Func<Task>)(() => generator!.GenerateAsync(["a"], cancellationToken: TestContext.Current.CancellationToken))).Should().ThrowAsync<TargetCallException>()).Which;
        var cut = (await ((Func<Task>)(() => generator!.GenerateAsync(["a"], cancellationToken: TestContext.Current.CancellationToken))).Should().ThrowAsync<TargetCallException>()).Which;

        bad.Status.Should().Be(400);
        bad.Transient.Should().BeFalse();
        bad.Message.Should().Contain("model not found");
        cut.Transient.Should().BeTrue();
    }

    [Fact]
    public async Task Behind_the_retry_policy_a_flaky_endpoint_is_retried_until_it_answers()
    {
        // Given an endpoint that fails its first request with 503, behind the retry policy
        await using var server = new FakeOpenAIServer();
        server.Enqueue(FakeReply.ServerError(503));
        var (generator, _) = OpenAICompatibleEmbeddingGenerator.Create(new OpenAICompatibleSettings(server.BaseUrl, "m"));
        var retries = 0;
        var retrying = new RetryingEmbeddingGenerator(generator!, RetryPolicy.Create(new RetrySettings(3, TimeSpan.FromMilliseconds(5)), (_, _, _) => retries++));

        // When texts are embedded
        var embeddings = await retrying.GenerateAsync(["one", "two"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the 503 was retried once and the second attempt's vectors came back
        retries.Should().Be(1);
        server.EmbeddingRequestsFor("one").Should().Be(2);
        embeddings.Select(e => e.Vector.ToArray()).Should().BeEquivalentTo(new[] { server.Embed("one"), server.Embed("two") }, o => o.WithStrictOrdering());
    }
}
