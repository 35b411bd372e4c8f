using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FluentAssertions;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Ingest;
using Recal.Lifecycle;
using Recal.Storage;
using Xunit;

namespace Recal.Core.Tests.Drift;

public sealed class WindowSamplingTests
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Windows_sampled_together_from_trace_heads_keep_the_traces_a_scan_of_whole_traces_keeps_for_each()
    {
        // Given three weeks of traffic in four intents and two cohorts, traces sharing timestamps, and two case sources
        var store = new InMemoryStore();
        AddTraffic(store);
        var policy = CoverageAnalyzerTests.Project([("a", "1,0,0"), ("b", "0,1,0")]).Policy with
        {
            Strata = new StrataPolicy(["intent", "plan"], DefaultWeighting.Traffic, new Dictionary<string, double>(), 0),
        };
        var sources = new HashSet<string>(StringComparer.Ordinal) { "t-3", "t-700" };

        // When overlapping windows (each week, all three, the last ten days, one quiet day) are sampled in one pass, two seeds
        CoverageAnalyzer.WindowPlan Plan(int fromDay, int toDay, int seed = 7) => new(Monday.AddDays(fromDay), Monday.AddDays(toDay), 150, seed, sources);
        IReadOnlyList<CoverageAnalyzer.WindowPlan> plans = [Plan(0, 7), Plan(7, 14), Plan(14, 21), Plan(0, 21), Plan(11, 21, seed: 8), Plan(3, 4)];
        var traffic = await CoverageAnalyzer.MeasuredTrafficAsync(policy, store, plans, TestContext.Current.CancellationToken);

        // Then each window keeps what the definition gives over whole traces: the census in reading order, the sample by
        // stratum, then priority; the store was read once, by heads, and no whole trace was read
        store.HeadScans.Should().Be(1);
        store.KeyedHeadScans.Should().Be(1);
        store.WholeScans.Should().Be(0);
        traffic.Select(t => t.Sampled).Should().Equal(true, true, true, true, true, false);
        for (var i = 0; i < plans.Count; i++)
        {
            var (population, measured) = await ScannedAsync(store, policy, plans[i]);
            traffic[i].Population.Should().BeEquivalentTo(population);
            traffic[i].Measured.Select(m => (m.ReadKey, m.TraceId, m.Stratum, m.ReadText, m.Timestamp)).Should().Equal(measured);
        }

        traffic.SelectMany(t => t.Measured).Should().NotContain(m => sources.Contains(m.TraceId!));
    }

    [Fact]
    public async Task Windows_sampled_under_the_stored_seed_read_no_key_and_still_leave_the_case_sources_out()
    {
        // Given the same traffic and case sources, one of them in the sampled weeks and one in the census day
        var store = new InMemoryStore();
        AddTraffic(store);
        var policy = CoverageAnalyzerTests.Project([("a", "1,0,0"), ("b", "0,1,0")]).Policy with
        {
            Strata = new StrataPolicy(["intent", "plan"], DefaultWeighting.Traffic, new Dictionary<string, double>(), 0),
        };
        var sources = new HashSet<string>(StringComparer.Ordinal) { "t-3", "t-250", "t-700", "t-1200" };

        // When windows are sampled under the seed whose priorities the store keeps
        CoverageAnalyzer.WindowPlan Plan(int fromDay, int toDay) => new(Monday.AddDays(fromDay), Monday.AddDays(toDay), 150, SamplePriority.StoredSeed, sources);
        IReadOnlyList<CoverageAnalyzer.WindowPlan> plans = [Plan(0, 7), Plan(7, 21), Plan(0, 21), Plan(3, 4)];
        var traffic = await CoverageAnalyzer.MeasuredTrafficAsync(policy, store, plans, TestContext.Current.CancellationToken);

        // Then the heads were read once without keys, and each window is what the definition gives over whole traces
        store.HeadScans.Should().Be(1);
        store.KeyedHeadScans.Should().Be(0);
        for (var i = 0; i < plans.Count; i++)
        {
            var (population, measured) = await ScannedAsync(store, policy, plans[i]);
            traffic[i].Population.Should().BeEquivalentTo(population);
            traffic[i].Measured.Select(m => (m.ReadKey, m.TraceId, m.Stratum, m.ReadText, m.Timestamp)).Should().Equal(measured);
        }

        traffic.SelectMany(t => t.Measured).Should().NotContain(m => sources.Contains(m.TraceId!));
    }

    [Fact]
    public async Task Coverage_of_several_windows_measured_at_once_is_the_coverage_of_each_window_alone()
    {
        // Given two days of traffic near and far from cases of three intents
        var project = CoverageAnalyzerTests.Project([("a", "1,0,0"), ("a", "0.8,0.6,0"), ("b", "0,1,0"), ("b", "0,0.8,0.6"), ("c", "0,0,1")]);
        var store = new InMemoryStore();
        string[] texts = ["1,0,0", "0.8,0.6,0", "-1,0,0", "0,-1,0", "0,0.6,0.8", "0.6,0,0.8"];
        for (var i = 0; i < 600; i++)
        {
            store.Add(Trace($"t-{i}", Monday.AddMinutes(i * 5), TraceInput.FromText(texts[i % texts.Length]), "abcd"[i % 7 % 4].ToString()));
        }

        // When sampled, census, overlapping, empty and caseless windows, with and without anchors and blind spots, are
        // measured together and one by one
        IReadOnlyList<string> anchors = ["-0.6,-0.8,0"];
        IReadOnlyList<CoverageRequest> requests =
        [
            new(Monday, Monday.AddDays(1), MaxTraces: 100, Seed: 3, Percentile: 10, BlindSpots: false, Anchors: anchors),
            new(Monday.AddDays(1), Monday.AddDays(3), Percentile: 10),
            new(Monday.AddHours(12), Monday.AddDays(2), MaxTraces: 250, Seed: 3, Percentile: 10, BlindSpots: false, Anchors: anchors),
            new(Monday.AddDays(5), Monday.AddDays(6), Percentile: 10),
            new(Monday, Monday.AddDays(1), Pools: [Pool.Holdout]),
        ];
        var embedder = new CoverageAnalyzerTests.CoordinateEmbedder();
        var together = await CoverageAnalyzer.AnalyzeWindowsAsync(project, "v", store, embedder, "c", requests, TestContext.Current.CancellationToken);
        var alone = new List<CoverageOutcome>();
        foreach (var request in requests)
        {
            alone.Add(await CoverageAnalyzer.AnalyzeAsync(project, "v", store, embedder, "c", request, TestContext.Current.CancellationToken));
        }

        // Then every report, blind spot and problem is the same
        together.Should().BeEquivalentTo(alone, o => o.WithStrictOrdering());
        together[0].Report!.Overall.Estimator.Should().Be(CoverageEstimator.Stratified);
        together[1].BlindSpots.Should().NotBeNull();
        together[3].Problem.Should().StartWith("no traffic between");
        together[4].Problem.Should().Contain("holdout");
    }

    [Fact]
    public async Task Windows_whose_heads_carry_their_text_hashes_are_measured_from_the_cache_without_reading_texts()
    {
        // Given traffic in a store that chooses each intent's lowest heads itself, with and without their text hashes
        var project = CoverageAnalyzerTests.Project([("a", "1,0,0"), ("a", "0.8,0.6,0"), ("b", "0,1,0"), ("b", "0,0.8,0.6"), ("c", "0,0,1")]);
        string[] texts = ["1,0,0", "0.8,0.6,0", "-1,0,0", "0,-1,0", "0,0.6,0.8", "0.6,0,0.8", "0.6,0.8,0", "0,0.8,-0.6"];
        InMemoryStore Filled(bool chooses, bool hashes)
        {
            var store = new InMemoryStore { ChoosesLowestHeads = chooses, HeadsCarryTextHashes = hashes };
            for (var i = 0; i < 900; i++)
            {
                store.Add(Trace($"t-{i}", Monday.AddMinutes(i * 5), TraceInput.FromText(texts[i * 7 % texts.Length]), "abc"[i % 5 % 3].ToString()));
            }

            return store;
        }

        // When sampled windows (overlapping, with anchors) are measured in each store, the hashed one twice: once with an
        // empty cache, once with the cache the first filled
        IReadOnlyList<string> anchors = ["-0.6,-0.8,0"];
        IReadOnlyList<CoverageRequest> requests =
        [
            new(Monday, Monday.AddDays(1), MaxTraces: 60, Seed: SamplePriority.StoredSeed, Percentile: 10, BlindSpots: false, Anchors: anchors),
            new(Monday.AddHours(12), Monday.AddDays(3), MaxTraces: 90, Seed: SamplePriority.StoredSeed, Percentile: 10, BlindSpots: false, Anchors: anchors),
        ];
        var token = TestContext.Current.CancellationToken;
        var plain = Filled(chooses: false, hashes: false);
        var expected = await CoverageAnalyzer.AnalyzeWindowsAsync(project, "v", plain, new CoverageAnalyzerTests.CoordinateEmbedder(), "c", requests, token);
        var hashed = Filled(chooses: true, hashes: true);
        var coldEmbedder = new CoverageAnalyzerTests.CoordinateEmbedder();
        using var cold = new CachedEmbeddingGenerator(coldEmbedder, hashed, "c");
        var first = await CoverageAnalyzer.AnalyzeWindowsAsync(project, "v", hashed, cold, "c", requests, token);
        var readCold = hashed.TextsRead;
        var warmEmbedder = new CoverageAnalyzerTests.CoordinateEmbedder();
        using var warm = new CachedEmbeddingGenerator(warmEmbedder, hashed, "c");
        var second = await CoverageAnalyzer.AnalyzeWindowsAsync(project, "v", hashed, warm, "c", requests, token);

        // Then both give the reports of the store that reads every text; with an empty cache the texts of the distinct
        // hashes alone are read (one trace each), and with a warm cache none, every traffic vector found by its hash
        expected.Should().OnlyContain(o => o.Report != null && o.Report.Overall.Estimator == CoverageEstimator.Stratified);
        first.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        second.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        readCold.Should().Be(texts.Length);
        (hashed.TextsRead - readCold).Should().Be(0);
        warm.CacheHits.Should().BeGreaterThanOrEqualTo(texts.Length);
        warm.Computed.Should().Be(0);
    }

    [Fact]
    public void Overlapping_windows_are_cut_into_segments_each_inside_the_same_windows()
    {
        // Given a reference of days 0-4, weeks of days 0-7 and 7-14, and a current window of days 10-14
        (DateTimeOffset, DateTimeOffset) Days(int from, int to) => (Monday.AddDays(from), Monday.AddDays(to));

        // When they are cut into segments
        var segments = WindowSegments.Of([Days(0, 4), Days(0, 7), Days(7, 14), Days(10, 14), Days(20, 21)]).ToList();

        // Then each segment lists the windows that hold it, and every window is the union of its segments
        segments.Select(s => (s.From, s.To, string.Join(',', s.Windows))).Should().Equal(
            (Monday, Monday.AddDays(4), "0,1"),
            (Monday.AddDays(4), Monday.AddDays(7), "1"),
            (Monday.AddDays(7), Monday.AddDays(10), "2"),
            (Monday.AddDays(10), Monday.AddDays(14), "2,3"),
            (Monday.AddDays(20), Monday.AddDays(21), "4"));
    }

    [Fact]
    public async Task Trace_heads_carry_what_sampling_needs_and_their_positions_give_back_the_texts()
    {
        // Given a text trace and a chat trace in the window and one outside it
        var store = new InMemoryStore();
        store.Add(Trace("in-1", Monday.AddHours(1), TraceInput.FromText("hello"), "a"));
        store.Add(Trace("in-2", Monday.AddHours(2), TraceInput.FromMessages([new ChatMessage("system", "be brief"), new ChatMessage("user", "where is my card")]), "b"));
        store.Add(Trace("out", Monday.AddDays(2), TraceInput.FromText("later"), "a"));

        // When the window's heads are read, then the texts at their positions
        var heads = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(Monday, Monday.AddDays(1), withKeys: false, heads.Add, TestContext.Current.CancellationToken);
        var keyed = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(Monday, Monday.AddDays(1), withKeys: true, keyed.Add, TestContext.Current.CancellationToken);
        var texts = await store.GetClassificationTextsAsync([.. heads.Select(h => h.Position), 99], TestContext.Current.CancellationToken);

        // Then the heads are the window's with their stored-seed priorities, keys only when asked; the texts are what the
        // classifier and embedder see, with their keys and ids; no trace at 99
        heads.Select(h => (h.Timestamp, h.Intent, h.CohortKey, h.Priority, h.Key)).Should().BeEquivalentTo(
            [(Monday.AddHours(1), "a", "plan=pro", SamplePriority.Of(0, "id:in-1"), (string?)null), (Monday.AddHours(2), "b", "plan=pro", SamplePriority.Of(0, "id:in-2"), (string?)null)]);
        keyed.Select(h => h.Key).Should().BeEquivalentTo("id:in-1", "id:in-2");
        heads.Select(h => (texts[h.Position].Key, texts[h.Position].TraceId, texts[h.Position].Text)).Should().BeEquivalentTo(
            [("id:in-1", "in-1", "hello"), ("id:in-2", "in-2", "where is my card")]);
        texts.Should().NotContainKey(99);
    }

    /// <summary>
    /// The sample by its definition, over whole traces as the analyzer once drew it: the census in scan order; or per
    /// stratum the quota's traces of lowest SHA-256 priority of "seed␟key", by stratum, then priority, then key.
    /// </summary>
    private static async Task<(Dictionary<string, long> Population, List<(string, string?, string, string, DateTimeOffset)> Measured)> ScannedAsync(
        InMemoryStore store, SamplingPolicy policy, CoverageAnalyzer.WindowPlan plan)
    {
        var population = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var count in await store.CountTrafficAsync(new TrafficQuery(plan.From, plan.To)))
        {
            var stratum = Sampler.StratumOf(policy.Strata.By, count.Intent, count.CohortKey);
            population[stratum] = population.GetValueOrDefault(stratum) + count.Count;
        }

        var all = new List<(string Key, string? Id, string Stratum, string Text, DateTimeOffset Time)>();
        await store.ScanTracesAsync(plan.From, plan.To, t =>
        {
            if (t.Trace.Id is null || !plan.Sources.Contains(t.Trace.Id))
            {
                all.Add((t.Key, t.Trace.Id, Sampler.StratumOf(policy.Strata.By, t.Intent, t.CohortKey), t.Trace.Input.ClassificationText, t.Trace.Timestamp));
            }
        });
        if (population.Values.Sum() <= plan.MaxTraces)
        {
            return (all.GroupBy(t => t.Stratum).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal), [.. all]);
        }

        var quota = CoverageAnalyzer.Allocate(population, plan.MaxTraces);
        ulong Priority(string key) => BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{plan.Seed}\u001f{key}"))));
        var sample = all.GroupBy(t => t.Stratum, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .SelectMany(g => g.OrderBy(t => Priority(t.Key)).ThenBy(t => t.Key, StringComparer.Ordinal).Take(quota[g.Key]));
        return (population, [.. sample]);
    }

    /// <summary>1,500 traces over three weeks: intents a (most), b, c and a thin d, plan free or pro; pairs share a timestamp.</summary>
    private static void AddTraffic(InMemoryStore store)
    {
        var random = new Random(5);
        for (var i = 0; i < 1500; i++)
        {
            var intent = random.NextDouble() switch { < 0.6 => "a", < 0.85 => "b", < 0.98 => "c", _ => "d" };
            var time = Monday.AddMinutes(i / 2 * 40);
            store.Add(Trace($"t-{i}", time, TraceInput.FromText($"text {i % 97}"), intent, random.Next(3) == 0 ? "plan=free" : "plan=pro"));
        }
    }

    private static ClassifiedTrace Trace(string id, DateTimeOffset time, TraceInput input, string intent, string cohort = "plan=pro") =>
        new(new Trace(id, time, input, null, null, new Dictionary<string, string>(), Feedback.None, null), "id:" + id, intent, IntentSource.Classifier, 0.9, cohort);
}
