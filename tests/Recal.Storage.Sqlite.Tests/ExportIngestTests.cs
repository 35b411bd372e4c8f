using System.Text.Json;
using FluentAssertions;
using Parquet.Schema;
using Parquet.Serialization;
using Recal.Domain;
using Recal.Ingest;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

public sealed class ExportIngestTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "Exports", name);

    private async Task<IngestSummary> IngestAsync(SqliteStore store, string path, IngestOptions? options = null) =>
        await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, options ?? new IngestOptions(), cancellationToken: TestContext.Current.CancellationToken);

    private static async Task<Dictionary<string, Trace>> TracesAsync(SqliteStore store)
    {
        var traces = new Dictionary<string, Trace>();
        await store.ScanTracesAsync(null, null, t => traces[t.Trace.Id!] = t.Trace, TestContext.Current.CancellationToken);
        return traces;
    }

    private List<(string? Code, string? Place)> Quarantine() =>
        [.. File.ReadAllLines(_fixture.QuarantinePath).Select(l => JsonDocument.Parse(l).RootElement).Select(q => (q.GetProperty("code").GetString(), q.GetProperty("place").GetString()))];

    private static FeedbackMap UserScoreIsAThumb() => FeedbackMap.Default.With([new("user_score", FeedbackSignal.Thumbs)]);

    [Fact]
    public async Task Langfuse_traces_observations_and_scores_in_three_files_become_traces_with_their_feedback()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var traces = await IngestAsync(store, Fixture("langfuse-traces.json"));
        var observations = await IngestAsync(store, Fixture("langfuse-observations.jsonl"));
        var scores = await IngestAsync(store, Fixture("langfuse-scores.jsonl"));

        (traces.Format, observations.Format, scores.Format).Should().Be((TraceFormat.Langfuse, TraceFormat.Langfuse, TraceFormat.Langfuse));
        traces.Added.Should().Be(2);
        observations.Merged.Should().Be(1, "the generation gives trace 2 its model and chat messages");
        var stored = await TracesAsync(store);
        stored["lf-trace-1"].Feedback.Should().Be(new Feedback(Thumbs: 1, Escalated: true));
        stored["lf-trace-1"].Metadata.Should().Contain("plan", "pro").And.Contain("release", "2026.06.1");
        stored["lf-trace-2"].Model.Should().Be("gpt-4o");
        stored["lf-trace-2"].Input.Messages!.Select(m => m.Role).Should().Equal("system", "user");
        stored["lf-trace-2"].Feedback.Should().Be(new Feedback(Thumbs: -1, Csat: 4));
        Quarantine().Should().Equal(
            ("RC2004", "langfuse-traces.json [2] (trace without id)"),
            ("RC2003", "langfuse-scores.jsonl:5 (score sc-6 of trace lf-trace-1)"),
            ("RC2011", "langfuse-scores.jsonl:4 (score sc-5 of trace lf-trace-9)"));
    }

    [Fact]
    public async Task Langfuses_CSV_export_gives_the_traces_of_its_JSON_export_and_quarantines_each_bad_row_by_its_line()
    {
        // Given the blob export's three CSV files (multiline quoted JSON, snake_case columns, times with a space) with
        // a row whose quote never closes, a row with too few fields and a score whose value is not a number
        await using var fromCsv = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await using var fromJson = await SqliteStore.OpenAsync(Path.Combine(_fixture.Folder, "json.db"), TestContext.Current.CancellationToken);

        // When they are ingested (the format detected), and the JSON export into another store
        var summaries = new List<IngestSummary>();
        foreach (var file in new[] { "langfuse-traces.csv", "langfuse-observations.csv", "langfuse-scores.csv" })
        {
            summaries.Add(await IngestAsync(fromCsv, Fixture(file)));
        }

        var csvQuarantine = Quarantine();
        File.Delete(_fixture.QuarantinePath);
        foreach (var file in new[] { "langfuse-traces.json", "langfuse-observations.jsonl", "langfuse-scores.jsonl" })
        {
            await IngestAsync(fromJson, Fixture(file));
        }

        // Then the rest of each file is read: the same traces as from JSON (the CSV's generation adds its usage)
        summaries.Select(s => s.Format).Should().AllBeEquivalentTo(TraceFormat.Langfuse);
        summaries[0].Added.Should().Be(2, "the trace after the two bad rows is read");
        static object Shape(Trace t) => new { t.Timestamp, t.Input, t.Output, t.Model, t.Feedback, Metadata = t.Metadata.Where(m => !m.Key.StartsWith("usage.", StringComparison.Ordinal)).OrderBy(m => m.Key, StringComparer.Ordinal).ToList() };
        var csv = await TracesAsync(fromCsv);
        var json = await TracesAsync(fromJson);
        csv.Keys.Should().BeEquivalentTo(json.Keys);
        foreach (var (id, trace) in json)
        {
            Shape(csv[id]).Should().BeEquivalentTo(Shape(trace), id);
        }

        csv["lf-trace-1"].Input.Messages!.Select(m => m.Role).Should().Equal("system", "user");
        csv["lf-trace-1"].Metadata.Should().Contain("usage.input", "31");

        // And each bad row is quarantined with its file and line, and what is wrong
        csvQuarantine.Should().Equal(
            ("RC2001", "langfuse-traces.csv:12 (CSV record)"),
            ("RC2003", "langfuse-traces.csv:13 (CSV record)"),
            ("RC2003", "langfuse-scores.csv:4 (score sc-8 of trace lf-trace-2)"),
            ("RC2003", "langfuse-scores.csv:8 (score sc-6 of trace lf-trace-1)"),
            ("RC2011", "langfuse-scores.csv:7 (score sc-5 of trace lf-trace-9)"));
    }

    [Fact]
    public async Task LangSmith_runs_and_feedback_become_traces_and_a_rerun_changes_nothing()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var options = new IngestOptions(Feedback: UserScoreIsAThumb());

        var runs = await IngestAsync(store, Fixture("langsmith-runs.jsonl"), options);
        var feedback = await IngestAsync(store, Fixture("langsmith-feedback.jsonl"), options);
        var before = await TracesAsync(store);
        var again = await IngestAsync(store, Fixture("langsmith-runs.jsonl"), options);
        var feedbackAgain = await IngestAsync(store, Fixture("langsmith-feedback.jsonl"), options);

        runs.Format.Should().Be(TraceFormat.LangSmith);
        runs.Added.Should().Be(2);
        feedback.FeedbackAttached.Should().Be(4);
        before["0190a1b2-0000-7000-8000-000000000001"].Feedback.Should().Be(new Feedback(Thumbs: 1, Escalated: true));
        before["0190a1b2-0000-7000-8000-000000000003"].Feedback.Should().Be(new Feedback(Thumbs: -1, Csat: 4));
        before["0190a1b2-0000-7000-8000-000000000001"].Model.Should().Be("gpt-4o-mini-2024-07-18");
        (again.Added, again.Merged, feedbackAgain.Merged).Should().Be((0L, 0L, 0L));
        (await TracesAsync(store)).Should().BeEquivalentTo(before);
        Quarantine().Should().Equal(
            ("RC2004", "langsmith-runs.jsonl:4 (run 0190a1b2-0000-7000-8000-000000000005)"),
            ("RC2003", "langsmith-feedback.jsonl:5 (feedback fb-5 on run 0190a1b2-0000-7000-8000-000000000001)"));
    }

    [Fact]
    public async Task LangSmiths_Parquet_export_gives_the_same_traces_as_its_JSONL()
    {
        // Given the runs as a Parquet file (nested fields as JSON text, as the bulk export writes them)
        var rows = File.ReadAllLines(Fixture("langsmith-runs.jsonl")).Select(line =>
        {
            var run = JsonDocument.Parse(line).RootElement;
            string? Column(string name) => run.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText()) : null;
            return (IDictionary<string, object?>)new Dictionary<string, object?>
            {
                ["id"] = Column("id"), ["trace_id"] = Column("trace_id"), ["parent_run_id"] = Column("parent_run_id"), ["run_type"] = Column("run_type"),
                ["name"] = Column("name"), ["start_time"] = Column("start_time"), ["inputs"] = Column("inputs"), ["outputs"] = Column("outputs"),
                ["extra"] = Column("extra"), ["child_runs"] = Column("child_runs"), ["tags"] = Column("tags"), ["session_id"] = Column("session_id"),
                ["prompt_tokens"] = Column("prompt_tokens"), ["completion_tokens"] = Column("completion_tokens"), ["total_tokens"] = Column("total_tokens"),
            };
        }).ToList();
        var schema = new ParquetSchema(rows[0].Keys.Select(k => (Field)new DataField<string>(k)).ToArray());
        var parquet = Path.Combine(_fixture.Folder, "runs.parquet");
        await using (var file = File.Create(parquet))
        {
            await ParquetSerializer.SerializeUntypedAsync(rows, schema, file, cancellationToken: TestContext.Current.CancellationToken);
        }

        await using var fromParquet = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await using var fromJsonl = await SqliteStore.OpenAsync(Path.Combine(_fixture.Folder, "jsonl.db"), TestContext.Current.CancellationToken);

        // When each is ingested
        var summary = await IngestAsync(fromParquet, parquet);
        await IngestAsync(fromJsonl, Fixture("langsmith-runs.jsonl"));

        // Then they hold the same traces, and the bad row is quarantined by its row number
        summary.Format.Should().Be(TraceFormat.LangSmith);
        (await TracesAsync(fromParquet)).Should().BeEquivalentTo(await TracesAsync(fromJsonl));
        Quarantine().Should().Contain(("RC2004", "runs.parquet row 4 (run 0190a1b2-0000-7000-8000-000000000005)"));
    }

    [Fact]
    public async Task The_same_interaction_exported_by_Langfuse_LangSmith_and_OpenTelemetry_is_the_same_trace()
    {
        await using var langfuse = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await using var langsmith = await SqliteStore.OpenAsync(Path.Combine(_fixture.Folder, "ls.db"), TestContext.Current.CancellationToken);
        await using var otel = await SqliteStore.OpenAsync(Path.Combine(_fixture.Folder, "otel.db"), TestContext.Current.CancellationToken);
        await IngestAsync(langfuse, Fixture("langfuse-traces.json"));
        await IngestAsync(langsmith, Fixture("langsmith-runs.jsonl"));
        await IngestAsync(otel, Path.Combine(AppContext.BaseDirectory, "Fixtures", "Otel", "genai-conventions.jsonl"));

        static object Shape(Trace t) => new { Messages = t.Input.Messages!.Select(m => (m.Role, m.Content)).ToList(), t.Output, t.Model };
        var fromLangfuse = Shape((await TracesAsync(langfuse))["lf-trace-1"]);
        Shape((await TracesAsync(langsmith))["0190a1b2-0000-7000-8000-000000000001"]).Should().BeEquivalentTo(fromLangfuse);
        Shape((await TracesAsync(otel))["5b8efff798038103d269b633813fc601"]).Should().BeEquivalentTo(fromLangfuse);
    }
}
