using System.Text;
using FluentAssertions;
using Google.Protobuf;
using Recal.Domain;
using Recal.Ingest;
using Recal.Ingest.Otel;
using Recal.Ingest.Otel.Proto;
using Xunit;

namespace Recal.Core.Tests.Ingest.Otel;

public sealed class OtlpReadingTests
{
    private static PayloadParts Json(string line, OtelMappingOptions? options = null) =>
        OtelInteractions.Build(OtlpJsonReader.Read(Encoding.UTF8.GetBytes(line)), options);

    private static Trace Only(PayloadParts parts) => parts.Parts.Should().ContainSingle(p => p.Trace != null).Subject.Trace!;

    [Fact]
    public void Reads_the_OpenTelemetry_dotnet_exporters_protobuf_body_of_a_Microsoft_Extensions_AI_chat()
    {
        // Given the first POST /v1/traces body the OTLP exporter sent for an OpenTelemetryChatClient call
        var payload = OtlpProtobufReader.ReadTraces(OtelFixtures.Bytes("meai-default.pb"));

        // When its spans become traces
        var parts = OtelInteractions.Build(payload);

        // Then the chat is one trace with the system and user messages, the answer, the response model and the resource
        payload.Problems.Should().BeEmpty();
        var trace = Only(parts);
        trace.Input.Messages!.Select(m => (m.Role, m.Content)).Should().Equal(
            ("system", "You are the support assistant of Acme Bank."), ("user", "How do I reset my card PIN?"));
        trace.Output.Should().Be("Open the app, go to Cards, choose your card and tap Reset PIN.");
        trace.Model.Should().Be("gpt-4o-mini-2024-07-18");
        trace.Metadata.Should().Contain("service.name", "support-bot").And.Contain("gen_ai.usage.input_tokens", "40").And.Contain("gen_ai.operation.name", "chat");
        trace.Metadata.Keys.Should().NotContain(["gen_ai.input.messages", "gen_ai.output.messages", "telemetry.sdk.name"]);
        trace.Id.Should().MatchRegex("^[0-9a-f]{32}$");

        // And its parent (the HTTP server span, exported later) is noted as not yet seen
        parts.Orphans.Should().ContainSingle();
    }

    [Fact]
    public void Every_generation_of_the_GenAI_conventions_gives_the_same_kind_of_trace()
    {
        var lines = OtelFixtures.Lines("genai-conventions.jsonl");

        // Latest: structured input messages, system instructions and output as JSON text, inside an HTTP root span
        var latest = Only(Json(lines[0]));
        latest.Input.Messages!.Select(m => m.Role).Should().Equal("system", "user");
        latest.Output.Should().Be("Open the app, go to Cards and tap Reset PIN.");
        latest.Metadata.Should().Contain("app.plan", "pro").And.Contain("service.version", "2026.06.1");
        latest.Feedback.Thumbs.Should().Be(1, "the gen_ai.evaluation.result event named user_feedback is a thumb");
        latest.Timestamp.Should().Be(new DateTimeOffset(2026, 6, 1, 8, 0, 0, 100, TimeSpan.Zero));

        // v1.36: messages as log events of the span (gen_ai.system.message, gen_ai.user.message, gen_ai.choice)
        var events = Only(Json(lines[2]));
        events.Input.Messages!.Select(m => (m.Role, m.Content)).Should().Equal(("system", "You are a travel assistant."), ("user", "Can I use my card abroad?"));
        events.Output.Should().Be("Yes, in every country Visa is accepted.");

        // v1.26: gen_ai.content.prompt / completion events; ids in base64
        var v126 = Only(Json(lines[3]));
        v126.Input.Messages!.Single().Content.Should().Be("What is the cash withdrawal fee?");
        v126.Model.Should().Be("gpt-3.5-turbo-0125");
        v126.Id.Should().Be("5b8efff798038103d269b633813fc604");

        // Flattened gen_ai.prompt.{i}.role|content
        var flat = Only(Json(lines[4]));
        flat.Input.Messages!.Select(m => m.Role).Should().Equal("system", "user");
        flat.Output.Should().Be("I can help: which account?");

        // The inference-details log event, with a tool call and its result kept in the messages
        var details = Only(Json(lines[8]));
        details.Input.Messages!.Select(m => (m.Role, m.Content)).Should().Equal(
            ("user", "What's my savings balance?"), ("assistant", "get_balance({\"account\":\"savings\"})"), ("tool", "1,234.56 EUR"));
        details.Output.Should().Be("You have 1,234.56 EUR in savings.");
    }

