using Google.Protobuf;
using Recal.Ingest.Otel.Proto;

namespace Recal.Ingest.Otel;

/// <summary>
/// Reads OTLP protobuf: an <c>ExportTraceServiceRequest</c> (the body of POST /v1/traces, and the gRPC Export call) or
/// an <c>ExportLogsServiceRequest</c> (/v1/logs), compiled from the published message definitions (Protos/).
/// </summary>
public static partial class OtlpProtobufReader
{
    /// <summary>
    /// <see cref="ReadTraces"/> through the generated message classes: the whole request as objects, then copied into
    /// <see cref="OtelSpan"/>s. The reference the forward reader is tested against.
    /// </summary>
    internal static OtlpPayload ReadTracesFromMessages(ReadOnlySpan<byte> body)
    {
        var payload = new OtlpPayload();
        ExportTraceServiceRequest request;
        try
        {
            request = ExportTraceServiceRequest.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            payload.Problems.Add(new PayloadProblem("RC2001", OtlpPayload.Whole, $"not a valid OTLP protobuf ExportTraceServiceRequest: {e.Message}"));
            return payload;
        }

        for (var r = 0; r < request.ResourceSpans.Count; r++)
        {
            var resourceSpans = request.ResourceSpans[r];
            var resource = Attributes(resourceSpans.Resource?.Attributes);
            for (var s = 0; s < resourceSpans.ScopeSpans.Count; s++)
            {
                var spans = resourceSpans.ScopeSpans[s].Spans;
                for (var i = 0; i < spans.Count; i++)
                {
                    var span = spans[i];
                    var place = $"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]";
                    var traceId = span.TraceId.Length == 16 ? OtelIds.FromBytes(span.TraceId.Span) : null;
                    var spanId = span.SpanId.Length == 8 ? OtelIds.FromBytes(span.SpanId.Span) : null;
                    if (traceId is null || spanId is null)
                    {
                        var which = traceId is null ? "trace_id" : "span_id";
                        payload.Problems.Add(new PayloadProblem("RC2004", place, $"field '{which}' is missing or not a valid id ({(which == "trace_id" ? 16 : 8)} bytes, not all zeros)"));
                        continue;
                    }

                    if (span.StartTimeUnixNano == 0 || span.StartTimeUnixNano > long.MaxValue)
                    {
                        payload.Problems.Add(new PayloadProblem("RC2004", $"{place} (span {spanId})", "field 'start_time_unix_nano' is missing"));
                        continue;
                    }

                    payload.Spans.Add(new OtelSpan(
                        traceId,
                        spanId,
                        span.ParentSpanId.Length == 8 ? OtelIds.FromBytes(span.ParentSpanId.Span) : null,
                        span.Name,
                        (long)span.StartTimeUnixNano,
                        span.EndTimeUnixNano is > 0 and <= long.MaxValue ? (long)span.EndTimeUnixNano : (long)span.StartTimeUnixNano,
                        Attributes(span.Attributes),
                        [.. span.Events.Select(e => new OtelEvent(e.Name, (long)Math.Min(e.TimeUnixNano, long.MaxValue), Attributes(e.Attributes)))],
                        [.. span.Links.Where(l => l.TraceId.Length == 16 && l.SpanId.Length == 8)
                            .Select(l => new OtelLink(OtelIds.FromBytes(l.TraceId.Span) ?? string.Empty, OtelIds.FromBytes(l.SpanId.Span) ?? string.Empty, Attributes(l.Attributes)))],
                        resource,
                        $"{place} (span {spanId})"));
                }
            }
        }

        return payload;
    }

    /// <summary>Reads a logs request body (GenAI events emitted as log records).</summary>
    public static OtlpPayload ReadLogs(ReadOnlySpan<byte> body)
    {
        var payload = new OtlpPayload();
        ExportLogsServiceRequest request;
        try
        {
            request = ExportLogsServiceRequest.Parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException e)
        {
            payload.Problems.Add(new PayloadProblem("RC2001", OtlpPayload.Whole, $"not a valid OTLP protobuf ExportLogsServiceRequest: {e.Message}"));
            return payload;
        }

        for (var r = 0; r < request.ResourceLogs.Count; r++)
        {
            var resource = Attributes(request.ResourceLogs[r].Resource?.Attributes);
            for (var s = 0; s < request.ResourceLogs[r].ScopeLogs.Count; s++)
            {
                var records = request.ResourceLogs[r].ScopeLogs[s].LogRecords;
                for (var i = 0; i < records.Count; i++)
                {
                    var record = records[i];
                    var attributes = Attributes(record.Attributes);
                    var time = record.TimeUnixNano != 0 ? record.TimeUnixNano : record.ObservedTimeUnixNano;
                    payload.Logs.Add(new OtelLogRecord(
                        OtelIds.FromBytes(record.TraceId.Span),
                        OtelIds.FromBytes(record.SpanId.Span),
                        record.EventName is { Length: > 0 } name ? name : attributes.GetValueOrDefault("event.name") as string ?? string.Empty,
                        (long)Math.Min(time, long.MaxValue),
                        attributes,
                        record.Body is null ? null : Value(record.Body),
                        resource,
                        $"resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}]"));
                }
            }
        }

        return payload;
    }

    /// <summary>
    /// Whether a body is a logs request rather than a trace request: its first resource's first scope's first record
    /// has a fixed64 time at field 1 (a log record) rather than bytes at field 1 (a span's trace id).
    /// </summary>
    public static bool IsLogs(ReadOnlySpan<byte> body)
    {
        try
        {
            var resource = Field(body, 1);
            var scope = resource.IsEmpty ? default : Field(resource, 2);
            var record = scope.IsEmpty ? default : Field(scope, 2);
            return !record.IsEmpty && record[0] == 0x09;
        }
        catch (MalformedProtobufException)
        {
            return false;
        }
    }

    /// <summary>The first length-delimited field <paramref name="number"/> of a message, skipping others.</summary>
    private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> message, int number)
    {
        var wire = new ProtobufWire(message);
        while (wire.Next(out var field, out var type))
        {
            if (field == number && type == ProtobufWire.Length)
            {
                return wire.ReadBytes();
            }

            wire.Skip(field, type, 0);
        }

        return default;
    }

    private static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    private static IReadOnlyDictionary<string, object?> Attributes(IList<KeyValue>? list)
    {
        if (list is null || list.Count == 0)
        {
            return Empty;
        }

        var attributes = new Dictionary<string, object?>(list.Count, StringComparer.Ordinal);
        foreach (var kv in list)
        {
            attributes[kv.Key] = kv.Value is null ? null : Value(kv.Value);
        }

        return attributes;
    }

    private static object? Value(AnyValue value) => value.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        AnyValue.ValueOneofCase.ArrayValue => value.ArrayValue.Values.Select(Value).ToArray(),
        AnyValue.ValueOneofCase.KvlistValue => Attributes(value.KvlistValue.Values),
        AnyValue.ValueOneofCase.BytesValue => value.BytesValue.ToByteArray(),
        _ => null,
    };
}
