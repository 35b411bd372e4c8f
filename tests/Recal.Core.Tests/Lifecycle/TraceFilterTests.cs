using FluentAssertions;
using Recal.Domain;
using Recal.Lifecycle;
using Xunit;

namespace Recal.Core.Tests.Lifecycle;

public sealed class TraceFilterTests
{
    private static readonly Taxonomy Taxonomy = new(
        1,
        [new IntentDefinition("card_declined", null, [], [], null), new IntentDefinition("balance", null, [], [], null)],
        [new CohortDimension("plan", "plan", ["free", "plus", "premium"], "unknown")],
        new ClassifierSettings());

    private static ClassifiedTrace Trace(Feedback feedback, string intent = "balance", string plan = "free", string? model = "bot-1", IReadOnlyDictionary<string, string>? metadata = null) =>
        SamplerTests.Trace("t", intent, cohort: $"plan={plan}", metadata: metadata ?? new Dictionary<string, string> { ["plan"] = plan, ["seats"] = "12" }) is var t
            ? t with { Trace = t.Trace with { Feedback = feedback, Model = model } }
            : throw new InvalidOperationException();

    [Theory]
    [InlineData("thumbs = down", true)]
    [InlineData("thumbs = up", false)]
    [InlineData("thumbs != down", false)]
    [InlineData("escalated", true)]
    [InlineData("not escalated", false)]
    [InlineData("escalated = false", false)]
    [InlineData("completed = none", true)]
    [InlineData("csat <= 2", true)]
    [InlineData("csat < 2", false)]
    [InlineData("csat >= 2 and csat > 1.5", true)]
    [InlineData("metadata.plan = free", true)]
    [InlineData("metadata.plan = 'free'", true)]
    [InlineData("metadata.seats > 10", true)]
    [InlineData("metadata.missing = x", false)]
    [InlineData("intent = card_declined", true)]
    [InlineData("plan = free and cohort.plan != plus", true)]
    [InlineData("model = \"bot-1\"", true)]
    [InlineData("thumbs = up or escalated and csat <= 2", true)]
    [InlineData("(thumbs = up or escalated) and csat > 2", false)]
    [InlineData("not (thumbs = up or csat > 4)", true)]
    [InlineData("feedback.thumbs = down AND NOT follow_up", true)]
    public void Conditions_on_feedback_intent_metadata_and_cohort_combine_with_and_or_not(string expression, bool expected)
    {
        // Given an unhappy card_declined trace: thumbs down, escalated, CSAT 2, free plan, no completion signal
        var trace = Trace(new Feedback(Thumbs: -1, Csat: 2, Escalated: true, FollowUp: false), intent: "card_declined");

        // When the expression is parsed and evaluated
        var (filter, error) = TraceFilter.Parse(expression, Taxonomy);

        // Then it parses and gives the expected verdict ('and' binds tighter than 'or')
        error.Should().BeNull();
        filter!.Matches(trace).Should().Be(expected);
    }

    [Theory]
    [InlineData("", 1, "empty")]
    [InlineData("thumbs down", 8, "expected an operator")]
    [InlineData("thumbs =", 9, "expected a value after '='")]
    [InlineData("thumbs = sideways", 10, "up, down or none")]
    [InlineData("thumbs < 1", 8, "takes = or !=")]
    [InlineData("csat <= high", 9, "compares with a number")]
    [InlineData("thums = down", 1, "did you mean 'thumbs'")]
    [InlineData("intent = card_declinde", 10, "did you mean 'card_declined'")]
    [InlineData("plan = fre", 8, "did you mean 'free'")]
    [InlineData("cohort.plane = free", 1, "did you mean 'cohort.plan'")]
    [InlineData("escalated and", 14, "expected a condition after 'and'")]
    [InlineData("(escalated or csat <= 2", 24, "expected ')' to close the '(' at column 1")]
    [InlineData("escalated)", 10, "closes no '('")]
    [InlineData("escalated && csat <= 2", 11, "combine conditions with and, or, not")]
    [InlineData("metadata.plan = 'free", 17, "not closed")]
    [InlineData("escalated csat", 11, "expected and, or or the end")]
    [InlineData("intent", 7, "e.g. intent = card_declined")]
    [InlineData("metadata.plan < free", 15, "compares numbers")]
    [InlineData("escalated ! completed", 11, "write != for 'is not'")]
    public void A_bad_expression_is_refused_at_its_column_with_what_would_be_right(string expression, int column, string says)
    {
        // When a malformed expression is parsed
        var (filter, error) = TraceFilter.Parse(expression, Taxonomy);

        // Then there is no filter, and the error names the column and says what would be right
        filter.Should().BeNull();
        error!.Column.Should().Be(column, error.ToString());
        error.ToString().Should().Contain(says);
    }

    [Fact]
    public void The_draw_takes_only_matching_traces_and_every_other_rule_still_applies()
    {
        // Given traffic where every third trace is thumbs down and one of those comes from a test user
        var traces = Enumerable.Range(0, 300).Select(i =>
        {
            var t = SamplerTests.Trace($"t{i}", i % 2 == 0 ? "a" : "b", $"request {i} about something {i * 7919 % 1000} words", metadata: new Dictionary<string, string> { ["user"] = i == 3 ? "tester" : "u" });
            return t with { Trace = t.Trace with { Feedback = new Feedback(Thumbs: i % 3 == 0 ? -1 : 1) } };
        }).ToList();
        var policy = SamplerTests.Policy(30, exclusions: new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>> { ["user"] = ["tester"] }, 0.95, 3));
        var (filter, _) = TraceFilter.Parse("thumbs = down");

        // When drafts are drawn with the filter, twice with the same seed
        SampleResult Draw()
        {
            var sampler = new Sampler(policy, [], seed: 4, where: filter);
            traces.ForEach(sampler.Add);
            return sampler.Draw();
        }

        var first = Draw();
        var second = Draw();

        // Then every drawn trace matched, the matches are counted per stratum, the test user is still excluded, and the seed decides
        first.Seen.Should().Be(300);
        first.Matched.Should().Be(100);
        first.Allocations.Sum(a => a.Matched).Should().Be(100);
        first.Allocations.Sum(a => a.Eligible).Should().Be(99);
        first.Excluded[ExclusionReason.Metadata].Should().Be(1);
        first.Drawn.Should().HaveCount(30).And.OnlyContain(d => d.Trace.Trace.Feedback.Thumbs == -1 && d.Trace.Trace.Id != "t3");
        second.Drawn.Select(d => d.Trace.Key).Should().Equal(first.Drawn.Select(d => d.Trace.Key));
        new Sampler(policy, [], seed: 4).Draw().Matched.Should().BeNull();
    }
}
