using FluentAssertions;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Project;

/// <summary>Names, cohort dimensions and the taxonomy that recal init --from-traces proposes.</summary>
public sealed class TaxonomyProposalTests
{
    [Fact]
    public void Intent_names_join_the_two_most_distinctive_words_in_snake_case()
    {
        var names = ProposalNames.Intents([["Refund", "order", "money"], ["reset", "password"]]);

        names.Should().Equal("refund_order", "reset_password");
    }

    [Fact]
    public void An_intent_whose_name_is_taken_adds_a_word_then_a_number()
    {
        var names = ProposalNames.Intents([["card", "lost", "stolen"], ["card", "lost", "found"], ["card", "lost"], ["card", "lost"]]);

        names.Should().Equal("card_lost", "card_lost_found", "card_lost_2", "card_lost_3");
    }

    [Fact]
    public void Names_are_valid_in_a_taxonomy_even_from_odd_words()
    {
        // Given words that are reserved, start with a digit, carry punctuation or accents, or are missing
        var names = ProposalNames.Intents([["unknown"], ["2fa", "code"], ["Café!", "crème-brûlée"], [], ["---"]]);

        // Then every name starts with a letter, is snake_case, unique, and never the reserved 'unknown'
        names.Should().Equal("unknown_intent", "intent_2fa_code", "café_crème_brûlée", "topic_4", "topic_5");
        names.Should().OnlyHaveUniqueItems().And.NotContain(Taxonomy.UnknownIntent);
    }

    [Fact]
    public void Cohort_names_are_snake_case_fields_that_never_clash_with_intent()
    {
        var taken = new HashSet<string>(StringComparer.Ordinal);

        var names = new[] { "user.plan", "intent", "User Plan", "locale" }.Select(f => ProposalNames.Cohort(f, taken)).ToList();

        names.Should().Equal("user_plan", "intent_field", "user_plan_2", "locale");
    }

    [Fact]
    public void Metadata_fields_with_few_values_on_most_traces_become_cohort_dimensions()
    {
        // Given 100 traces with a plan (3 values), a user id (one per trace), a flag on few traces, a constant and a locale with one rare value
        var sample = new TraceSample(size: 50, seed: 0, maxValues: 12);
        for (var i = 0; i < 100; i++)
        {
            var metadata = new Dictionary<string, string>
            {
                ["plan"] = (i % 10) switch { < 6 => "free", < 9 => "pro", _ => "enterprise" },
                ["user_id"] = $"u-{i:000}",
                ["env"] = "prod",
                ["locale"] = i == 0 ? "unknown" : "en-US",
            };
            if (i < 20)
            {
                metadata["beta"] = i % 2 == 0 ? "true" : "false";
            }

            sample.Add($"id:t{i}", new Trace($"t{i}", DateTimeOffset.UnixEpoch, TraceInput.FromText($"text {i}"), null, null, metadata, Feedback.None, null));
        }

        // When cohorts are proposed
        var cohorts = TaxonomyProposer.Cohorts(sample.Fields(), sample.Read, new TaxonomyProposalOptions());

        // Then plan and locale are dimensions, values by frequency; ids, constants and rare fields are not
        cohorts.Select(c => c.Name).Should().Equal("locale", "plan");
        var plan = cohorts.Single(c => c.Name == "plan");
        plan.Values.Select(v => v.Key).Should().Equal("free", "pro", "enterprise");
        plan.Values.Select(v => v.Value).Should().Equal(60, 30, 10);
        plan.Missing.Should().Be("unknown");

        // And a field whose values include 'unknown' keeps 'missing' for traces without it
        cohorts.Single(c => c.Name == "locale").Missing.Should().Be("missing");
        sample.Traces().Should().HaveCount(50);
    }

