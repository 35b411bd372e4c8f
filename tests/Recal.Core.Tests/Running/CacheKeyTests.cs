using System.Text.Json;
using FluentAssertions;
using Recal.Running;
using Xunit;

namespace Recal.Core.Tests.Running;

public sealed class CacheKeyTests
{
    private static readonly (string, string)[] Messages = [("system", "be brief"), ("user", "freeze my card")];

    [Fact]
    public void Equal_requests_share_a_key_whatever_the_parameter_order_or_number_spelling()
    {
        var a = CacheKey.For("openai", "http://127.0.0.1:8080/v1/", "bot-1", Parameters("""{"temperature":0.70,"seed":1,"stop":{"b":1,"a":2}}"""), Messages);
        var b = CacheKey.For("openai", "http://127.0.0.1:8080/v1", "bot-1", Parameters("""{"stop":{"a":2,"b":1},"seed":1,"temperature":0.7}"""), Messages);

        a.Should().Be(b).And.HaveLength(64);
    }

    [Theory]
    [InlineData("bot-2", """{"temperature":0.7}""", "user", "freeze my card")]
    [InlineData("bot-1", """{"temperature":0.2}""", "user", "freeze my card")]
    [InlineData("bot-1", """{"temperature":0.7}""", "user", "freeze my account")]
    [InlineData("bot-1", """{"temperature":0.7}""", "assistant", "freeze my card")]
    public void Anything_that_changes_the_response_changes_the_key(string model, string parameters, string role, string content)
    {
        var baseline = CacheKey.For("openai", "http://h/v1", "bot-1", Parameters("""{"temperature":0.7}"""), [("user", "freeze my card")]);

        CacheKey.For("openai", "http://h/v1", model, Parameters(parameters), [(role, content)]).Should().NotBe(baseline);
    }

    [Fact]
    public void Credentials_are_refused_as_key_material()
    {
        var act = () => CacheKey.For("openai", "http://h/v1", "bot-1", Parameters("""{"api_key":"sk-123"}"""), Messages);

        act.Should().Throw<ArgumentException>().WithMessage("*credential*");
    }

    [Theory]
    [InlineData("api_key", true)]
    [InlineData("X-Api-Key", true)]
    [InlineData("x_api_key", true)]
    [InlineData("client-secret", true)]
    [InlineData("Authorization", true)]
    [InlineData("max_tokens", false)]
    [InlineData("temperature", false)]
    public void Credential_names_are_told_from_parameters_that_merely_contain_the_words(string name, bool credential) =>
        CacheKey.LooksLikeCredential(name).Should().Be(credential);

    [Fact]
    public void Max_tokens_is_key_material_like_any_generation_parameter()
    {
        var small = CacheKey.For("openai", "http://h/v1", "bot-1", Parameters("""{"max_tokens":10}"""), Messages);

        CacheKey.For("openai", "http://h/v1", "bot-1", Parameters("""{"max_tokens":200}"""), Messages).Should().NotBe(small);
    }

    private static Dictionary<string, JsonElement> Parameters(string json) =>
        JsonDocument.Parse(json).RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
}
