using System.Text.Json;
using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Scoring;
using Xunit;

namespace Recal.Core.Tests.Scoring;

public sealed class ScorerTests
{
    [Theory]
    [InlineData("""{"type":"equals","value":"Paris"}""", " Paris ", true)]
    [InlineData("""{"type":"equals","value":"paris"}""", "Paris", false)]
    [InlineData("""{"type":"equals","value":"paris","ignore_case":true}""", "Paris", true)]
    [InlineData("""{"type":"contains","value":"REFUND"}""", "Your refund is on its way", true)]
    [InlineData("""{"type":"contains","value":"REFUND","case_sensitive":true}""", "Your refund is on its way", false)]
    [InlineData("""{"type":"contains","value":["refund","3-5 days"]}""", "Your refund arrives in 3-5 days", true)]
    [InlineData("""{"type":"contains","value":["refund","3-5 days"]}""", "Your refund arrives soon", false)]
    [InlineData("""{"type":"not_contains","value":"password is"}""", "I sent a reset link", true)]
    [InlineData("""{"type":"not_contains","value":"password is"}""", "Your password is hunter2", false)]
    [InlineData("""{"type":"regex","value":"\\b\\d{3}-\\d{4}\\b"}""", "Call 555-1234", true)]
    [InlineData("""{"type":"regex","value":"^yes$","ignore_case":true}""", "YES", true)]
    [InlineData("""{"type":"json_schema","value":{"type":"object","required":["status"],"properties":{"status":{"enum":["open","closed"]}}}}""", """{"status":"open"}""", true)]
    [InlineData("""{"type":"json_schema","value":{"type":"object","required":["status"]}}""", """{"state":"open"}""", false)]
    [InlineData("""{"type":"json_schema","value":{"type":"object"}}""", "```json\n{\"a\":1}\n```", true)]
    [InlineData("""{"type":"json_schema","value":{"type":"object"}}""", "not json", false)]
    [InlineData("""{"type":"json_path","path":"$.order.items[1].qty","value":2}""", """{"order":{"items":[{"qty":1},{"qty":2.0}]}}""", true)]
    [InlineData("""{"type":"json_path","path":"$.order.items[5].qty","value":2}""", """{"order":{"items":[{"qty":1}]}}""", false)]
    [InlineData("""{"type":"refusal","value":true}""", "I'm sorry, but I can't help with that.", true)]
    [InlineData("""{"type":"refusal","value":true}""", "Your balance is $20.", false)]
    [InlineData("""{"type":"refusal","value":false}""", "I cannot assist with that request.", false)]
    [InlineData("""{"type":"length","min":5,"max":20}""", "short answer", true)]
    [InlineData("""{"type":"length","max":5}""", "far too long an answer", false)]
    public async Task Deterministic_assertion_passes_or_fails_as_written(string assertionJson, string output, bool passes)
    {
        var result = await AssertionScorer.CheckAsync(Assertion(assertionJson), output);

        result.Passed.Should().Be(passes, result.Reason);
        result.IsError.Should().BeFalse(result.Reason);
        result.Score.Should().Be(passes ? 1 : 0);
    }

    [Theory]
    [InlineData("""{"type":"contians","value":"x"}""", "did you mean 'contains'")]
    [InlineData("""{"type":"regex","value":"(unclosed"}""", "invalid regular expression")]
    [InlineData("""{"type":"json_path","path":"order.status","value":1}""", "invalid path")]
    [InlineData("""{"type":"length"}""", "needs 'min'")]
    [InlineData("""{"type":"equals","value":3}""", "'value' must be")]
    public async Task Broken_assertion_is_an_error_and_never_a_pass(string assertionJson, string reason)
    {
        var result = await AssertionScorer.CheckAsync(Assertion(assertionJson), "anything");

        result.IsError.Should().BeTrue();
        result.Passed.Should().BeFalse();
        result.Reason.Should().Contain(reason);
    }

    [Fact]
    public void Token_f1_and_rouge_l_match_hand_computed_values()
    {
        var candidate = TextTokens.Tokenize("Refund issued to your card.");
        var reference = TextTokens.Tokenize("Your refund was issued");

        // Shared tokens: refund, issued, your → P = 3/5, R = 3/4; LCS "refund issued" → P = 2/5, R = 2/4.
        Similarity.TokenF1(candidate, reference).Should().BeApproximately(2 * 0.6 * 0.75 / 1.35, 1e-12);
        Similarity.RougeL(candidate, reference).Should().BeApproximately(2 * 0.4 * 0.5 / 0.9, 1e-12);
        Similarity.TokenF1(TextTokens.Tokenize("The cat sat on the mat!"), TextTokens.Tokenize("a cat sat on a mat")).Should().Be(1);
        Similarity.RougeL([], []).Should().Be(1);
        Similarity.TokenF1(["x"], []).Should().Be(0);
    }

    [Fact]
    public async Task Matching_a_high_reference_earns_more_than_matching_a_borderline_one()
    {
        // Given a case with a high and a borderline reference
        var evalCase = Case(
            new Reference("I have started a refund to your card; it arrives in 3 to 5 days.", ReferenceGrade.High),
            new Reference("You can ask for a refund in the app.", ReferenceGrade.Borderline));
        var scorer = new ReferenceScorer();

        // When one output matches the high reference exactly and another the borderline one
        var high = (await scorer.ScoreAsync(evalCase, "I have started a refund to your card; it arrives in 3 to 5 days.", TestContext.Current.CancellationToken)).Single();
        var borderline = (await scorer.ScoreAsync(evalCase, "You can ask for a refund in the app.", TestContext.Current.CancellationToken)).Single();
        var unrelated = (await scorer.ScoreAsync(evalCase, "The weather is sunny.", TestContext.Current.CancellationToken)).Single();

        // Then full credit, half credit (borderline weight 0.5, pass at 0.5) and none
        high.Score.Should().Be(1);
        high.Passed.Should().BeTrue();
        high.Reason.Should().Contain("high reference 1");
        borderline.Score.Should().BeApproximately(0.5, 1e-12);
        borderline.Reason.Should().Contain("borderline reference 2");
        unrelated.Passed.Should().BeFalse();
    }

    [Fact]
    public async Task Case_without_references_gets_no_similarity_score()
    {
        var results = await new ReferenceScorer().ScoreAsync(Case(), "anything", TestContext.Current.CancellationToken);

        results.Should().BeEmpty();
    }

    private static Assertion Assertion(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        return new Assertion(
            root.GetProperty("type").GetString()!,
            root.TryGetProperty("value", out var value) ? value.Clone() : null,
            root.EnumerateObject().Where(p => p.Name is not ("type" or "value")).ToDictionary(p => p.Name, p => p.Value.Clone()));
    }

    private static EvalCase Case(params Reference[] references) =>
        new("c-1", TraceInput.FromText("refund please"), references, [], "refund", new Dictionary<string, string>(), null,
            new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));
}