    [Fact]
    public void A_field_with_more_values_than_the_census_keeps_is_no_cohort()
    {
        var sample = new TraceSample(size: 10, seed: 0, maxValues: 12);
        for (var i = 0; i < 1000; i++)
        {
            sample.Add($"id:t{i}", new Trace(null, DateTimeOffset.UnixEpoch, TraceInput.FromText("x"), null, null, new Dictionary<string, string> { ["country"] = $"c{i % 13}" }, Feedback.None, null));
        }

        sample.Fields().Single().TooMany.Should().BeTrue();
        TaxonomyProposer.Cohorts(sample.Fields(), sample.Read, new TaxonomyProposalOptions()).Should().BeEmpty();
    }

    [Fact]
    public void The_sample_does_not_depend_on_the_order_traces_are_read_in()
    {
        var traces = Enumerable.Range(0, 500).Select(i => ($"id:t{i}", new Trace($"t{i}", DateTimeOffset.UnixEpoch, TraceInput.FromText($"q {i}"), null, null, new Dictionary<string, string>(), Feedback.None, null))).ToList();
        var forward = new TraceSample(40, 7, 12);
        var backward = new TraceSample(40, 7, 12);
        traces.ForEach(t => forward.Add(t.Item1, t.Item2));
        Enumerable.Reverse(traces).ToList().ForEach(t => backward.Add(t.Item1, t.Item2));

        forward.Traces().Select(t => t.Key).Should().Equal(backward.Traces().Select(t => t.Key)).And.HaveCount(40);
    }

    [Fact]
    public async Task Clusters_of_distinct_topics_become_named_intents_with_examples_and_a_valid_taxonomy()
    {
        // Given traffic on three topics, worded several ways
        string[][] topics =
        [
            ["refund my order", "i want a refund for my order", "refund the order please", "how do i get a refund on this order", "order refund status"],
            ["reset my password", "i forgot my password reset it", "password reset link", "how to reset password", "reset the password on my account"],
            ["track my parcel", "where is my parcel tracking", "parcel tracking number", "track the parcel delivery", "parcel has not arrived track it"],
        ];
        var sample = new TraceSample(1000, 0, 12);
        var n = 0;
        foreach (var (topic, t) in topics.Select((t, i) => (t, i)))
        {
            for (var copy = 0; copy < 20; copy++)
            {
                foreach (var text in topic)
                {
                    var metadata = new Dictionary<string, string> { ["plan"] = n % 2 == 0 ? "free" : "pro" };
                    sample.Add($"id:{n}", new Trace($"{n++}", DateTimeOffset.UnixEpoch, TraceInput.FromText($"{text} {copy}"), "answer", null, metadata, Feedback.None, null));
                }
            }
        }

        // When a taxonomy is proposed with three clusters
        using var embedder = new HashedEmbeddingGenerator();
        var (proposal, problem) = await TaxonomyProposer.ProposeAsync(sample, embedder, embedder.Id, new TaxonomyProposalOptions(Intents: 3), TestContext.Current.CancellationToken);

        // Then each topic is one intent named from its words, with examples from its own traffic
        problem.Should().BeNull();
        proposal!.Source.Should().Be(ClusterCountSource.Given);
        proposal.Intents.Select(i => string.Join('_', i.Name.Split('_').Order(StringComparer.Ordinal))).Should().BeEquivalentTo("order_refund", "password_reset", "parcel_track");
        proposal.Intents.Should().OnlyContain(i => i.Members.Count == 100 && i.Examples.Count >= TaxonomyReader.MinExamples && i.Focused);
        proposal.Cohorts.Should().ContainSingle(c => c.Name == "plan");

        // And the taxonomy and cases written from it load as a valid project
        using var folder = new TempFolder();
        ProjectScaffolder.Scaffold(folder.Path, "proposed", proposal, new DateOnly(2026, 6, 1)).Should().BeEmpty();
        var loaded = EvalProjectLoader.Load(folder.Path);
        loaded.Diagnostics.Where(d => d.Severity == Recal.Diagnostics.Severity.Error).Should().BeEmpty();
        loaded.Project!.Taxonomy.Intents.Select(i => i.Name).Should().Equal(proposal.Intents.Select(i => i.Name));
        loaded.Project.Cases.Should().HaveCount(3).And.OnlyContain(c => c.Tags.Contains(ProposalWriter.StarterTag));
    }
}
