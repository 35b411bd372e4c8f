using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Recal.Server.Tests;

/// <summary>OTLP/JSON request bodies of GenAI chat spans, as an instrumented product exports them.</summary>
internal static class Spans
{
    private static readonly DateTimeOffset Start = new(2026, 11, 20, 9, 0, 0, TimeSpan.Zero);

    public static readonly string[] Questions =
    [
        "I want a refund for my last order",
        "how do I reset my password",
        "where is my package",
        "cancel my subscription please",
        "the app crashes when I open settings",
    ];

    /// <summary>A trace id for number <paramref name="n"/> of a run <paramref name="run"/>: unique across runs of one test.</summary>
    public static string TraceId(int run, int n) => $"{run:x8}{n:x24}";

    /// <summary>One GenAI chat span of trace <paramref name="traceId"/>, with a parent when <paramref name="parent"/> is given.</summary>
    public static object ChatSpan(string traceId, string spanId, int n, string? parent = null) => ChatSpanAt(traceId, spanId, n, Start.AddSeconds(n % 86_400), parent);

    /// <summary>A chat span at <paramref name="time"/>.</summary>
    public static object ChatSpanAt(string traceId, string spanId, int n, DateTimeOffset time, string? parent = null) => new Dictionary<string, object?>
    {
        ["traceId"] = traceId,
        ["spanId"] = spanId,
        ["parentSpanId"] = parent ?? string.Empty,
        ["name"] = "chat gpt-4o-mini",
        ["kind"] = 3,
        ["startTimeUnixNano"] = Nanos(time),
        ["endTimeUnixNano"] = Nanos(time.AddMilliseconds(800)),
        ["attributes"] = new object[]
        {
            Attribute("gen_ai.operation.name", "chat"),
            Attribute("gen_ai.request.model", "gpt-4o-mini"),
            Attribute("gen_ai.input.messages", Messages("user", Questions[n % Questions.Length] + $" (#{n})")),
            Attribute("gen_ai.output.messages", Messages("assistant", $"Here is how I can help with request {n}.")),
        },
    };

    /// <summary>A root span without GenAI content (the product's HTTP handler) carrying the user's plan.</summary>
    public static object RootSpan(string traceId, string spanId, int n, string plan) => new Dictionary<string, object?>
    {
        ["traceId"] = traceId,
        ["spanId"] = spanId,
        ["name"] = "POST /chat",
        ["kind"] = 2,
        ["startTimeUnixNano"] = Nanos(Start.AddSeconds(n % 86_400).AddMilliseconds(-5)),
        ["endTimeUnixNano"] = Nanos(Start.AddSeconds(n % 86_400).AddMilliseconds(900)),
        ["attributes"] = new object[] { Attribute("plan", plan) },
    };

    /// <summary>An OTLP/JSON ExportTraceServiceRequest with the spans under one resource and scope.</summary>
    public static byte[] Request(IEnumerable<object> spans) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        resourceSpans = new object[]
        {
            new
            {
                resource = new { attributes = new object[] { Attribute("service.name", "support-bot") } },
                scopeSpans = new object[] { new { scope = new { name = "tests" }, spans = spans.ToArray() } },
            },
        },
    });

    /// <summary>A request of <paramref name="count"/> one-span traces, numbered from <paramref name="first"/>.</summary>
    public static byte[] Traces(int run, int first, int count) =>
        Request(Enumerable.Range(first, count).Select(n => ChatSpan(TraceId(run, n), $"{n + 1:x16}", n)));

    public static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public static ByteArrayContent Protobuf(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        return content;
    }

    public static ByteArrayContent Gzip(ByteArrayContent content, byte[] body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
        }

        var zipped = new ByteArrayContent(buffer.ToArray());
        zipped.Headers.ContentType = content.Headers.ContentType;
        zipped.Headers.ContentEncoding.Add("gzip");
        return zipped;
    }

    private static object Attribute(string key, string value) => new { key, value = new { stringValue = value } };

    private static string Messages(string role, string text) =>
        JsonSerializer.Serialize(new[] { new { role, parts = new[] { new { type = "text", content = text } } } });

    private static string Nanos(DateTimeOffset time) => ((time.ToUnixTimeMilliseconds() * 1_000_000)).ToString(CultureInfo.InvariantCulture);

    /// <summary>The JSON of a response body, for its fields.</summary>
    public static JsonElement Parse(string text) => JsonDocument.Parse(text).RootElement;

    public static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);
}
