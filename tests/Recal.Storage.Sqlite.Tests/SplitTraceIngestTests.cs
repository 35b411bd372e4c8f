using System.Text.Json;
using FluentAssertions;
using Recal.Domain;
using Recal.Ingest;
using Recal.Ingest.Otel;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>One interaction whose records arrive in several files: the stored trace is the one a single file makes.</summary>
public sealed class SplitTraceIngestTests : IDisposable
{
    private const string TraceA = "5b8efff798038103d269b633813fc701";
    private const string TraceB = "5b8efff798038103d269b633813fc702";
    private const long Start = 1780300800;

    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private async Task<IngestSummary> IngestAsync(SqliteStore store, string path, IngestOptions? options = null) =>
        await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, options ?? new IngestOptions(), cancellationToken: TestContext.Current.CancellationToken);

    private static async Task<List<ClassifiedTrace>> TracesAsync(SqliteStore store)
    {
        var traces = new List<ClassifiedTrace>();
        await store.ScanTracesAsync(null, null, traces.Add, TestContext.Current.CancellationToken);
        return traces;
    }

    private Task<SqliteStore> OpenAsync(string name) => SqliteStore.OpenAsync(Path.Combine(_fixture.Folder, name), TestContext.Current.CancellationToken);

    private static string Line(params string[] spans) =>
        "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"support-bot\"}}]},\"scopeSpans\":[{\"spans\":[" + string.Join(',', spans) + "]}]}]}";

    private static string Attribute(string key, string value) => "{\"key\":" + JsonSerializer.Serialize(key) + ",\"value\":{\"stringValue\":" + JsonSerializer.Serialize(value) + "}}";

    private static string Span(string traceId, string spanId, string? parent, long second, string name, params string[] attributes) =>
        $$"""{"traceId":"{{traceId}}","spanId":"{{spanId}}",{{(parent is null ? string.Empty : $"\"parentSpanId\":\"{parent}\",")}}"name":"{{name}}","startTimeUnixNano":"{{(Start + second) * 1_000_000_000L}}","endTimeUnixNano":"{{((Start + second) * 1_000_000_000L) + 900_000_000L}}","attributes":[{{string.Join(',', attributes)}}]}""";

    /// <summary>A model call of the latest GenAI conventions (or OpenInference's) asking one question, without the history.</summary>
    private static string Chat(string traceId, string spanId, string? parent, long second, string question, string answer, string? conversation, bool openInference = false)
    {
        var attributes = openInference
            ? new List<string>
            {
                Attribute("openinference.span.kind", "LLM"), Attribute("llm.model_name", "gpt-4o-mini"),
                Attribute("llm.input_messages.0.message.role", "user"), Attribute("llm.input_messages.0.message.content", question),
                Attribute("llm.output_messages.0.message.role", "assistant"), Attribute("llm.output_messages.0.message.content", answer),
            }
            : new List<string>
            {
                Attribute("gen_ai.operation.name", "chat"), Attribute("gen_ai.request.model", "gpt-4o-mini"),
                Attribute("gen_ai.input.messages", $$"""[{"role":"user","parts":[{"type":"text","content":{{JsonSerializer.Serialize(question)}}}]}]"""),
                Attribute("gen_ai.output.messages", $$"""[{"role":"assistant","parts":[{"type":"text","content":{{JsonSerializer.Serialize(answer)}}}]}]"""),
            };
        if (conversation is not null)
        {
            attributes.Add(Attribute(openInference ? "session.id" : "gen_ai.conversation.id", conversation));
        }

        return Span(traceId, spanId, parent, second, "chat gpt-4o-mini", [.. attributes]);
    }

    private static readonly (string Role, string Content)[] TwoTurns =
    [
        ("user", "What is my card's daily withdrawal limit?"),
        ("assistant", "Your daily withdrawal limit is 500 EUR."),
        ("user", "Can I raise it for a trip next week?"),
    ];

    private const string SecondAnswer = "Yes: in Cards → Limits you can raise it for up to 30 days.";

    /// <summary>The two turns of one conversation as two lines (each turn its own OTel trace, or both in one trace under a root span).</summary>
    private static (string First, string Second) Turns(InteractionRule rule, bool openInference)
    {
        if (rule == InteractionRule.Conversation)
        {
            return (
                Line(Chat(TraceA, "aaaaaaaaaaaa0001", null, 0, TwoTurns[0].Content, TwoTurns[1].Content, "conv-9", openInference)),
                Line(Chat(TraceB, "bbbbbbbbbbbb0001", null, 60, TwoTurns[2].Content, SecondAnswer, "conv-9", openInference)));
        }

        var root = Span(TraceA, "aaaaaaaaaaaa0000", null, 0, "conversation", Attribute("app.plan", "pro"));
        return (
            Line(root, Chat(TraceA, "aaaaaaaaaaaa0001", "aaaaaaaaaaaa0000", 0, TwoTurns[0].Content, TwoTurns[1].Content, null, openInference)),
            Line(Chat(TraceA, "aaaaaaaaaaaa0002", "aaaaaaaaaaaa0000", 60, TwoTurns[2].Content, SecondAnswer, null, openInference)));
    }

    [Theory]
    [InlineData(InteractionRule.Conversation, false, false)]
    [InlineData(InteractionRule.Conversation, false, true)]
    [InlineData(InteractionRule.Conversation, true, false)]
    [InlineData(InteractionRule.Conversation, true, true)]
    [InlineData(InteractionRule.Trace, false, false)]
    [InlineData(InteractionRule.Trace, false, true)]
    [InlineData(InteractionRule.Trace, true, false)]
    public async Task The_turns_of_one_conversation_in_two_files_keep_every_message_in_order(InteractionRule rule, bool openInference, bool laterFileFirst)
    {
        // Given a two-turn conversation whose turns (each without the history) are in two files
        var (first, second) = Turns(rule, openInference);
        var options = new IngestOptions(TraceFormat.OtlpJson, rule);
        var one = _fixture.WriteText("turn-1.jsonl", first + "\n");
        var two = _fixture.WriteText("turn-2.jsonl", second + "\n");
        var both = _fixture.WriteText("both.jsonl", first + "\n" + second + "\n");
        await using var split = await OpenAsync("split.db");
        await using var whole = await OpenAsync("whole.db");

        // When the files are ingested one after the other (in either order), and both turns in one file elsewhere
        foreach (var file in laterFileFirst ? new[] { two, one } : [one, two])
        {
            await IngestAsync(split, file, options);
        }

        await IngestAsync(whole, both, options);

        // Then the stored trace has both questions and the first answer in order, and the last answer as its output
        var trace = (await TracesAsync(split)).Should().ContainSingle().Subject.Trace;
        trace.Input.Messages!.Select(m => (m.Role, m.Content)).Should().Equal(TwoTurns);
        trace.Output.Should().Be(SecondAnswer);
        trace.Timestamp.Should().Be(DateTimeOffset.FromUnixTimeSeconds(Start));

        // And it is the trace one file with both turns makes
        (await TracesAsync(whole)).Select(t => t.Trace).Should().ContainSingle().Which.Should().BeEquivalentTo(trace, o => o.Excluding(t => t.MetadataUtf8));

        // And ingesting both files again changes nothing
        var again = new[] { await IngestAsync(split, one, options), await IngestAsync(split, two, options) };
        again.Select(s => (s.Added, s.Merged)).Should().Equal((0L, 0L), (0L, 0L));
        (await TracesAsync(split)).Single().Trace.Should().BeEquivalentTo(trace, o => o.Excluding(t => t.MetadataUtf8));
    }

    [Fact]
    public async Task A_later_turn_that_repeats_the_history_replaces_the_stored_turn_without_repeating_messages()
    {
        // Given the second turn of a conversation carrying the first turn as its history, in a file of its own
        var history = $$"""[{"role":"user","parts":[{"type":"text","content":{{JsonSerializer.Serialize(TwoTurns[0].Content)}}}]},{"role":"assistant","parts":[{"type":"text","content":{{JsonSerializer.Serialize(TwoTurns[1].Content)}}}]},{"role":"user","parts":[{"type":"text","content":{{JsonSerializer.Serialize(TwoTurns[2].Content)}}}]}]""";
        var second = Line(Span(TraceB, "bbbbbbbbbbbb0001", null, 60, "chat", Attribute("gen_ai.operation.name", "chat"), Attribute("gen_ai.conversation.id", "conv-9"),
            Attribute("gen_ai.input.messages", history), Attribute("gen_ai.output.messages", $$"""[{"role":"assistant","parts":[{"type":"text","content":{{JsonSerializer.Serialize(SecondAnswer)}}}]}]""")));
        var options = new IngestOptions(TraceFormat.OtlpJson, InteractionRule.Conversation);
        await using var store = await OpenAsync("store.db");

        // When the first turn and then the second are ingested
        await IngestAsync(store, _fixture.WriteText("turn-1.jsonl", Turns(InteractionRule.Conversation, false).First + "\n"), options);
        await IngestAsync(store, _fixture.WriteText("turn-2.jsonl", second + "\n"), options);

        // Then the history is not repeated
        var trace = (await TracesAsync(store)).Should().ContainSingle().Subject.Trace;
        trace.Input.Messages!.Select(m => (m.Role, m.Content)).Should().Equal(TwoTurns);
        trace.Output.Should().Be(SecondAnswer);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_root_spans_metadata_reaches_the_stored_trace_whichever_file_comes_first(bool rootFirst)
    {
        // Given the root span (the user's plan and id, the release) in one file and its chat span with the content in another
        var root = _fixture.WriteText("root.jsonl", Line(Span(TraceA, "aaaaaaaaaaaa0000", null, 0, "POST /chat",
            Attribute("plan", "pro"), Attribute("user.id", "u-42"), Attribute("app.release", "2026.06.2"))) + "\n");
        var chat = _fixture.WriteText("chat.jsonl", Line(Chat(TraceA, "aaaaaaaaaaaa0001", "aaaaaaaaaaaa0000", 0, TwoTurns[0].Content, TwoTurns[1].Content, null)) + "\n");

        // When both are ingested, in either order, each by a store opened for it
        foreach (var file in rootFirst ? new[] { root, chat } : [chat, root])
        {
            await using var each = await OpenAsync("store.db");
            await IngestAsync(each, file);
        }

        await using var store = await OpenAsync("store.db");

        // Then the stored trace carries the root's metadata and its cohort follows it
        var stored = (await TracesAsync(store)).Should().ContainSingle().Subject;
        stored.Trace.Metadata.Should().Contain("plan", "pro").And.Contain("user.id", "u-42").And.Contain("app.release", "2026.06.2").And.Contain("gen_ai.operation.name", "chat");
        stored.CohortKey.Should().Be("plan=pro");
        stored.Trace.Input.Messages!.Select(m => m.Content).Should().Equal(TwoTurns[0].Content);

        // And ingesting both again changes nothing
        (await IngestAsync(store, root)).Merged.Should().Be(0);
        (await IngestAsync(store, chat)).Merged.Should().Be(0);
        (await TracesAsync(store)).Single().Should().BeEquivalentTo(stored, o => o.Excluding(t => t.Trace.MetadataUtf8));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_Langfuse_trace_without_input_gives_its_metadata_to_a_generation_in_another_file(bool traceFirst)
    {
        var trace = _fixture.WriteText("traces.jsonl", """{"id":"lf-meta","timestamp":"2026-06-02T09:00:00Z","name":"support-chat","userId":"u-7","release":"2026.06.3","metadata":{"plan":"pro"}}""" + "\n");
        var generation = _fixture.WriteText("observations.jsonl", """{"id":"g-1","traceId":"lf-meta","type":"GENERATION","startTime":"2026-06-02T09:00:01Z","model":"gpt-4o","input":[{"role":"user","content":"Is my card blocked?"}],"output":"No."}""" + "\n");
        await using var store = await OpenAsync("store.db");

        foreach (var file in traceFirst ? new[] { trace, generation } : [generation, trace])
        {
            await IngestAsync(store, file, new IngestOptions(TraceFormat.Langfuse));
        }

        var stored = (await TracesAsync(store)).Should().ContainSingle().Subject;
        stored.Trace.Metadata.Should().Contain("plan", "pro").And.Contain("userId", "u-7").And.Contain("release", "2026.06.3");
        stored.CohortKey.Should().Be("plan=pro");
        File.Exists(_fixture.QuarantinePath).Should().BeFalse("a trace without input waits for its generation");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_Langfuse_generations_of_one_trace_in_two_files_keep_both_turns(bool laterFileFirst)
    {
        // Given a Langfuse trace whose two generations (one turn each) are exported in two files
        static string Generation(string id, string time, string question, string answer) =>
            $$"""{"id":"{{id}}","traceId":"lf-conv-1","type":"GENERATION","startTime":"{{time}}","model":"gpt-4o","input":[{"role":"user","content":{{JsonSerializer.Serialize(question)}} }],"output":{"role":"assistant","content":{{JsonSerializer.Serialize(answer)}}} }""";
        var one = _fixture.WriteText("obs-1.jsonl", Generation("g-1", "2026-06-02T09:00:00Z", TwoTurns[0].Content, TwoTurns[1].Content) + "\n");
        var two = _fixture.WriteText("obs-2.jsonl", Generation("g-2", "2026-06-02T09:01:00Z", TwoTurns[2].Content, SecondAnswer) + "\n");
        await using var store = await OpenAsync("store.db");

        // When both are ingested
        foreach (var file in laterFileFirst ? new[] { two, one } : [one, two])
        {
            await IngestAsync(store, file, new IngestOptions(TraceFormat.Langfuse));
        }

        // Then the trace keeps both turns in order
        var trace = (await TracesAsync(store)).Should().ContainSingle().Subject.Trace;
        trace.Input.Messages!.Select(m => (m.Role, m.Content)).Should().Equal(TwoTurns);
        trace.Output.Should().Be(SecondAnswer);
        trace.Timestamp.Should().Be(new DateTimeOffset(2026, 6, 2, 9, 0, 0, TimeSpan.Zero));
    }

    [Fact]
    public async Task An_agents_root_input_and_its_model_calls_messages_are_one_turn_not_two()
    {
        // Given a Langfuse trace whose input is the question and whose generation holds a prompt built around it
        var trace = """{"id":"lf-rag","timestamp":"2026-06-02T09:00:00Z","input":{"question":"Can I use my card abroad?"},"output":"Yes."}""";
        var generation = """{"id":"g-1","traceId":"lf-rag","type":"GENERATION","startTime":"2026-06-02T09:00:01Z","model":"gpt-4o","input":[{"role":"system","content":"Answer from the context."},{"role":"user","content":"Context: Visa works abroad.\n\nQuestion: Can I use my card abroad?"}],"output":"Yes, Visa works abroad."}""";
        await using var store = await OpenAsync("store.db");

        await IngestAsync(store, _fixture.WriteText("traces.jsonl", trace + "\n"), new IngestOptions(TraceFormat.Langfuse));
        await IngestAsync(store, _fixture.WriteText("observations.jsonl", generation + "\n"), new IngestOptions(TraceFormat.Langfuse));

        // Then the model call's messages replace the root's question (they say more), as before
        var stored = (await TracesAsync(store)).Should().ContainSingle().Subject.Trace;
        stored.Input.Messages!.Select(m => m.Role).Should().Equal("system", "user");
        stored.Output.Should().Be("Yes, Visa works abroad.");
    }
}
