using FluentAssertions;
using FsCheck;
using FsCheck.Fluent;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Lifecycle;
using Xunit;

namespace Recal.Core.Tests.Lifecycle;

public sealed class SamplerTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    internal static SamplingPolicy Policy(int size = 100, int floor = 0, DefaultWeighting weighting = DefaultWeighting.Traffic, IReadOnlyDictionary<string, double>? weights = null, IReadOnlyList<string>? by = null, ExclusionRules? exclusions = null) =>
        new(1, null, size, TimeSpan.FromDays(28), new StrataPolicy(by ?? ["intent"], weighting, weights ?? new Dictionary<string, double>(), floor),
            exclusions ?? new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>>(), 0.95, 3), 0.2, TimeSpan.FromDays(7), TimeSpan.FromDays(84),
            new PromotionRule(0.01, 2), new RetirementRule(4, true, true), new AlarmThresholds(0.25, 0.3, 0.001, 0.03, 0.1));

    internal static ClassifiedTrace Trace(string id, string intent, string? text = null, string cohort = "plan=free", IReadOnlyDictionary<string, string>? metadata = null, int minute = 0) =>
        new(new Domain.Trace(id, Start.AddMinutes(minute), TraceInput.FromText(text ?? $"question {id} about {intent} with enough words"), "answer", "bot", metadata ?? new Dictionary<string, string>(), Feedback.None, null),
            "id:" + id, intent, IntentSource.Classifier, 0.9, cohort);

    /// <summary>Traffic with intents a..e in shares 50/25/15/9/1 per cent of <paramref name="total"/> traces.</summary>
    private static List<ClassifiedTrace> Skewed(int total)
    {
        var shares = new[] { ("a", 0.50), ("b", 0.25), ("c", 0.15), ("d", 0.09), ("e", 0.01) };
        var traces = new List<ClassifiedTrace>();
        foreach (var (intent, share) in shares)
        {
            for (var i = 0; i < total * share; i++)
            {
                traces.Add(Trace($"{intent}{i}", intent, $"{intent} request number {i} {new string((char)('a' + (i % 26)), 1 + (i % 7))} {i * 7919 % 1000}"));
            }
        }

        return traces;
    }

    private static SampleResult Draw(IEnumerable<ClassifiedTrace> traces, SamplingPolicy policy, int seed = 0, IEnumerable<EvalCase>? existing = null)
    {
        var sampler = new Sampler(policy, existing ?? [], seed: seed);
        foreach (var trace in traces)
        {
            sampler.Add(trace);
        }

        return sampler.Draw();
    }

    [Fact]
    public void Traffic_weighting_allocates_in_proportion_and_floors_keep_the_tail()
    {
        // Given traffic 50/25/15/9/1 and a policy of 100 cases, floor 5
        var result = Draw(Skewed(2000), Policy(100, floor: 5));

        // Then each stratum gets its traffic share of 100, and the 1% tail its floor of 5 instead of 1
        result.Allocations.ToDictionary(a => a.Stratum, a => a.Allocated).Should().BeEquivalentTo(new Dictionary<string, int>
        {
            ["a"] = 50, ["b"] = 25, ["c"] = 15, ["d"] = 9, ["e"] = 5,
        });
        result.Drawn.Should().HaveCount(104);
        result.Drawn.GroupBy(d => d.Stratum).Should().OnlyContain(g => g.Count() == result.Allocations.Single(a => a.Stratum == g.Key).Allocated);
    }

    [Fact]
    public void Explicit_weights_are_targets_and_the_rest_share_the_remaining_weight()
    {
        // Given the policy fixes e at 20% and shares the rest equally
        var result = Draw(Skewed(2000), Policy(100, weighting: DefaultWeighting.Equal, weights: new Dictionary<string, double> { ["e"] = 0.2 }));

        // Then e gets 20 whatever its traffic, and a..d 20 each
        var allocated = result.Allocations.ToDictionary(a => a.Stratum, a => a.Allocated);
        allocated["e"].Should().Be(20);
        allocated.Where(kv => kv.Key != "e").Should().OnlyContain(kv => kv.Value == 20);
        result.Allocations.Single(a => a.Stratum == "e").ExplicitWeight.Should().BeTrue();
    }

    [Fact]
    public void A_stratum_with_fewer_eligible_traces_than_its_target_gives_all_it_has()
    {
        var traces = Skewed(2000).Where(t => t.Intent != "e").Append(Trace("e0", "e")).ToList();

        var result = Draw(traces, Policy(100, floor: 5));

        result.Allocations.Single(a => a.Stratum == "e").Allocated.Should().Be(1);
    }

    [Fact]
    public void The_same_seed_gives_the_same_sample_in_any_order_and_another_seed_another()
    {
        var traffic = Skewed(1000);
        var forward = Draw(traffic, Policy(60, floor: 2), seed: 5).Drawn.Select(d => d.Trace.Key).Order().ToList();
        var backward = Draw(Enumerable.Reverse(traffic), Policy(60, floor: 2), seed: 5).Drawn.Select(d => d.Trace.Key).Order().ToList();
        var other = Draw(traffic, Policy(60, floor: 2), seed: 6).Drawn.Select(d => d.Trace.Key).Order().ToList();

        backward.Should().Equal(forward);
        other.Should().NotEqual(forward);
    }

    [Fact]
    public void Exclusion_rules_remove_personal_data_internal_users_unusable_inputs_and_near_duplicates()
    {
        // Given a card number, an internal user, a too-short input and a near copy of an existing case
        var existing = new EvalCase("gold-1", TraceInput.FromText("how do i freeze my credit card today"), [new Reference("ok", ReferenceGrade.High)], [], "a",
            new Dictionary<string, string>(), null, new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("c.jsonl", 1));
        var traces = new List<ClassifiedTrace>
        {
            Trace("p", "a", "my card 4111111111111111 is blocked"),
            Trace("m", "a", "a question from a tester account", metadata: new Dictionary<string, string> { ["user_type"] = "internal" }),
            Trace("s", "a", "hi"),
            Trace("n", "a", "how do i freeze my credit card today?"),
            Trace("ok", "a", "what is the interest rate on my savings"),
        };
        var exclusions = new ExclusionRules([@"\b\d{13,19}\b"], new Dictionary<string, IReadOnlyList<string>> { ["user_type"] = ["internal", "test"] }, 0.9, 3);

        var result = Draw(traces, Policy(10, exclusions: exclusions), existing: [existing]);

        result.Drawn.Select(d => d.Trace.Key).Should().Equal("id:ok");
        result.Excluded.Should().BeEquivalentTo(new Dictionary<ExclusionReason, long>
        {
            [ExclusionReason.Pattern] = 1, [ExclusionReason.Metadata] = 1, [ExclusionReason.Unusable] = 1, [ExclusionReason.NearDuplicate] = 1,
        });
    }

    [Fact]
    public void Drawing_in_order_takes_the_candidates_as_ranked_with_the_same_exclusions_until_the_size_is_reached()
    {
        // Given ranked candidates: one too short, one near-duplicating a pending draft, one repeating an earlier candidate
        var exclusions = new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>>(), 0.9, 10);
        var sampler = new Sampler(Policy(exclusions: exclusions), [], size: 3);
        sampler.Cover("please renew my passport before the trip");
        ClassifiedTrace[] ranked =
        [
            Trace("t1", "travel", "do i need a visa for kenya"),
            Trace("t2", "travel", "visa?"),
            Trace("t3", "travel", "please renew my passport before the trip!"),
            Trace("t4", "pets", "do i need a visa for kenya"),
            Trace("t5", "travel", "book a hotel in lima near the old town"),
            Trace("t6", "travel", "how early should i be at the airport"),
            Trace("t7", "travel", "never offered: the size is reached"),
        ];

        // When three are drawn in order
        var result = sampler.DrawInOrder(ranked);

        // Then the first eligible, distinct three are taken, each with its stratum, and the rest is never read
        result.Drawn.Select(d => (d.Trace.Key, d.Stratum)).Should().Equal(("id:t1", "travel"), ("id:t5", "travel"), ("id:t6", "travel"));
        result.Excluded.Should().BeEquivalentTo(new Dictionary<ExclusionReason, long> { [ExclusionReason.Unusable] = 1, [ExclusionReason.NearDuplicate] = 2 });
        result.Seen.Should().Be(6);
        result.Allocations.Should().BeEmpty();
    }

    [Fact]
    public void Strata_can_combine_intent_and_cohort_values()
    {
        var traces = Enumerable.Range(0, 40).Select(i => Trace($"t{i}", i % 2 == 0 ? "a" : "b", cohort: i % 4 < 2 ? "plan=free" : "plan=pro")).ToList();

        var result = Draw(traces, Policy(8, by: ["intent", "plan"]));

        result.Allocations.Select(a => a.Stratum).Should().BeEquivalentTo("a/free", "a/pro", "b/free", "b/pro");
        result.Allocations.Should().OnlyContain(a => a.Allocated == 2);
    }

    [Fact]
    public void The_arithmetic_says_how_floors_take_a_small_size_above_itself()
    {
        // Given traffic 50/25/15/9/1 over five strata, a floor of 5 and a size of 20 (the floors alone need 25)
        var result = Draw(Skewed(2000), Policy(20, floor: 5));

        // Then the targets 10, 5, 3, 1.8 and 0.2 become 10, 5, 5, 5, 5: three strata raised by 2 + 3.2 + 4.8 = 10
        var arithmetic = result.Arithmetic!;
        arithmetic.Should().BeEquivalentTo(new { Size = 20, Strata = 5, Floor = 5, FloorsNeed = 25L, FloorsExceedSize = true, RaisedStrata = 3, ShortStrata = 0, Allocated = 30 });
        arithmetic.Weighted.Should().BeApproximately(20, 1e-9);
        arithmetic.Raised.Should().BeApproximately(10, 1e-9);
        result.Drawn.Should().HaveCount(arithmetic.Allocated);

        // And the explanation shows the sum and why it exceeds the size
        arithmetic.Explain("--size").Should().Equal(
            "Size 20 (--size), shared out by the target weights.",
            "Floor 5 per stratum: 5 strata × 5 = 25; 3 of the 5 have a smaller target and are raised to it: +10.",
            "To draw: 20 + 10 = 30 cases, 10 more than the size asked for: floors apply per stratum, and 5 strata × 5 alone need 25 (to draw about 20, lower strata.floor or stratify by fewer keys).");
    }

    [Fact]
    public void The_arithmetic_counts_what_strata_too_small_for_their_floor_cannot_give()
    {
        // Given a stratum with a single eligible trace, a floor of 5 and a size of 100
        var traces = Skewed(2000).Where(t => t.Intent != "e").Append(Trace("e0", "e")).ToList();

        var arithmetic = Draw(traces, Policy(100, floor: 5)).Arithmetic!;

        // Then the floor raises it by 5 − its target, and it gives 4 fewer than that: 100 + 4.9 − 4 = 100.9 → 101
        arithmetic.ShortStrata.Should().Be(1);
        arithmetic.Short.Should().BeApproximately(4, 1e-9);
        arithmetic.Allocated.Should().Be(101);
        arithmetic.Explain("the policy's size").Should().Contain("1 strata have fewer eligible traces than that and give all they have: −4.")
            .And.Contain(l => l.StartsWith("To draw: 100 + 4.9 − 4 = 100.9 → 101 cases, 1 more than the size asked for: what the floors add", StringComparison.Ordinal));
    }

    [Fact]
    public void Floors_are_always_respected_and_allocations_track_the_target_weights()
    {
        var gen = Gen.Choose(1, 400).ArrayOf(Gen.Choose(2, 8).Sample(1, 1).First())
            .SelectMany(counts => Gen.Choose(0, 6).SelectMany(floor => Gen.Choose(10, 120).Select(size => (counts, floor, size))));
        Prop.ForAll(gen.ToArbitrary(), input =>
        {
            var (counts, floor, size) = input;
            var traces = counts.SelectMany((n, s) => Enumerable.Range(0, n).Select(i => Trace($"s{s}-{i}", $"s{s}", $"stratum {s} text {i} {i * 31 % 97}"))).ToList();
            var result = Draw(traces, Policy(size, floor, exclusions: new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>>(), 1.01, 0)));
            var total = counts.Sum();
            return result.Allocations.All(a =>
                a.Allocated >= Math.Min(floor, a.Eligible)
                && a.Allocated <= a.Eligible
                && a.Allocated <= Math.Max(floor, size * (double)a.Eligible / total) + 1
                && a.Allocated >= Math.Min(a.Eligible, Math.Max(floor, size * (double)a.Eligible / total)) - 1
                && a.Drawn == a.Allocated);
        }).QuickCheckThrowOnFailure();
    }
}
