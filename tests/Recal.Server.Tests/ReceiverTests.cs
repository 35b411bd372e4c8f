using System.Net;
using FluentAssertions;
using Google.Protobuf;
using Recal.Ingest.Otel.Proto;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>The OTLP/HTTP receiver over HTTP: what it stores, and how it answers good, bad and partly bad requests.</summary>
public sealed class ReceiverTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Spans_of_one_trace_in_different_requests_are_stored_as_recal_ingest_of_the_same_payloads_stores_them()
    {
        // The model-call spans first, their root spans (with the user's plan) in a later request, and a gzip request.
        var chats = Spans.Request(Enumerable.Range(0, 5).Select(n => Spans.ChatSpan(Spans.TraceId(1, n), $"{n + 100:x16}", n, parent: $"{n + 1:x16}")));
        var roots = Spans.Request(Enumerable.Range(0, 5).Select(n => Spans.RootSpan(Spans.TraceId(1, n), $"{n + 1:x16}", n, n % 2 == 0 ? "pro" : "free")));
        var more = Spans.Traces(1, 5, 5);
        await using var server = await Harness.StartAsync();

        (await server.Client.PostAsync("/v1/traces", Spans.Json(chats), Cancel)).StatusCode.Should().Be(HttpStatusCode.OK);
        (await server.Client.PostAsync("/v1/traces", Spans.Json(roots), Cancel)).StatusCode.Should().Be(HttpStatusCode.OK);
        var zipped = await server.Client.PostAsync("/v1/traces", Spans.Gzip(Spans.Json(more), more), Cancel);
        await server.StopAsync();
        var served = await Harness.StoredAsync(server.Store);

        var folder = await Harness.NewProjectAsync("ingest");
        try
        {
            var file = Path.Combine(folder, "export.jsonl");
            await File.WriteAllLinesAsync(file, [Spans.Utf8(chats), Spans.Utf8(roots), Spans.Utf8(more)], Cancel);
            var ingest = await Harness.RunCliAsync("ingest", "-p", folder, "--format", "otlp-json", file);
            ingest.Code.Should().Be(0, ingest.Error);
            var ingested = await Harness.StoredAsync(folder);

            zipped.StatusCode.Should().Be(HttpStatusCode.OK);
            served.Should().HaveCount(10);
            served.Should().Equal(ingested);
            served[$"id:{Spans.TraceId(1, 0)}"].Should().Contain("\"plan\":\"pro\"").And.Contain("refund");
        }
        finally
        {
            Harness.Delete(folder);
        }
    }

    [Fact]
    public async Task An_acknowledged_request_is_already_in_the_store()
    {
        await using var server = await Harness.StartAsync();

        var response = await server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(2, 0, 3)), Cancel);

        // Read before the server stops: the 200 came after the commit, not before.
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Harness.StoredAsync(server.Store)).Keys.Should().BeEquivalentTo(Enumerable.Range(0, 3).Select(n => $"id:{Spans.TraceId(2, n)}"));
        (await response.Content.ReadAsStringAsync(Cancel)).Should().Be("{}");
    }

    [Fact]
    public async Task Spans_that_fail_validation_are_rejected_as_a_partial_success_and_the_rest_is_stored()
    {
        await using var server = await Harness.StartAsync();
        var body = Spans.Request([
            Spans.ChatSpan(Spans.TraceId(3, 0), "0000000000000001", 0),
            Spans.ChatSpan(string.Empty, "0000000000000002", 1),
            Spans.ChatSpan(Spans.TraceId(3, 2), "0000000000000003", 2),
            Spans.ChatSpanAt(Spans.TraceId(3, 3), "0000000000000004", 3, DateTimeOffset.UtcNow.AddDays(3)),
        ]);

        var response = await server.Client.PostAsync("/v1/traces", Spans.Json(body), Cancel);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var partial = Spans.Parse(await response.Content.ReadAsStringAsync(Cancel)).GetProperty("partialSuccess");
        partial.GetProperty("rejectedSpans").GetString().Should().Be("2");
        partial.GetProperty("errorMessage").GetString().Should().Contain("2 span(s) rejected, the rest stored").And.Contain("RC2004").And.Contain("spans[1]").And.Contain("traceId")
            .And.Contain("RC2007").And.Contain("after the ingest time");
        (await Harness.StoredAsync(server.Store)).Keys.Should().BeEquivalentTo([$"id:{Spans.TraceId(3, 0)}", $"id:{Spans.TraceId(3, 2)}"]);
        await server.StopAsync();
        File.ReadAllText(Path.Combine(server.Folder, ".recal", "quarantine.jsonl")).Should().Contain("RC2004").And.Contain("POST /v1/traces");
    }

    [Fact]
    public async Task A_protobuf_request_gets_a_protobuf_response_with_its_rejected_span_count()
    {
        await using var server = await Harness.StartAsync();
        var request = new ExportTraceServiceRequest();
        var scope = new ScopeSpans();
        scope.Spans.Add(ProtoSpan(Spans.TraceId(4, 0), 0));
        scope.Spans.Add(new Span { TraceId = ByteString.CopyFrom(1, 2, 3), SpanId = ByteString.CopyFrom(new byte[8] { 1, 1, 1, 1, 1, 1, 1, 1 }), Name = "chat", StartTimeUnixNano = 1 });
        var resource = new ResourceSpans();
        resource.ScopeSpans.Add(scope);
        request.ResourceSpans.Add(resource);

        var response = await server.Client.PostAsync("/v1/traces", Spans.Gzip(Spans.Protobuf([]), request.ToByteArray()), Cancel);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/x-protobuf");
        var answer = ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync(Cancel));
        answer.PartialSuccess.RejectedSpans.Should().Be(1);
        answer.PartialSuccess.ErrorMessage.Should().Contain("trace_id");
        (await Harness.StoredAsync(server.Store)).Should().ContainKey($"id:{Spans.TraceId(4, 0)}");
    }

    [Fact]
    public async Task Evaluation_events_posted_to_v1_logs_attach_feedback_to_their_stored_trace()
    {
        await using var server = await Harness.StartAsync();
        (await server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(5, 0, 1)), Cancel)).StatusCode.Should().Be(HttpStatusCode.OK);
        var logs = Evaluation(Spans.TraceId(5, 0), -1.0, withBadRecord: true);

        var response = await server.Client.PostAsync("/v1/logs", Spans.Json(logs), Cancel);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var partial = Spans.Parse(await response.Content.ReadAsStringAsync(Cancel)).GetProperty("partialSuccess");
        partial.GetProperty("rejectedLogRecords").GetString().Should().Be("1");
        (await Harness.StoredAsync(server.Store))[$"id:{Spans.TraceId(5, 0)}"].Should().Contain("\"Thumbs\":-1");
    }

    /// <summary>A logs request with a thumbs evaluation of a trace's span (and a record naming no trace, when asked).</summary>
    private static byte[] Evaluation(string traceId, double score, bool withBadRecord = false)
    {
        var record = new
        {
            timeUnixNano = "1795165200000000000",
            eventName = "gen_ai.evaluation.result",
            traceId,
            spanId = "0000000000000001",
            attributes = new object[]
            {
                new { key = "gen_ai.evaluation.name", value = new { stringValue = "thumbs" } },
                new { key = "gen_ai.evaluation.score.value", value = new { doubleValue = score } },
            },
        };
        object[] records = withBadRecord ? [record, new { timeUnixNano = "1795165200000000000", eventName = "gen_ai.evaluation.result" }] : [record];
        return System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new
        {
            resourceLogs = new object[]
            {
                new
                {
                    scopeLogs = new object[]
                    {
                        new
                        {
                            logRecords = records,
                        },
                    },
                },
            },
        });
    }

    [Fact]
    public async Task Feedback_that_arrives_before_its_trace_is_held_and_attached_when_the_trace_comes()
    {
        await using var server = await Harness.StartAsync();

        var early = await server.Client.PostAsync("/v1/logs", Spans.Json(Evaluation(Spans.TraceId(8, 0), 1.0)), Cancel);
        var trace = await server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(8, 0, 1)), Cancel);
        await server.StopAsync();

        early.StatusCode.Should().Be(HttpStatusCode.OK);
        trace.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Harness.StoredAsync(server.Store))[$"id:{Spans.TraceId(8, 0)}"].Should().Contain("\"Thumbs\":1");
    }

    [Fact]
    public async Task Other_content_types_and_encodings_get_415_and_unreadable_bodies_get_400()
    {
        await using var server = await Harness.StartAsync();
        var text = new StringContent("{}", System.Text.Encoding.UTF8, "text/plain");
        var brotli = Spans.Json(Spans.Traces(6, 0, 1));
        brotli.Headers.ContentEncoding.Add("br");

        var wrongType = await server.Client.PostAsync("/v1/traces", text, Cancel);
        var wrongEncoding = await server.Client.PostAsync("/v1/traces", brotli, Cancel);
        var notJson = await server.Client.PostAsync("/v1/traces", Spans.Json("{\"resourceSpans\": ["u8.ToArray()), Cancel);
        var notProtobuf = await server.Client.PostAsync("/v1/traces", Spans.Protobuf([0x0A, 0xFF, 0xFF, 0x01]), Cancel);
        var notGzip = await server.Client.PostAsync("/v1/traces", Garbled(), Cancel);
        var array = await server.Client.PostAsync("/v1/traces", Spans.Json("[1, 2]"u8.ToArray()), Cancel);

        wrongType.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        (await wrongType.Content.ReadAsStringAsync(Cancel)).Should().Contain("application/x-protobuf or application/json");
        wrongEncoding.StatusCode.Should().Be(HttpStatusCode.UnsupportedMediaType);
        notJson.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await notJson.Content.ReadAsStringAsync(Cancel)).Should().Contain("not valid JSON");
        notProtobuf.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        notProtobuf.Content.Headers.ContentType!.MediaType.Should().Be("application/x-protobuf");
        Recal.Ingest.Otel.Proto.Rpc.Status.Parser.ParseFrom(await notProtobuf.Content.ReadAsByteArrayAsync(Cancel)).Code.Should().Be(3);
        notGzip.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        array.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await Harness.StoredAsync(server.Store)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413_before_and_after_gzip()
    {
        await using var server = await Harness.StartAsync(new RecalServerOptions { WriteToken = Harness.Token, MaxBodyBytes = 64 * 1024 });
        var large = Spans.Traces(7, 0, 400);
        large.Length.Should().BeGreaterThan(64 * 1024);

        // Expect: 100-continue lets the client hear the 413 before sending a body the server will not read.
        using var oversized = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = Spans.Json(large) };
        oversized.Headers.ExpectContinue = true;
        var plain = await server.Client.SendAsync(oversized, Cancel);
        var zipped = Spans.Gzip(Spans.Json(large), large);
        var compressedSize = (await zipped.ReadAsByteArrayAsync(Cancel)).Length;
        var expanded = await server.Client.PostAsync("/v1/traces", zipped, Cancel);
        var small = await server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(7, 1000, 5)), Cancel);

        compressedSize.Should().BeLessThan(64 * 1024);
        plain.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        expanded.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        (await expanded.Content.ReadAsStringAsync(Cancel)).Should().Contain("65,536 bytes");
        small.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Harness.StoredAsync(server.Store)).Should().HaveCount(5);
    }

    /// <summary>A body that says gzip and is not.</summary>
    private static ByteArrayContent Garbled()
    {
        var content = Spans.Json([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03]);
        content.Headers.ContentEncoding.Add("gzip");
        return content;
    }

    private static Span ProtoSpan(string traceId, int n)
    {
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Convert.FromHexString(traceId)),
            SpanId = ByteString.CopyFrom(Convert.FromHexString($"{n + 1:x16}")),
            Name = "chat gpt-4o-mini",
            StartTimeUnixNano = 1_795_165_200_000_000_000UL,
            EndTimeUnixNano = 1_795_165_201_000_000_000UL,
        };
        span.Attributes.Add(new KeyValue { Key = "gen_ai.operation.name", Value = new AnyValue { StringValue = "chat" } });
        span.Attributes.Add(new KeyValue { Key = "gen_ai.input.messages", Value = new AnyValue { StringValue = """[{"role":"user","parts":[{"type":"text","content":"where is my package"}]}]""" } });
        span.Attributes.Add(new KeyValue { Key = "gen_ai.output.messages", Value = new AnyValue { StringValue = """[{"role":"assistant","parts":[{"type":"text","content":"It ships today."}]}]""" } });
        return span;
    }
}