    [Fact]
    public void A_bad_span_is_a_located_problem_and_the_good_spans_of_the_payload_are_kept()
    {
        var parts = Json(OtelFixtures.Lines("genai-conventions.jsonl")[5]);

        parts.Problems.Select(p => (p.Code, p.Place)).Should().Equal(
            ("RC2004", "resourceSpans[0].scopeSpans[0].spans[0]"),
            ("RC2003", "resourceSpans[0].scopeSpans[0].spans[1]"));
        parts.Problems[1].Reason.Should().Contain("intValue must be a 64-bit integer").And.Contain("\"many\"");
        Only(parts).Input.ClassificationText.Should().Be("Is there a branch in Leeds?");
    }

    [Fact]
    public void A_payload_that_is_not_OTLP_is_one_problem()
    {
        Json("{\"resourceSpans\": [ this is not json").Problems.Should().ContainSingle(p => p.Code == "RC2001");
        Json("{\"spans\": []}").Problems.Should().ContainSingle(p => p.Code == "RC2004");
        Json("[1, 2]").Problems.Should().ContainSingle(p => p.Code == "RC2002");
        OtlpProtobufReader.ReadTraces(OtelFixtures.Bytes("meai-default.pb")[..200]).Problems.Should().ContainSingle(p => p.Code == "RC2001");
    }

    [Fact]
    public void Feedback_arriving_as_a_later_log_record_is_a_feedback_part_for_its_trace()
    {
        var parts = Json(OtelFixtures.Lines("genai-conventions.jsonl")[9]);

        var part = parts.Parts.Should().ContainSingle().Subject;
        part.Trace.Should().BeNull();
        part.Key.Should().Be("id:5b8efff798038103d269b633813fc601");
        part.Feedback.Csat.Should().Be(4);
    }

    [Fact]
    public void OpenInference_spans_give_the_agents_input_and_answer_and_a_linked_annotation_gives_feedback()
    {
        var lines = OtelFixtures.Lines("openinference.jsonl");

        var trace = Only(Json(lines[0]));
        trace.Input.Text.Should().Be("I lost my card, what now?");
        trace.Output.Should().Be("I have blocked it; a new one is on its way.");
        trace.Model.Should().Be("gpt-4o-2024-08-06", "the agent's model call says which model answered");
        trace.Metadata.Should().Contain("plan", "free").And.Contain("locale", "de-DE").And.Contain("session.id", "sess-42").And.Contain("tags", "[\"mobile\"]");

        var feedback = Json(lines[1]).Parts.Should().ContainSingle().Subject;
        feedback.Key.Should().Be("id:" + trace.Id);
        feedback.Feedback.Should().Be(new Feedback(Thumbs: -1, Escalated: true));
    }

    [Fact]
    public void The_span_rule_makes_one_trace_per_GenAI_span_and_keeps_the_model_calls_messages()
    {
        var parts = Json(OtelFixtures.Lines("openinference.jsonl")[0], new OtelMappingOptions(InteractionRule.Span));

        parts.Parts.Select(p => p.Key).Should().BeEquivalentTo(["id:5b8efff798038103d269b633813fc614:eee19b7ec3c1b114", "id:5b8efff798038103d269b633813fc614:eee19b7ec3c1b115"]);
        parts.Parts.Single(p => p.Key.EndsWith("115", StringComparison.Ordinal)).Trace!.Input.Messages!.Select(m => m.Role).Should().Equal("system", "user");
    }

    [Fact]
    public void The_conversation_rule_joins_the_turns_of_a_conversation_id_into_one_trace()
    {
        // Given the exporter's stream: two turns of conversation conv-7f3a, each its own OTel trace
        var payload = new OtlpPayload();
        foreach (var body in LengthPrefixed(OtelFixtures.Bytes("meai-default.otlp")))
        {
            payload.Spans.AddRange(OtlpProtobufReader.ReadTraces(body).Spans);
        }

        // When the conversation is the interaction
        var parts = OtelInteractions.Build(payload, new OtelMappingOptions(InteractionRule.Conversation));

        // Then both turns are one trace: every message before the last answer, and the last answer
        var conversation = parts.Parts.Should().ContainSingle(p => p.Key == "id:conv-7f3a").Subject.Trace!;
        conversation.Input.Messages!.Select(m => m.Role).Should().Equal("user", "assistant", "user");
        conversation.Output.Should().Be("Yes: in Cards → Limits you can raise it for up to 30 days.");
        parts.Parts.Count(p => p.Trace != null).Should().Be(4, "the PIN question and the two tool-call turns have no conversation id");
    }

