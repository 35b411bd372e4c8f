using System.Text.Json;
using FluentAssertions;
using Recal.Domain;
using Recal.Ingest;
using Recal.Ingest.Otel;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

public sealed class OtlpIngestTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Otel", name);

    private async Task<IngestSummary> IngestAsync(SqliteStore store, string path, IngestOptions? options = null) =>
        await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, options ?? new IngestOptions(), cancellationToken: TestContext.Current.CancellationToken);

    private static async Task<List<Trace>> TracesAsync(SqliteStore store)
    {
        var traces = new List<Trace>();
        await store.ScanTracesAsync(null, null, t => traces.Add(t.Trace), TestContext.Current.CancellationToken);
        return traces;
    }

    private List<JsonElement> Quarantine() =>
        [.. File.ReadAllLines(_fixture.QuarantinePath).Select(l => JsonDocument.Parse(l).RootElement)];

    [Fact]
    public async Task OTLP_JSON_lines_are_stored_as_traces_and_bad_records_quarantined_with_their_place()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestAsync(store, Fixture("genai-conventions.jsonl"));

        summary.Format.Should().Be(TraceFormat.OtlpJson);
        summary.Should().BeEquivalentTo(new { LinesRead = 10L, Added = 7L, Quarantined = 4L, Orphans = 1L }, o => o.ExcludingMissingMembers());
        var traces = await TracesAsync(store);
        traces.Should().HaveCount(7);
        var first = traces.Single(t => t.Id == "5b8efff798038103d269b633813fc601");
        first.Feedback.Should().Be(new Feedback(Thumbs: 1, Csat: 4), "the csat evaluation arrived as a later log record");
        traces.Single(t => t.Id == "5b8efff798038103d269b633813fc602").Model.Should().Be("gpt-4o", "the span without content still named the model");

        var quarantined = Quarantine();
        quarantined.Select(q => (q.GetProperty("code").GetString(), q.GetProperty("place").GetString())).Should().Equal(
            ("RC2004", "genai-conventions.jsonl:6 resourceSpans[0].scopeSpans[0].spans[0]"),
            ("RC2003", "genai-conventions.jsonl:6 resourceSpans[0].scopeSpans[0].spans[1]"),
            ("RC2001", "genai-conventions.jsonl:7 payload"),
            ("RC2010", "genai-conventions.jsonl:8 resourceSpans[0].scopeSpans[0].spans[0] (span eee19b7ec3c1b109)"));
        quarantined.Select(q => q.GetProperty("line").GetInt32()).Should().Equal(6, 6, 7, 8);
    }

    [Fact]
    public async Task Rejected_OTLP_lines_of_many_batches_are_each_quarantined_with_their_own_text()
    {
        // Given 40 OTLP/JSON lines of 100 KB each, unlike one another, whose one span has no ids: many batches of the parts pipeline
        var lines = Enumerable.Range(1, 40)
            .Select(i => "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"" + i + new string((char)('a' + (i % 26)), 100_000) + "\"}]}]}]}")
            .ToList();
        var path = _fixture.WriteText("unreadable.jsonl", string.Join("\n", lines) + "\n");
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // When it is ingested
        var summary = await IngestAsync(store, path, new IngestOptions(TraceFormat.OtlpJson));

        // Then each quarantined record holds the start of its own line, cut where the quarantine cuts
        summary.Quarantined.Should().Be(40);
        var quarantined = Quarantine();
        quarantined.Select(q => q.GetProperty("line").GetInt32()).Should().BeEquivalentTo(Enumerable.Range(1, 40));
        foreach (var record in quarantined)
        {
            var line = lines[record.GetProperty("line").GetInt32() - 1];
            record.GetProperty("raw").GetString().Should().Be(line[..QuarantineWriter.MaxRawBytes]);
        }
    }

    [Fact]
    public async Task Ingesting_the_same_OTLP_file_again_changes_nothing_and_quarantines_nothing_new()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await IngestAsync(store, Fixture("genai-conventions.jsonl"));
        var before = await TracesAsync(store);
        var quarantineBefore = File.ReadAllText(_fixture.QuarantinePath);

        var again = await IngestAsync(store, Fixture("genai-conventions.jsonl"));

        again.Added.Should().Be(0);
        again.Merged.Should().Be(0);
        (await TracesAsync(store)).Should().BeEquivalentTo(before);
        File.ReadAllText(_fixture.QuarantinePath).Should().Be(quarantineBefore);
    }

    [Fact]
    public async Task Spans_of_one_trace_in_two_files_end_up_as_one_trace()
    {
        // Given the GenAI span of a trace in one file and its root span, with the user's plan and feedback, in a later file
        var lines = File.ReadAllLines(Fixture("genai-conventions.jsonl"));
        using var first = JsonDocument.Parse(lines[0]);
        var spans = first.RootElement.GetProperty("resourceSpans")[0].GetProperty("scopeSpans")[0].GetProperty("spans");
        string With(JsonElement span) => "{\"resourceSpans\":[{\"resource\":{\"attributes\":[]},\"scopeSpans\":[{\"spans\":[" + span.GetRawText() + "]}]}]}";
        var child = _fixture.WriteText("part-1.jsonl", With(spans[1]) + "\n");
        var root = _fixture.WriteText("part-2.jsonl", With(spans[0]) + "\n");
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // When both are ingested, the child first
        var a = await IngestAsync(store, child);
        var b = await IngestAsync(store, root);

        // Then the first ingest warned of the missing parent, and the second completed the stored trace
        a.Orphans.Should().Be(1);
        b.Merged.Should().Be(1);
        var trace = (await TracesAsync(store)).Should().ContainSingle().Subject;
        trace.Metadata.Should().Contain("app.plan", "pro");
        trace.Input.Messages!.Should().HaveCount(2);
        trace.Feedback.Thumbs.Should().Be(1);
    }

    [Fact]
    public async Task Feedback_for_a_trace_not_yet_stored_is_quarantined_and_attaches_once_the_trace_is_in()
    {
        var lines = File.ReadAllLines(Fixture("genai-conventions.jsonl"));
        var feedback = _fixture.WriteText("feedback.jsonl", lines[9] + "\n");
        var trace = _fixture.WriteText("trace.jsonl", lines[0] + "\n");
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var early = await IngestAsync(store, feedback);
        early.Quarantined.Should().Be(1);
        Quarantine().Single().GetProperty("code").GetString().Should().Be("RC2011");

        await IngestAsync(store, trace);
        var late = await IngestAsync(store, feedback);

        late.Merged.Should().Be(1);
        late.FeedbackAttached.Should().Be(1);
        (await TracesAsync(store)).Single().Feedback.Csat.Should().Be(4);
    }

    [Fact]
    public async Task The_exporters_length_prefixed_protobuf_stream_is_stored_and_a_truncated_end_quarantined()
    {
        // Given the real exporter's stream with its last message cut short
        var bytes = File.ReadAllBytes(Fixture("meai-latest.otlp"));
        var path = Path.Combine(_fixture.Folder, "cut.otlp");
        File.WriteAllBytes(path, bytes[..^40]);
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestAsync(store, path);

        summary.Format.Should().Be(TraceFormat.OtlpProto);
        summary.Added.Should().Be(4, "the cut message is the last of the five chats");
        var problem = Quarantine().Should().ContainSingle().Subject;
        problem.GetProperty("code").GetString().Should().Be("RC2001");
        problem.GetProperty("place").GetString().Should().Be("cut.otlp message 6 payload");
    }

    [Fact]
    public async Task A_whole_OTLP_JSON_document_is_read_as_one_payload()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestAsync(store, Fixture("genai-document.json"));

        summary.Added.Should().Be(2);
        summary.Quarantined.Should().Be(0);
    }

    [Fact]
    public async Task The_same_interactions_give_the_same_stored_traces_from_protobuf_and_from_JSON()
    {
        // Given the exporter's protobuf stream and the same spans written as OTLP/JSON lines
        var protobuf = Fixture("meai-default.otlp");
        var json = _fixture.WriteText("meai.jsonl", string.Join('\n', OtlpJsonWriter.LinesOf(File.ReadAllBytes(protobuf))) + "\n");
        await using var fromProtobuf = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await using var fromJson = await SqliteStore.OpenAsync(Path.Combine(_fixture.Folder, "json.db"), TestContext.Current.CancellationToken);

        await IngestAsync(fromProtobuf, protobuf);
        await IngestAsync(fromJson, json);

        (await TracesAsync(fromJson)).Should().BeEquivalentTo(await TracesAsync(fromProtobuf));
    }

    [Theory]
    [InlineData(InteractionRule.Trace)]
    [InlineData(InteractionRule.Conversation)]
    public async Task The_older_and_the_latest_GenAI_shapes_of_the_same_chats_give_the_same_stored_traces(InteractionRule rule)
    {
        // Given the same five chats exported by the OTLP exporter from Microsoft.Extensions.AI 11 (the latest shape) and
        // from spans of the older shape (gen_ai.system, prompt_tokens, content in span events)
        await using var latest = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await using var older = await SqliteStore.OpenAsync(Path.Combine(_fixture.Folder, "older.db"), TestContext.Current.CancellationToken);
        var options = new IngestOptions(TraceFormat.Auto, rule);

        // When each is ingested
        var fromLatest = await IngestAsync(latest, Fixture("meai-latest.otlp"), options);
        var fromOlder = await IngestAsync(older, Fixture("otel-older.otlp"), options);

        // Then they hold the same traces: messages (tool calls and results included), answers, models and the GenAI
        // metadata under the latest names; only the ids and times differ
        (fromLatest.Quarantined, fromOlder.Quarantined, fromOlder.SpansWithoutContent).Should().Be((0L, 0L, 0L));
        static object Shape(Trace t) => new
        {
            Messages = t.Input.Messages!.Select(m => (m.Role, m.Content)).ToList(),
            t.Output,
            t.Model,
            Metadata = t.Metadata.Where(m => m.Key.StartsWith("gen_ai.", StringComparison.Ordinal) || m.Key.StartsWith("service.", StringComparison.Ordinal) || m.Key == "app.plan")
                .OrderBy(m => m.Key, StringComparer.Ordinal).ToList(),
        };
        var expected = (await TracesAsync(latest)).Select(Shape).ToList();
        expected.Should().HaveCount(rule == InteractionRule.Trace ? 5 : 4);
        (await TracesAsync(older)).Select(Shape).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
    }

    [Fact]
    public async Task Recal_JSONL_through_auto_detection_is_ingested_exactly_as_before()
    {
        var path = _fixture.WriteText("t.jsonl", string.Join('\n', Enumerable.Range(1, 20).Select(i => StoreFixture.Line(i))) + "\n{broken\n");
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestAsync(store, path, new IngestOptions(TraceFormat.Auto, InteractionRule.Trace));

        summary.Format.Should().Be(TraceFormat.Jsonl);
        summary.Should().BeEquivalentTo(new { LinesRead = 21L, Added = 20L, Quarantined = 1L }, o => o.ExcludingMissingMembers());
    }
}
