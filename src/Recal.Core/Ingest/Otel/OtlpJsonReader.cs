using System.Globalization;
using System.Text.Json;

namespace Recal.Ingest.Otel;

/// <summary>
/// Reads OTLP/JSON (the OTLP/HTTP JSON encoding and the OpenTelemetry file exporter's lines): a <c>TracesData</c> /
/// <c>ExportTraceServiceRequest</c> (<c>resourceSpans → scopeSpans → spans</c>) or a <c>LogsData</c> /
/// <c>ExportLogsServiceRequest</c> (<c>resourceLogs → scopeLogs → logRecords</c>). Keys are lowerCamelCase as the
/// specification requires (snake_case is accepted too); 64-bit integers may be strings or numbers; trace and span ids
/// hex or base64. A span that cannot be used becomes a problem with its place; the rest of the payload is read.
/// </summary>
public static class OtlpJsonReader
{
    /// <summary>Reads one payload; a payload that is not JSON at all becomes a single problem.</summary>
    public static OtlpPayload Read(ReadOnlySpan<byte> json)
    {
        var payload = new OtlpPayload();
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 128, AllowTrailingCommas = false });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException e)
        {
            payload.Problems.Add(new PayloadProblem("RC2001", "payload", $"not valid JSON at byte {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}"));
            return payload;
        }

        using (document)
        {
            Read(document.RootElement, payload);
        }

        return payload;
    }

    /// <summary>Reads one payload already parsed (a request body, or an element of a larger document).</summary>
    public static void Read(JsonElement root, OtlpPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        if (root.ValueKind != JsonValueKind.Object)
        {
            payload.Problems.Add(new PayloadProblem("RC2002", "payload", $"an OTLP payload must be a JSON object with 'resourceSpans' or 'resourceLogs', got {Kind(root)}"));
            return;
        }

        var spans = Property(root, "resourceSpans"u8, "resource_spans"u8);
        var logs = Property(root, "resourceLogs"u8, "resource_logs"u8);
        if (spans is null && logs is null)
        {
            payload.Problems.Add(new PayloadProblem("RC2004", "payload", "neither 'resourceSpans' nor 'resourceLogs' is present (an OTLP TracesData or LogsData object has one of them)"));
            return;
        }

        if (spans is { } resourceSpans)
        {
            ReadResourceSpans(resourceSpans, payload);
        }

        if (logs is { } resourceLogs)
        {
            ReadResourceLogs(resourceLogs, payload);
        }
    }

    private static void ReadResourceSpans(JsonElement resourceSpans, OtlpPayload payload)
    {
        var r = 0;
        foreach (var resourceSpan in Array(resourceSpans))
        {
            var resource = ResourceAttributes(resourceSpan);
            var s = 0;
            foreach (var scopeSpan in Array(Property(resourceSpan, "scopeSpans"u8, "scope_spans"u8) ?? Property(resourceSpan, "instrumentationLibrarySpans"u8, "instrumentation_library_spans"u8)))
            {
                var i = 0;
                foreach (var span in Array(Property(scopeSpan, "spans"u8)))
                {
                    var place = $"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]";
                    try
                    {
                        if (ReadSpan(span, resource, place, payload.Problems) is { } read)
                        {
                            payload.Spans.Add(read);
                        }
                    }
                    catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
                    {
                        payload.Problems.Add(new PayloadProblem("RC2003", place, $"a field has the wrong type: {e.Message}"));
                    }

                    i++;
                }

                s++;
            }

            r++;
        }
    }

    private static OtelSpan? ReadSpan(JsonElement span, IReadOnlyDictionary<string, object?> resource, string place, List<PayloadProblem> problems)
    {
        if (span.ValueKind != JsonValueKind.Object)
        {
            problems.Add(new PayloadProblem("RC2002", place, $"a span must be an object, got {Kind(span)}"));
            return null;
        }

        var traceId = Id(span, 16, "traceId"u8, "trace_id"u8);
        var spanId = Id(span, 8, "spanId"u8, "span_id"u8);
        if (traceId is null || spanId is null)
        {
            var which = traceId is null ? "traceId" : "spanId";
            problems.Add(new PayloadProblem("RC2004", place, $"field '{which}' is missing or not a valid id (OTLP/JSON writes a {(which == "traceId" ? 32 : 16)}-digit hex id, not all zeros)"));
            return null;
        }

        var parent = Property(span, "parentSpanId"u8, "parent_span_id"u8) is { ValueKind: JsonValueKind.String } p && p.GetString() is { Length: > 0 } parentText
            ? OtelIds.FromText(parentText, 8)
            : null;
        var start = Nanos(span, "startTimeUnixNano"u8, "start_time_unix_nano"u8);
        if (start is null or <= 0)
        {
            problems.Add(new PayloadProblem("RC2004", $"{place} (span {spanId})", "field 'startTimeUnixNano' is missing or not a count of nanoseconds since 1970 (a string or number such as \"1780306200000000000\")"));
            return null;
        }

        var events = new List<OtelEvent>();
        foreach (var e in Array(Property(span, "events"u8)))
        {
            events.Add(new OtelEvent(
                Property(e, "name"u8)?.GetString() ?? string.Empty,
                Nanos(e, "timeUnixNano"u8, "time_unix_nano"u8) ?? 0,
                Attributes(Property(e, "attributes"u8))));
        }

        var links = new List<OtelLink>();
        foreach (var link in Array(Property(span, "links"u8)))
        {
            if (Id(link, 16, "traceId"u8, "trace_id"u8) is { } linkTrace && Id(link, 8, "spanId"u8, "span_id"u8) is { } linkSpan)
            {
                links.Add(new OtelLink(linkTrace, linkSpan, Attributes(Property(link, "attributes"u8))));
            }
        }

        return new OtelSpan(
            traceId,
            spanId,
            parent,
            Property(span, "name"u8)?.GetString() ?? string.Empty,
            start.Value,
            Nanos(span, "endTimeUnixNano"u8, "end_time_unix_nano"u8) ?? start.Value,
            Attributes(Property(span, "attributes"u8)),
            events,
            links,
            resource,
            $"{place} (span {spanId})");
    }

    private static void ReadResourceLogs(JsonElement resourceLogs, OtlpPayload payload)
    {
        var r = 0;
        foreach (var resourceLog in Array(resourceLogs))
        {
            var resource = ResourceAttributes(resourceLog);
            var s = 0;
            foreach (var scopeLog in Array(Property(resourceLog, "scopeLogs"u8, "scope_logs"u8)))
            {
                var i = 0;
                foreach (var record in Array(Property(scopeLog, "logRecords"u8, "log_records"u8)))
                {
                    var place = $"resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}]";
                    try
                    {
                        var attributes = Attributes(Property(record, "attributes"u8));
                        var eventName = Property(record, "eventName"u8, "event_name"u8)?.GetString() is { Length: > 0 } named
                            ? named
                            : attributes.GetValueOrDefault("event.name") as string ?? string.Empty;
                        var time = Nanos(record, "timeUnixNano"u8, "time_unix_nano"u8) is > 0 and var t ? t : Nanos(record, "observedTimeUnixNano"u8, "observed_time_unix_nano"u8) ?? 0;
                        payload.Logs.Add(new OtelLogRecord(
                            Property(record, "traceId"u8, "trace_id"u8)?.GetString() is { Length: > 0 } traceText ? OtelIds.FromText(traceText, 16) : null,
                            Property(record, "spanId"u8, "span_id"u8)?.GetString() is { Length: > 0 } spanText ? OtelIds.FromText(spanText, 8) : null,
                            eventName,
                            time,
                            attributes,
                            Property(record, "body"u8) is { } body ? Value(body) : null,
                            resource,
                            place));
                    }
                    catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
                    {
                        payload.Problems.Add(new PayloadProblem("RC2003", place, $"a field has the wrong type: {e.Message}"));
                    }

                    i++;
                }

                s++;
            }

            r++;
        }
    }

    private static IReadOnlyDictionary<string, object?> ResourceAttributes(JsonElement owner) =>
        Property(owner, "resource"u8) is { ValueKind: JsonValueKind.Object } resource ? Attributes(Property(resource, "attributes"u8)) : Empty;

    private static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    /// <summary>A list of <c>{key, value: AnyValue}</c>; entries without a key are skipped.</summary>
    internal static IReadOnlyDictionary<string, object?> Attributes(JsonElement? list)
    {
        if (list is not { ValueKind: JsonValueKind.Array } array)
        {
            return Empty;
        }

        var attributes = new Dictionary<string, object?>(array.GetArrayLength(), StringComparer.Ordinal);
        foreach (var entry in array.EnumerateArray())
        {
            if (entry.ValueKind == JsonValueKind.Object && Property(entry, "key"u8) is { } keyElement && CachedString(keyElement) is { } key)
            {
                attributes[key] = Property(entry, "value"u8) is { } value ? Value(value) : null;
            }
        }

        return attributes;
    }

    /// <summary>An OTLP/JSON <c>AnyValue</c>: <c>{"stringValue": …}</c>, <c>{"intValue": "5"}</c>, <c>{"arrayValue": {"values": […]}}</c>, ….</summary>
    internal static object? Value(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            // Not an AnyValue wrapper: take the JSON value as it is (some hand-made exports do this).
            return Plain(value);
        }

        foreach (var field in value.EnumerateObject())
        {
            var v = field.Value;
            var kind = field.NameEquals("stringValue"u8) || field.NameEquals("string_value"u8) ? 1
                : field.NameEquals("intValue"u8) || field.NameEquals("int_value"u8) ? 3
                : field.NameEquals("boolValue"u8) || field.NameEquals("bool_value"u8) ? 2
                : field.NameEquals("doubleValue"u8) || field.NameEquals("double_value"u8) ? 4
                : field.NameEquals("arrayValue"u8) || field.NameEquals("array_value"u8) ? 5
                : field.NameEquals("kvlistValue"u8) || field.NameEquals("kvlist_value"u8) ? 6
                : field.NameEquals("bytesValue"u8) || field.NameEquals("bytes_value"u8) ? 7
                : 0;
            switch (kind)
            {
                case 1:
                    return v.ValueKind == JsonValueKind.String ? CachedString(v) : Plain(v);
                case 2:
                    return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : v.ValueKind == JsonValueKind.String && bool.TryParse(v.GetString(), out var b) ? b : Plain(v);
                case 3:
                    return v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n
                        : v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) ? parsed
                        : throw new FormatException($"intValue must be a 64-bit integer (a string or a number), got {v.GetRawText()}");
                case 4:
                    return v.ValueKind == JsonValueKind.Number ? v.GetDouble()
                        : v.ValueKind == JsonValueKind.String && double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
                        : throw new FormatException($"doubleValue must be a number, got {v.GetRawText()}");
                case 5:
                    return Property(v, "values"u8) is { ValueKind: JsonValueKind.Array } values ? values.EnumerateArray().Select(Value).ToArray() : System.Array.Empty<object?>();
                case 6:
                    return Attributes(Property(v, "values"u8));
                case 7:
                    return v.ValueKind == JsonValueKind.String ? Convert.FromBase64String(v.GetString()!) : null;
            }
        }

        // {} is an empty AnyValue.
        return null;
    }

    private static object? Plain(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => value.TryGetInt64(out var n) ? n : value.GetDouble(),
        JsonValueKind.Array => value.EnumerateArray().Select(Plain).ToArray(),
        JsonValueKind.Object => value.EnumerateObject().ToDictionary(p => p.Name, p => Plain(p.Value), StringComparer.Ordinal),
        _ => null,
    };

    private static string? Id(JsonElement owner, int bytes, ReadOnlySpan<byte> name, ReadOnlySpan<byte> snake) =>
        Property(owner, name, snake) is { ValueKind: JsonValueKind.String } id && id.GetString() is { Length: > 0 } text ? OtelIds.FromText(text, bytes) : null;

    /// <summary>A fixed64 nanosecond time: OTLP/JSON writes 64-bit integers as decimal strings; numbers are accepted.</summary>
    private static long? Nanos(JsonElement owner, ReadOnlySpan<byte> name, ReadOnlySpan<byte> snake)
    {
        if (Property(owner, name, snake) is not { } value)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var n) && n <= long.MaxValue)
        {
            return (long)n;
        }

        if (value.ValueKind == JsonValueKind.String && ulong.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed <= long.MaxValue)
        {
            return (long)parsed;
        }

        return null;
    }

    /// <summary>A member by its UTF-8 name (no transcoding per lookup), or its snake_case spelling.</summary>
    internal static JsonElement? Property(JsonElement? owner, ReadOnlySpan<byte> name, ReadOnlySpan<byte> snake = default)
    {
        if (owner is not { ValueKind: JsonValueKind.Object } o)
        {
            return null;
        }

        if (o.TryGetProperty(name, out var value) || (!snake.IsEmpty && o.TryGetProperty(snake, out value)))
        {
            return value.ValueKind == JsonValueKind.Null ? null : value;
        }

        return null;
    }

    /// <summary>A string value through the per-thread cache when it needs no unescaping (attribute keys repeat in every span).</summary>
    private static string? CachedString(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        var raw = System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(value);
        return raw.Length >= 2 && raw.Length <= 130 && !raw.Contains((byte)'\\') ? Utf8StringCache.Get(raw[1..^1]) : value.GetString();
    }

    private static IEnumerable<JsonElement> Array(JsonElement? value) =>
        value is { ValueKind: JsonValueKind.Array } array ? array.EnumerateArray() : [];

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }
}
