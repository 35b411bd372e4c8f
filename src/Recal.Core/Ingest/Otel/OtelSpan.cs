namespace Recal.Ingest.Otel;

/// <summary>
/// One span as OTLP carries it, independent of the encoding (JSON or protobuf). Attribute values are
/// <see cref="string"/>, <see cref="bool"/>, <see cref="long"/>, <see cref="double"/>, <see cref="byte"/>[],
/// <c>object?[]</c> (arrays) or <see cref="IReadOnlyDictionary{TKey, TValue}"/> of string to object (key-value lists).
/// </summary>
/// <param name="TraceId">Lower-case hex, 32 digits.</param>
/// <param name="SpanId">Lower-case hex, 16 digits.</param>
/// <param name="ParentSpanId">Lower-case hex; null for a root span.</param>
/// <param name="Resource">The attributes of the resource that produced the span (service.name, …).</param>
/// <param name="Place">Where the span was read, for diagnostics: "span 0123… in resourceSpans[0].scopeSpans[1].spans[4]".</param>
public sealed record OtelSpan(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Name,
    long StartUnixNano,
    long EndUnixNano,
    IReadOnlyDictionary<string, object?> Attributes,
    IReadOnlyList<OtelEvent> Events,
    IReadOnlyList<OtelLink> Links,
    IReadOnlyDictionary<string, object?> Resource,
    string Place);

/// <summary>A span event, or a log record read as the event of the span it names.</summary>
/// <param name="Body">A log record's body (events of spans have none).</param>
public sealed record OtelEvent(string Name, long TimeUnixNano, IReadOnlyDictionary<string, object?> Attributes, object? Body = null);

/// <summary>A link from a span to another span (perhaps of another trace).</summary>
public sealed record OtelLink(string TraceId, string SpanId, IReadOnlyDictionary<string, object?> Attributes);

/// <summary>A log record (OTLP logs), e.g. a GenAI event emitted as a log: attached to its span by trace and span id.</summary>
/// <param name="TraceId">Lower-case hex; null when the record names no trace.</param>
public sealed record OtelLogRecord(
    string? TraceId,
    string? SpanId,
    string EventName,
    long TimeUnixNano,
    IReadOnlyDictionary<string, object?> Attributes,
    object? Body,
    IReadOnlyDictionary<string, object?> Resource,
    string Place);

/// <summary>What one OTLP payload (a request body, a file-exporter line) holds.</summary>
public sealed class OtlpPayload
{
    /// <summary>The place of a problem about the payload as a whole rather than one of its records.</summary>
    public const string Whole = "payload";

    public List<OtelSpan> Spans { get; } = [];

    public List<OtelLogRecord> Logs { get; } = [];

    public List<PayloadProblem> Problems { get; } = [];
}
