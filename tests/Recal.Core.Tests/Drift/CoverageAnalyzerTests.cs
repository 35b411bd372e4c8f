using System.Globalization;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Statistics;
using Xunit;

namespace Recal.Core.Tests.Drift;

public sealed class CoverageAnalyzerTests
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    // Cases in three intents, as points on the unit sphere (the fake embedder reads a text as its coordinates).
    private static readonly (string Intent, string Vector)[] Cases =
    [
        ("a", "1,0,0"), ("a", "0.8,0.6,0"),
        ("b", "0,1,0"), ("b", "0,0.8,0.6"),
        ("c", "0,0,1"),
    ];

    [Fact]
    public void The_radius_is_a_percentile_of_the_cases_similarities_to_their_nearest_case_of_another_intent()
    {
        // Given the five cases: their nearest other-intent similarities are 0, 0.6, 0.6, 0.6, 0.6 and their
        // nearest same-intent similarities 0.8 (four cases; c has no sibling)
        var cases = Project(Cases).Cases;
        var vectors = Cases.SelectMany(c => Coordinates(c.Vector)).ToArray();

        // When the radius is calibrated at the 10th and the 95th percentile
        var tenth = CoverageAnalyzer.Calibrate(cases, vectors, 3, 10)!;
        var high = CoverageAnalyzer.Calibrate(cases, vectors, 3, 95)!;

        // Then it interpolates between order statistics as NumPy does, and says how well each radius separates
        tenth.Radius.Should().BeApproximately(0.24, 1e-6);
        tenth.Source.Should().Be(RadiusSource.Calibrated);
        tenth.OtherIntentWithin.Should().BeApproximately(0.8, 1e-12);
        tenth.SameIntentWithin.Should().Be(1);
        (tenth.Cases, tenth.Intents).Should().Be((5, 3));
        high.Radius.Should().BeApproximately(0.6, 1e-6);
        CoverageAnalyzer.Percentile([1, 2, 3, 4], 5).Should().BeApproximately(1.15, 1e-12);
        CoverageAnalyzer.Percentile([1, 2, 3, 4], 100).Should().Be(4);
    }

    [Fact]
    public async Task Coverage_counts_traffic_whose_nearest_case_is_within_the_radius_overall_and_per_stratum_worst_first()
    {
        // Given traffic in a covered intent, an intent the set lacks, and an intent half of whose traffic is far from its cases
        var project = Project(Cases);
        var store = new InMemoryStore();
        AddTraffic(store, "a", "1,0,0", 10);
        AddTraffic(store, "d", "-1,0,0", 5);
        AddTraffic(store, "b", "0,1,0", 2);
        AddTraffic(store, "b", "0,-1,0", 2);

        // When coverage is measured with the radius calibrated at the 10th percentile (0.24)
        var outcome = await CoverageAnalyzer.AnalyzeAsync(project, "v", store, new CoordinateEmbedder(), "coordinates", new CoverageRequest(Percentile: 10), TestContext.Current.CancellationToken);

        // Then 12 of 19 traces are covered, d not at all, b half, a fully, listed worst first with Wilson intervals
        var report = outcome.Report!;
        report.Overall.Should().BeEquivalentTo(new { Measured = 19L, Covered = 12L, Estimator = CoverageEstimator.Census });
        report.Overall.Share.Should().BeApproximately(12.0 / 19, 1e-12);
        var (lower, upper) = Proportion.WilsonInterval(12, 19);
        (report.Overall.Lower, report.Overall.Upper).Should().Be((lower, upper));
        report.Strata.Select(s => (s.Stratum, s.Covered, s.Measured, s.EvalCases)).Should().Equal(("d", 0L, 5L, 0L), ("b", 2L, 4L, 2L), ("a", 10L, 10L, 2L));
        report.Strata[0].TrafficShare.Should().BeApproximately(5.0 / 19, 1e-12);
        report.Strata[2].MedianSimilarity.Should().BeApproximately(1, 1e-6);
        report.Traces.Should().Be(19);
        report.Embedder.Should().Be("coordinates");
        report.Dimensions.Should().Be(3);
    }

    [Fact]
    public async Task A_given_radius_is_used_as_is_and_its_separation_on_the_cases_still_measured()
    {
        var store = new InMemoryStore();
        AddTraffic(store, "a", "0.8,0.6,0", 3);

        var report = (await CoverageAnalyzer.AnalyzeAsync(Project(Cases), "v", store, new CoordinateEmbedder(), "coordinates", new CoverageRequest(Radius: 0.99), TestContext.Current.CancellationToken)).Report!;

        report.Radius.Should().BeEquivalentTo(new { Radius = 0.99, Source = RadiusSource.Given, Percentile = (double?)null, SameIntentWithin = 0.0, OtherIntentWithin = 0.0 });
        report.Overall.Covered.Should().Be(3);
    }

    [Fact]
    public async Task A_window_larger_than_the_limit_is_measured_on_a_seeded_stratified_sample_close_to_the_full_count()
    {
        // Given 3,000 traces: 2,000 in a (three quarters of them covered) and 1,000 in d (none covered)
        var project = Project(Cases);
        var store = new InMemoryStore();
        AddTraffic(store, "a", "1,0,0", 1500);
        AddTraffic(store, "a", "-1,0,0", 500);
        AddTraffic(store, "d", "0,-1,0", 1000);
        var embedder = new CoordinateEmbedder();

        // When coverage is measured in full, and on samples of about 600 with two seeds, twice with the first
        var census = (await CoverageAnalyzer.AnalyzeAsync(project, "v", store, embedder, "c", new CoverageRequest(Percentile: 10), TestContext.Current.CancellationToken)).Report!;
        var sample = (await CoverageAnalyzer.AnalyzeAsync(project, "v", store, embedder, "c", new CoverageRequest(Percentile: 10, MaxTraces: 600, Seed: 1), TestContext.Current.CancellationToken)).Report!;
        var again = (await CoverageAnalyzer.AnalyzeAsync(project, "v", store, embedder, "c", new CoverageRequest(Percentile: 10, MaxTraces: 600, Seed: 1), TestContext.Current.CancellationToken)).Report!;
        var other = (await CoverageAnalyzer.AnalyzeAsync(project, "v", store, embedder, "c", new CoverageRequest(Percentile: 10, MaxTraces: 600, Seed: 2), TestContext.Current.CancellationToken)).Report!;

        // Then the census says 50%; the sample measures 600 traces in proportion, weighs strata by their traffic,
        // and its interval holds the census; the same seed gives the same sample, another seed another
        census.Overall.Share.Should().BeApproximately(0.5, 1e-12);
        sample.Overall.Estimator.Should().Be(CoverageEstimator.Stratified);
        sample.Overall.Measured.Should().Be(600);
        sample.Strata.Select(s => (s.Stratum, s.Measured, s.TrafficCount)).Should().BeEquivalentTo([("d", 200L, 1000L), ("a", 400L, 2000L)]);
        sample.Overall.Share.Should().BeApproximately((2.0 / 3) * sample.Strata.Single(s => s.Stratum == "a").CoveredShare, 1e-12);
        sample.Overall.Lower.Should().BeLessThan(0.5);
        sample.Overall.Upper.Should().BeGreaterThan(0.5);
        sample.Overall.Should().Be(again.Overall);
        other.Overall.Covered.Should().NotBe(sample.Overall.Covered);
    }

    [Fact]
    public void Allocation_gives_each_stratum_its_traffic_share_after_a_floor_taken_out_of_the_budget()
    {
        var population = new Dictionary<string, long> { ["big"] = 9_000, ["mid"] = 1_000, ["tiny"] = 10, ["small"] = 50 };

        var quota = CoverageAnalyzer.Allocate(population, 1_000);

        quota.Should().BeEquivalentTo(new Dictionary<string, int> { ["tiny"] = 10, ["small"] = 30, ["big"] = 864, ["mid"] = 96 });
        quota.Values.Sum().Should().Be(1_000);
    }

    [Fact]
    public void When_the_strata_are_too_many_for_the_floor_the_floor_shrinks_so_the_sample_stays_within_its_size()
    {
        var population = Enumerable.Range(0, 10).ToDictionary(i => $"s{i}", i => 100L + i);

        var quota = CoverageAnalyzer.Allocate(population, 50);

        quota.Values.Should().OnlyContain(n => n == 5);
    }

    [Fact]
    public async Task Without_traffic_or_with_cases_of_one_intent_the_report_says_why_there_is_none()
    {
        var empty = await CoverageAnalyzer.AnalyzeAsync(Project(Cases), "v", new InMemoryStore(), new CoordinateEmbedder(), "c", new CoverageRequest(), TestContext.Current.CancellationToken);
        var store = new InMemoryStore();
        AddTraffic(store, "a", "1,0,0", 1);
        var oneIntent = await CoverageAnalyzer.AnalyzeAsync(Project([("a", "1,0,0"), ("a", "0,1,0")]), "v", store, new CoordinateEmbedder(), "c", new CoverageRequest(), TestContext.Current.CancellationToken);
        var quietWindow = await CoverageAnalyzer.AnalyzeAsync(Project(Cases), "v", store, new CoordinateEmbedder(), "c", new CoverageRequest(Monday.AddDays(10), Monday.AddDays(11)), TestContext.Current.CancellationToken);

        empty.Problem.Should().Be("the store holds no traffic yet");
        oneIntent.Problem.Should().Contain("single intent").And.Contain("--radius");
        quietWindow.Problem.Should().StartWith("no traffic between 2026-06-11");
        new[] { empty, oneIntent, quietWindow }.Should().OnlyContain(o => o.Report == null);
    }

    [Fact]
    public async Task Uncovered_traffic_of_a_new_topic_comes_out_as_blind_spots_named_by_their_words()
    {
        // Given a banking eval set, banking traffic it covers all month, and two topics it lacks: travel documents,
        // a few in the first half of the month and many in the second, and pets on flights, only in the second half
        var project = Project(BankingCases);
        var store = new InMemoryStore();
        AddBlindSpotTraffic(store, reversed: false);

        // When coverage is measured with the built-in embedder (a radius the copies of cases reach and nothing else does)
        var embedder = new HashedEmbeddingGenerator();
        var outcome = await CoverageAnalyzer.AnalyzeAsync(project, "v", store, embedder, embedder.Id, new CoverageRequest(Monday, Monday.AddDays(28), Radius: 0.9), TestContext.Current.CancellationToken);

        // Then the uncovered traffic is the two topics, in two focused blind spots found by the silhouette, largest first
        var blind = outcome.Report!.BlindSpots!;
        blind.Uncovered.Should().Be(120);
        blind.Source.Should().Be(ClusterCountSource.Silhouette);
        blind.MaxK.Should().Be(6);
        blind.Silhouettes.Select(x => x.K).Should().Equal(2, 3, 4, 5, 6);
        blind.Silhouettes.MaxBy(x => x.Silhouette)!.K.Should().Be(2);
        blind.K.Should().Be(2);
        blind.Spots.Should().HaveCount(2).And.OnlyContain(s => s.Focused);
        var (travel, pets) = (blind.Spots[0], blind.Spots[1]);
        (travel.Id, travel.Measured, travel.Traces, pets.Id, pets.Measured).Should().Be((1, 72L, 72L, 2, 48L));
        travel.TrafficShare.Should().BeApproximately(72.0 / store.Count, 1e-12);
        travel.Strata.Should().ContainSingle().Which.Should().Be(new BlindSpotStratum("travel_documents", 72, 1));
        pets.Strata.Single().Stratum.Should().Be("pet_travel");

        // And each is named by its own words, shows its own traces, and is far from every case
        travel.Terms.Should().HaveCount(BlindSpotFinder.Terms);
        travel.Terms.Select(t => t.Term).Should().BeSubsetOf(["visa", "passport", "embassy", "consulate", "entry", "immigration", "tourist", "customs"]);
        pets.Terms.Select(t => t.Term).Should().BeSubsetOf(["pet", "dog", "cat", "cabin", "kennel", "puppy", "vet", "carrier"]);
        travel.Terms.Should().BeInDescendingOrder(t => t.Score).And.OnlyContain(t => t.BlindSpotShare > t.WindowShare);
        travel.Examples.Should().HaveCount(BlindSpotFinder.Examples).And.OnlyContain(e => e.Stratum == "travel_documents" && e.CentroidSimilarity > 0);
        travel.Examples.Select(e => e.Text).Should().OnlyHaveUniqueItems();
        travel.MedianNearestCaseSimilarity.Should().BeLessThan(outcome.Report.Radius.Radius);

        // And growth compares the halves: 12 travel traces among 112 in the first half, 60 among 208 in the second;
        // the pets are new in the second half; the weeks count each topic's traces
        travel.FirstHalfShare.Should().BeApproximately(12.0 / 112, 1e-12);
        travel.SecondHalfShare.Should().BeApproximately(60.0 / 208, 1e-12);
        travel.Growth.Should().BeApproximately((60.0 / 208) / (12.0 / 112), 1e-9);
        travel.Weeks.Select(w => w.Traces).Should().Equal(12, 0, 30, 30);
        (pets.FirstHalfShare, pets.Growth).Should().Be((0.0, (double?)null));
        outcome.BlindSpots!.Select(m => m.Keys.Count).Should().Equal(72, 48);
    }

    [Fact]
    public async Task The_same_seed_gives_the_same_blind_spots_whatever_order_the_traces_were_stored_in()
    {
        // Given the same traffic stored in two orders
        var project = Project(BankingCases);
        var forward = new InMemoryStore();
        var backward = new InMemoryStore();
        AddBlindSpotTraffic(forward, reversed: false);
        AddBlindSpotTraffic(backward, reversed: true);
        var embedder = new HashedEmbeddingGenerator();
        var request = new CoverageRequest(Monday, Monday.AddDays(28), Radius: 0.9, Seed: 4);

        // When blind spots are found in each, and with three clusters asked for, and without any
        var a = (await CoverageAnalyzer.AnalyzeAsync(project, "v", forward, embedder, embedder.Id, request, TestContext.Current.CancellationToken)).Report!;
        var b = (await CoverageAnalyzer.AnalyzeAsync(project, "v", backward, embedder, embedder.Id, request, TestContext.Current.CancellationToken)).Report!;
        var three = (await CoverageAnalyzer.AnalyzeAsync(project, "v", forward, embedder, embedder.Id, request with { Clusters = 3 }, TestContext.Current.CancellationToken)).Report!;
        var none = (await CoverageAnalyzer.AnalyzeAsync(project, "v", forward, embedder, embedder.Id, request with { BlindSpots = false }, TestContext.Current.CancellationToken));
        var sampled = (await CoverageAnalyzer.AnalyzeAsync(project, "v", forward, embedder, embedder.Id, request with { MaxTraces = 160 }, TestContext.Current.CancellationToken)).Report!;

        // Then the two orders give the same blind spots; three clusters are three; none are none
        b.BlindSpots.Should().BeEquivalentTo(a.BlindSpots, o => o.WithStrictOrdering());
        three.BlindSpots!.Source.Should().Be(ClusterCountSource.Given);
        three.BlindSpots.K.Should().Be(3);
        three.BlindSpots.Spots.Sum(s => s.Measured).Should().Be(120 - three.BlindSpots.SmallClusterTraces);
        none.Report!.BlindSpots.Should().BeNull();
        none.BlindSpots.Should().BeNull();

        // And on a sample of half the window, each topic's sampled traces stand for all of its traffic
        var travel = sampled.BlindSpots!.Spots.Single(s => s.Strata[0].Stratum == "travel_documents");
        travel.Measured.Should().BeLessThan(72);
        travel.Traces.Should().Be(72);
        travel.TrafficShare.Should().BeApproximately(72.0 / forward.Count, 1e-9);
    }

    private static readonly (string Intent, string Text)[] BankingCases =
    [
        ("balance", "what is my checking account balance"), ("balance", "how much money is in my savings account"),
        ("transfer", "transfer 200 dollars from checking to savings"), ("transfer", "send money to my landlord by bank transfer"),
        ("card_lost", "i lost my debit card please block it"), ("card_lost", "my credit card was stolen yesterday"),
    ];

    /// <summary>
    /// Four weeks from <see cref="Monday"/>: 100 covered banking traces in the first half and 100 in the second; 12
    /// travel-document traces in week 1 and 30 in each of weeks 3 and 4; 48 pets-on-flights traces in weeks 3 and 4.
    /// </summary>
    private static void AddBlindSpotTraffic(InMemoryStore store, bool reversed)
    {
        // Each topic text strings four of the topic's words together at random.
        var random = new Random(11);
        string Topic(string[] words) => string.Join(' ', Enumerable.Range(0, 4).Select(_ => words[random.Next(words.Length)]));
        string[] travel = ["visa", "passport", "embassy", "consulate", "entry", "immigration", "tourist", "customs"];
        string[] pets = ["pet", "dog", "cat", "cabin", "kennel", "puppy", "vet", "carrier"];
        var traces = new List<(string Intent, string Text, DateTimeOffset Time)>();
        for (var i = 0; i < 200; i++)
        {
            traces.Add((BankingCases[i % 6].Intent, BankingCases[i % 6].Text, Monday.AddDays(i < 100 ? 0 : 14).AddHours(i % 100)));
        }

        for (var i = 0; i < 72; i++)
        {
            var time = i < 12 ? Monday.AddDays(1).AddHours(i) : Monday.AddDays(i < 42 ? 14 : 21).AddHours(i % 30);
            traces.Add(("travel_documents", Topic(travel), time));
        }

        for (var i = 0; i < 48; i++)
        {
            traces.Add(("pet_travel", Topic(pets), Monday.AddDays(15 + (i % 12)).AddHours(i)));
        }

        foreach (var (intent, text, time) in reversed ? Enumerable.Reverse(traces) : traces)
        {
            var key = $"{intent}-{time:O}-{text}";
            store.Add(new ClassifiedTrace(
                new Trace(key, time, TraceInput.FromText(text), null, null, new Dictionary<string, string>(), Feedback.None, null),
                "id:" + key, intent, IntentSource.Classifier, 0.9, "plan=pro"));
        }
    }

    private static void AddTraffic(InMemoryStore store, string intent, string vector, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var key = $"{intent}-{vector}-{i}";
            store.Add(new ClassifiedTrace(
                new Trace(key, Monday.AddMinutes(i), TraceInput.FromText(vector), null, null, new Dictionary<string, string>(), Feedback.None, null),
                "id:" + key, intent, IntentSource.Classifier, 0.9, "plan=pro"));
        }
    }

    internal static float[] Coordinates(string text) => [.. text.Split(',').Select(x => float.Parse(x, CultureInfo.InvariantCulture))];

    internal static EvalProject Project(IReadOnlyList<(string Intent, string Vector)> cases)
    {
        var intents = cases.Select(c => c.Intent).Distinct().ToList();
        var taxonomy = new Taxonomy(1, [.. intents.Select(i => new IntentDefinition(i, null, [], [], null))], [], new ClassifierSettings());
        var evalCases = cases.Select((c, i) => new EvalCase($"case-{i}", TraceInput.FromText(c.Vector), [new Reference("y", ReferenceGrade.High)], [], c.Intent,
            new Dictionary<string, string>(), null, new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", i + 1))).ToList();
        var policy = new SamplingPolicy(1, null, 100, TimeSpan.FromDays(28), new StrataPolicy(["intent"], DefaultWeighting.Traffic, new Dictionary<string, double>(), 0),
            new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>>(), 0.95, 1), 0.2, TimeSpan.FromDays(7), TimeSpan.FromDays(90),
            new PromotionRule(0.01, 3), new RetirementRule(4, true, true), new AlarmThresholds(0.2, 0.25, 0.001, 0.02, 0.15));
        return new EvalProject("/tmp", new ProjectSettings(1, "test", "/tmp/x.db", "t", "p", []), taxonomy, policy, evalCases);
    }

    /// <summary>Reads a text such as "0.8,0.6,0" as its vector: geometry the test can reason about.</summary>
    internal sealed class CoordinateEmbedder : IEmbeddingGenerator<string, Embedding<float>>
    {
        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(v => new Embedding<float>(Coordinates(v)))));

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
