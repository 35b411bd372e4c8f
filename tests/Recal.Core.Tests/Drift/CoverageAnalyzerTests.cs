using System.Globalization;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Drift;
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