    [Fact]
    public void Two_chat_turns_under_one_root_span_keep_both_questions_and_the_first_answer()
    {
        // Given one payload: a conversation span with two model calls, each asking its own question without the history
        static string Chat(string spanId, int second, string question, string answer) =>
            "{\"traceId\":\"5b8efff798038103d269b633813fc7a1\",\"spanId\":\"" + spanId + "\",\"parentSpanId\":\"aaaaaaaaaaaa0000\",\"name\":\"chat\",\"startTimeUnixNano\":\"" + (1780300800L + second) + "000000000\",\"endTimeUnixNano\":\"" + (1780300801L + second) + "000000000\",\"attributes\":["
            + "{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat\"}},"
            + "{\"key\":\"gen_ai.input.messages\",\"value\":{\"stringValue\":\"[{\\\"role\\\":\\\"user\\\",\\\"parts\\\":[{\\\"type\\\":\\\"text\\\",\\\"content\\\":\\\"" + question + "\\\"}]}]\"}},"
            + "{\"key\":\"gen_ai.output.messages\",\"value\":{\"stringValue\":\"[{\\\"role\\\":\\\"assistant\\\",\\\"parts\\\":[{\\\"type\\\":\\\"text\\\",\\\"content\\\":\\\"" + answer + "\\\"}]}]\"}}]}";
        var line = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[]},\"scopeSpans\":[{\"spans\":["
            + "{\"traceId\":\"5b8efff798038103d269b633813fc7a1\",\"spanId\":\"aaaaaaaaaaaa0000\",\"name\":\"conversation\",\"startTimeUnixNano\":\"1780300800000000000\",\"endTimeUnixNano\":\"1780300900000000000\",\"attributes\":[]},"
            + Chat("aaaaaaaaaaaa0002", 60, "Can I raise it?", "Yes, for 30 days.") + "," + Chat("aaaaaaaaaaaa0001", 0, "What is my limit?", "500 EUR.") + "]}]}]}";

        // When the trace is the interaction
        var trace = Only(Json(line));

