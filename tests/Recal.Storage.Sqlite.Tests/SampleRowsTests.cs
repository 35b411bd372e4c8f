using FluentAssertions;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Diagnostics;
using Recal.Testing;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>
/// recal sample's draw from rows (key, stratum, priority, text and metadata as UTF-8; only kept candidates fetched
/// whole) gives exactly the draw from whole traces: the same drafts in the same order, allocations and exclusions.
/// </summary>
public sealed class SampleRowsTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public async Task A_draw_from_rows_equals_the_draw_from_whole_traces_in_sqlite_and_through_the_interface_defaults(int seed)
    {
        // Given traffic of five intents and two plans with every kind of excluded trace (short, padded, personal data,
        // an internal user), unicode and near-duplicates of a gold case, in SQLite and in a store without row scans
        var traces = Traffic(3000);
        await using var sqlite = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await sqlite.AddTracesAsync(traces, TestContext.Current.CancellationToken);
        await using var memory = new InMemoryStore();
        await memory.AddTracesAsync(traces, TestContext.Current.CancellationToken);
        var exclusions = new ExclusionRules([@"\b\d{13,19}\b"], new Dictionary<string, IReadOnlyList<string>> { ["user_type"] = ["internal", "test"] }, 0.9, 8);
        var policy = new SamplingPolicy(1, null, 40, TimeSpan.FromDays(28), new StrataPolicy(["intent", "plan"], DefaultWeighting.Traffic, new Dictionary<string, double>(), 3),
            exclusions, 0.2, TimeSpan.FromDays(7), TimeSpan.FromDays(84), new PromotionRule(0.01, 2), new RetirementRule(4, true, true), AlarmThresholds.Defaults);
        var gold = new EvalCase("gold-1", TraceInput.FromText("how do i freeze my credit card today"), [new Reference("ok", ReferenceGrade.High)], [], "a",
            new Dictionary<string, string>(), null, new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("c.jsonl", 1));

        // When it is drawn from whole traces, and from rows in each store
        var whole = new Sampler(policy, [gold], seed: seed);
        await sqlite.ScanTracesAsync(null, null, whole.Add, TestContext.Current.CancellationToken);
        var expected = whole.Draw();
        var fromSqlite = await new Sampler(policy, [gold], seed: seed).DrawFromAsync(sqlite, null, null, TestContext.Current.CancellationToken);
        var fromDefaults = await new Sampler(policy, [gold], seed: seed).DrawFromAsync(memory, null, null, TestContext.Current.CancellationToken);

        // Then every draw is the same, and it excluded traces of every kind and drew over every stratum
        expected.Excluded.Keys.Should().BeEquivalentTo([ExclusionReason.Unusable, ExclusionReason.Pattern, ExclusionReason.Metadata, ExclusionReason.NearDuplicate]);
        expected.Allocations.Should().HaveCount(10);
        expected.Drawn.Should().HaveCountGreaterThan(40);
        foreach (var actual in new[] { fromSqlite, fromDefaults })
        {
            actual.Drawn.Select(d => (d.Trace.Key, d.Stratum, d.Trace.Trace.Input.ClassificationText)).Should().Equal(expected.Drawn.Select(d => (d.Trace.Key, d.Stratum, d.Trace.Trace.Input.ClassificationText)));
            actual.Allocations.Should().Equal(expected.Allocations);
            actual.Excluded.Should().BeEquivalentTo(expected.Excluded);
            actual.Seen.Should().Be(expected.Seen);
        }
    }

    private static List<ClassifiedTrace> Traffic(int count)
    {
        var random = new Random(3);
        string[] intents = ["a", "b", "c", "d", "e"];
        var traces = new List<ClassifiedTrace>(count);
        for (var i = 0; i < count; i++)
        {
            var intent = intents[Math.Min(4, (int)(random.NextDouble() * random.NextDouble() * 6))];
            var (text, metadata) = (i % 17) switch
            {
                0 => ("hi", new Dictionary<string, string>()),
                1 => ("   ok?     ", new Dictionary<string, string>()),
                2 => ($"my card 4111111111111{i:000} is blocked", new Dictionary<string, string>()),
                3 => ($"a question {i} from a tester", new Dictionary<string, string> { ["user_type"] = i % 2 == 0 ? "internal" : "test" }),
                4 => ("how do i freeze my credit card today?", new Dictionary<string, string> { ["user_type"] = "customer" }),
                5 => ($"café déjà vu 😀 question n° {i} über straße", new Dictionary<string, string> { ["locale"] = "fr-FR" }),
                _ => ($"question {i} about {intent} with a few more words {random.Next(1000)}", new Dictionary<string, string> { ["user_type"] = "customer", ["note"] = "quote \" and \\ slash" }),
            };
            var trace = new Trace($"t{i}", Start.AddMinutes(i), TraceInput.FromText(text), "answer", "bot", metadata, new Feedback(Thumbs: i % 3 == 0 ? 1 : null), null);
            traces.Add(new ClassifiedTrace(trace, $"id:t{i}", intent, IntentSource.Classifier, 0.9, i % 3 == 0 ? "plan=pro" : "plan=free"));
        }

        return traces;
    }
}