        // Then both turns are in it, in time order
        trace.Input.Messages!.Select(m => (m.Role, m.Content)).Should().Equal(("user", "What is my limit?"), ("assistant", "500 EUR."), ("user", "Can I raise it?"));
        trace.Output.Should().Be("Yes, for 30 days.");
    }

    [Fact]
    public void A_protobuf_body_written_from_the_JSON_spans_reads_back_to_the_same_traces()
    {
        // Given every JSON line of the conventions fixture, re-encoded as protobuf ExportTraceServiceRequest bodies
        foreach (var line in OtelFixtures.Lines("genai-conventions.jsonl").Where(l => l.StartsWith("{\"resourceSpans\":[{", StringComparison.Ordinal)))
        {
            var fromJson = OtlpJsonReader.Read(Encoding.UTF8.GetBytes(line));
            var body = ToProtobuf(fromJson).ToByteArray();

            // When the body is read
            var fromProtobuf = OtlpProtobufReader.ReadTraces(body);

            // Then it makes the same traces
            var expected = OtelInteractions.Build(fromJson).Parts.Select(Describe);
            OtelInteractions.Build(fromProtobuf).Parts.Select(Describe).Should().Equal(expected);
        }
    }

    [Fact]
    public void Logs_bodies_are_told_from_trace_bodies()
    {
        OtlpProtobufReader.IsLogs(OtelFixtures.Bytes("meai-default.pb")).Should().BeFalse();
        var logs = new ExportLogsServiceRequest();
        logs.ResourceLogs.Add(new ResourceLogs { ScopeLogs = { new ScopeLogs { LogRecords = { new LogRecord { TimeUnixNano = 5, EventName = "gen_ai.user.message" } } } } });
        OtlpProtobufReader.IsLogs(logs.ToByteArray()).Should().BeTrue();
        OtlpProtobufReader.ReadLogs(logs.ToByteArray()).Logs.Should().ContainSingle(l => l.EventName == "gen_ai.user.message");
    }

    [Theory]
    [InlineData("meai-default.pb", TraceFormat.OtlpProto)]
    [InlineData("meai-latest.otlp", TraceFormat.OtlpProto)]
    [InlineData("genai-conventions.jsonl", TraceFormat.OtlpJson)]
    [InlineData("genai-document.json", TraceFormat.OtlpJson)]
    [InlineData("openinference.jsonl", TraceFormat.OtlpJson)]
    public void The_format_is_detected_from_the_content(string fixture, TraceFormat format) =>
        TraceFormats.Detect(OtelFixtures.Path(fixture)).Should().Be(format);

    [Theory]
    [InlineData("{\"id\":\"t-1\",\"timestamp\":\"2026-06-01T00:00:00Z\",\"input\":\"hi\"}")]
    [InlineData("{\"id\":\"t-1\",\"timestamp\":")]
    [InlineData("not json at all")]
    [InlineData("\n{\"id\":\"t-1\",\"timestamp\":\"2026-06-01T00:00:00Z\",\"input\":\"a blank line first\"}")]
    [InlineData("\n\n\n")]
    [InlineData("")]
    public void Recal_JSONL_damaged_or_not_is_detected_as_JSONL(string firstLine) =>
        TraceFormats.Detect(Encoding.UTF8.GetBytes(firstLine + "\n")).Should().Be(TraceFormat.Jsonl);

    private static string Describe(TracePart part) =>
        $"{part.Key}|{part.Trace?.Timestamp:O}|{part.Trace?.Input.ClassificationText}|{string.Join("/", part.Trace?.Input.Messages?.Select(m => m.Role + ":" + m.Content) ?? [])}|{part.Trace?.Output}|{part.Trace?.Model}|{part.Feedback}|{string.Join(",", part.Trace?.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value) ?? [])}";

    internal static IEnumerable<byte[]> LengthPrefixed(byte[] stream)
    {
        for (var position = 0; position + 4 <= stream.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stream.AsSpan(position));
            yield return stream[(position + 4)..(position + 4 + length)];
            position += 4 + length;
        }
    }

    /// <summary>The spans as protobuf, field by field (what an SDK exporter would send for them).</summary>
    internal static ExportTraceServiceRequest ToProtobuf(OtlpPayload payload)
    {
        var request = new ExportTraceServiceRequest();
        foreach (var group in payload.Spans.GroupBy(s => s.Resource))
        {
            var resourceSpans = new ResourceSpans { Resource = new Resource() };
            resourceSpans.Resource.Attributes.AddRange(KeyValues(group.Key));
            var scope = new ScopeSpans();
            foreach (var span in group)
            {
                var proto = new Span
                {
                    TraceId = ByteString.CopyFrom(Convert.FromHexString(span.TraceId)),
                    SpanId = ByteString.CopyFrom(Convert.FromHexString(span.SpanId)),
                    Name = span.Name,
                    StartTimeUnixNano = (ulong)span.StartUnixNano,
                    EndTimeUnixNano = (ulong)span.EndUnixNano,
                };
                if (span.ParentSpanId is { } parent)
                {
                    proto.ParentSpanId = ByteString.CopyFrom(Convert.FromHexString(parent));
                }

                proto.Attributes.AddRange(KeyValues(span.Attributes));
                foreach (var e in span.Events)
                {
                    var protoEvent = new Span.Types.Event { Name = e.Name, TimeUnixNano = (ulong)e.TimeUnixNano };
                    protoEvent.Attributes.AddRange(KeyValues(e.Attributes));
                    proto.Events.Add(protoEvent);
                }

                foreach (var link in span.Links)
                {
                    var protoLink = new Span.Types.Link { TraceId = ByteString.CopyFrom(Convert.FromHexString(link.TraceId)), SpanId = ByteString.CopyFrom(Convert.FromHexString(link.SpanId)) };
                    protoLink.Attributes.AddRange(KeyValues(link.Attributes));
                    proto.Links.Add(protoLink);
                }

                scope.Spans.Add(proto);
            }

            resourceSpans.ScopeSpans.Add(scope);
            request.ResourceSpans.Add(resourceSpans);
        }

        return request;
    }

    private static IEnumerable<KeyValue> KeyValues(IReadOnlyDictionary<string, object?> attributes) =>
        attributes.Select(kv => new KeyValue { Key = kv.Key, Value = Any(kv.Value) });

    private static AnyValue Any(object? value)
    {
        var any = new AnyValue();
        switch (value)
        {
            case string s:
                any.StringValue = s;
                break;
            case bool b:
                any.BoolValue = b;
                break;
            case long l:
                any.IntValue = l;
                break;
            case double d:
                any.DoubleValue = d;
                break;
            case byte[] bytes:
                any.BytesValue = ByteString.CopyFrom(bytes);
                break;
            case object?[] list:
                any.ArrayValue = new ArrayValue();
                any.ArrayValue.Values.AddRange(list.Select(Any));
                break;
            case IReadOnlyDictionary<string, object?> map:
                any.KvlistValue = new KeyValueList();
                any.KvlistValue.Values.AddRange(KeyValues(map));
                break;
        }

        return any;
    }
}
