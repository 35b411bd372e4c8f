using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Recal.Ingest.Otel;

/// <summary>
/// Reads OTLP/JSON (the OTLP/HTTP JSON encoding and the OpenTelemetry file exporter's lines): a <c>TracesData</c> /
/// <c>ExportTraceServiceRequest</c> (<c>resourceSpans → scopeSpans → spans</c>) or a <c>LogsData</c> /
/// <c>ExportLogsServiceRequest</c> (<c>resourceLogs → scopeLogs → logRecords</c>). Keys are lowerCamelCase as the
/// specification requires (snake_case is accepted too); 64-bit integers may be strings or numbers; trace and span ids
/// hex or base64. A span that cannot be used becomes a problem with its place; the rest of the payload is read.
/// </summary>
/// <remarks>
/// One forward pass of <see cref="Utf8JsonReader"/>, as the JSONL parser reads lines: no document is built, names are
/// compared as UTF-8, short strings come from the per-thread cache. Members may come in any order: a span list that
/// precedes its resource, or an attribute value that precedes its key, is read again from a copy of the reader.
/// </remarks>
public static class OtlpJsonReader
{
    private static readonly JsonReaderOptions Options = new() { MaxDepth = 128, AllowTrailingCommas = false };

    private static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    /// <summary>Reads one payload; a payload that is not JSON at all becomes a single problem.</summary>
    public static OtlpPayload Read(ReadOnlySpan<byte> json)
    {
        var payload = new OtlpPayload();
        try
        {
            var reader = new Utf8JsonReader(json, Options);
            reader.Read();
            ReadRoot(ref reader, payload);
        }
        catch (JsonException e)
        {
            // As a document parser would: JSON that does not parse is one problem, whatever was read before the error.
            var failed = new OtlpPayload();
            failed.Problems.Add(new PayloadProblem("RC2001", OtlpPayload.Whole, $"not valid JSON at byte {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}"));
            return failed;
        }

        return payload;
    }

    /// <summary>Reads one payload already parsed (an element of a larger document).</summary>
    public static void Read(JsonElement root, OtlpPayload payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var reader = new Utf8JsonReader(System.Runtime.InteropServices.JsonMarshal.GetRawUtf8Value(root), Options);
        reader.Read();
        ReadRoot(ref reader, payload);
    }

    private static void ReadRoot(ref Utf8JsonReader reader, OtlpPayload payload)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var kind = Kind(reader.TokenType);
            reader.Skip();
            payload.Problems.Add(new PayloadProblem("RC2002", OtlpPayload.Whole, $"an OTLP payload must be a JSON object with 'resourceSpans' or 'resourceLogs', got {kind}"));
            return;
        }

        var found = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var spans = Is(ref reader, "resourceSpans"u8, "resource_spans"u8);
            var logs = !spans && Is(ref reader, "resourceLogs"u8, "resource_logs"u8);
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null || !(spans || logs))
            {
                reader.Skip();
                continue;
            }

            found = true;
            var index = 0;
            for (var array = StartArray(ref reader); array && Next(ref reader);)
            {
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    ReadResource(ref reader, index, logs, payload);
                }
                else
                {
                    reader.Skip();
                }

                index++;
            }
        }

        if (!found)
        {
            payload.Problems.Add(new PayloadProblem("RC2004", OtlpPayload.Whole, "neither 'resourceSpans' nor 'resourceLogs' is present (an OTLP TracesData or LogsData object has one of them)"));
        }
    }

    /// <summary>One <c>ResourceSpans</c> or <c>ResourceLogs</c> object: its resource, then its scopes (read again if they came first).</summary>
    private static void ReadResource(ref Utf8JsonReader reader, int r, bool logs, OtlpPayload payload)
    {
        var resource = Empty;
        var resourceRead = false;
        var deferred = default(Utf8JsonReader);
        var scopesDeferred = false;
        var scopesRead = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isResource = reader.ValueTextEquals("resource"u8);
            var isScopes = !isResource && (logs
                ? Is(ref reader, "scopeLogs"u8, "scope_logs"u8)
                : Is(ref reader, "scopeSpans"u8, "scope_spans"u8) || Is(ref reader, "instrumentationLibrarySpans"u8, "instrumentation_library_spans"u8));
            reader.Read();
            if (isResource && reader.TokenType == JsonTokenType.StartObject)
            {
                resource = AttributesOf(ref reader);
                resourceRead = true;
            }
            else if (isScopes && reader.TokenType != JsonTokenType.Null && !scopesRead && !scopesDeferred)
            {
                if (resourceRead)
                {
                    ReadScopes(ref reader, resource, r, logs, payload);
                    scopesRead = true;
                }
                else
                {
                    deferred = reader;
                    scopesDeferred = true;
                    reader.Skip();
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (scopesDeferred)
        {
            ReadScopes(ref deferred, resource, r, logs, payload);
        }
    }

    private static void ReadScopes(ref Utf8JsonReader reader, IReadOnlyDictionary<string, object?> resource, int r, bool logs, OtlpPayload payload)
    {
        var s = 0;
        for (var array = StartArray(ref reader); array && Next(ref reader);)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                s++;
                continue;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var records = logs ? Is(ref reader, "logRecords"u8, "log_records"u8) : reader.ValueTextEquals("spans"u8);
                reader.Read();
                if (!records)
                {
                    reader.Skip();
                    continue;
                }

                var i = 0;
                for (var inArray = StartArray(ref reader); inArray && Next(ref reader);)
                {
                    if (logs)
                    {
                        ReadLogRecord(ref reader, resource, $"resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}]", payload);
                    }
                    else
                    {
                        ReadSpan(ref reader, resource, r, s, i, payload);
                    }

                    i++;
                }
            }

            s++;
        }
    }

    private static void ReadSpan(ref Utf8JsonReader reader, IReadOnlyDictionary<string, object?> resource, int r, int s, int i, OtlpPayload payload)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            payload.Problems.Add(new PayloadProblem("RC2002", $"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]", $"a span must be an object, got {Kind(reader.TokenType)}"));
            reader.Skip();
            return;
        }

        var start = reader;
        string? traceId = null, spanId = null, parent = null, name = null;
        long? startTime = null, endTime = null;
        IReadOnlyDictionary<string, object?> attributes = Empty;
        List<OtelEvent>? events = null;
        List<OtelLink>? links = null;
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = SpanField(ref reader);
                reader.Read();
                switch (field)
                {
                    case SpanMember.TraceId:
                        traceId = Id(ref reader, 16);
                        break;
                    case SpanMember.SpanId:
                        spanId = Id(ref reader, 8);
                        break;
                    case SpanMember.Parent:
                        parent = Id(ref reader, 8);
                        break;
                    case SpanMember.Name:
                        name = CachedString(ref reader);
                        break;
                    case SpanMember.Start:
                        startTime = Nanos(ref reader);
                        break;
                    case SpanMember.End:
                        endTime = Nanos(ref reader);
                        break;
                    case SpanMember.Attributes:
                        attributes = Attributes(ref reader, 16);
                        break;
                    case SpanMember.Events:
                        events = Events(ref reader);
                        break;
                    case SpanMember.Links:
                        links = Links(ref reader);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            payload.Problems.Add(new PayloadProblem("RC2003", $"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]", $"a field has the wrong type: {e.Message}"));
            reader = start;
            reader.Skip();
            return;
        }

        var place = $"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]";
        if (traceId is null || spanId is null)
        {
            var which = traceId is null ? "traceId" : "spanId";
            payload.Problems.Add(new PayloadProblem("RC2004", place, $"field '{which}' is missing or not a valid id (OTLP/JSON writes a {(which == "traceId" ? 32 : 16)}-digit hex id, not all zeros)"));
            return;
        }

        place = $"{place} (span {spanId})";
        if (startTime is null or <= 0)
        {
            payload.Problems.Add(new PayloadProblem("RC2004", place, "field 'startTimeUnixNano' is missing or not a count of nanoseconds since 1970 (a string or number such as \"1780306200000000000\")"));
            return;
        }

        payload.Spans.Add(new OtelSpan(
            traceId,
            spanId,
            parent,
            name ?? string.Empty,
            startTime.Value,
            endTime ?? startTime.Value,
            attributes,
            (IReadOnlyList<OtelEvent>?)events ?? [],
            (IReadOnlyList<OtelLink>?)links ?? [],
            resource,
            place));
    }

    private enum SpanMember
    {
        Other,
        TraceId,
        SpanId,
        Parent,
        Name,
        Start,
        End,
        Attributes,
        Events,
        Links,
    }

    private static SpanMember SpanField(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("attributes"u8) ? SpanMember.Attributes
        : Is(ref reader, "traceId"u8, "trace_id"u8) ? SpanMember.TraceId
        : Is(ref reader, "spanId"u8, "span_id"u8) ? SpanMember.SpanId
        : Is(ref reader, "parentSpanId"u8, "parent_span_id"u8) ? SpanMember.Parent
        : reader.ValueTextEquals("name"u8) ? SpanMember.Name
        : Is(ref reader, "startTimeUnixNano"u8, "start_time_unix_nano"u8) ? SpanMember.Start
        : Is(ref reader, "endTimeUnixNano"u8, "end_time_unix_nano"u8) ? SpanMember.End
        : reader.ValueTextEquals("events"u8) ? SpanMember.Events
        : reader.ValueTextEquals("links"u8) ? SpanMember.Links
        : SpanMember.Other;

    private static List<OtelEvent>? Events(ref Utf8JsonReader reader)
    {
        List<OtelEvent>? events = null;
        for (var array = StartArray(ref reader); array && Next(ref reader);)
        {
            string? name = null;
            long? time = null;
            var attributes = Empty;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isName = reader.ValueTextEquals("name"u8);
                    var isTime = !isName && Is(ref reader, "timeUnixNano"u8, "time_unix_nano"u8);
                    var isAttributes = !isName && !isTime && reader.ValueTextEquals("attributes"u8);
                    reader.Read();
                    if (isName)
                    {
                        name = CachedString(ref reader);
                    }
                    else if (isTime)
                    {
                        time = Nanos(ref reader);
                    }
                    else if (isAttributes)
                    {
                        attributes = Attributes(ref reader, 4);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Skip();
            }

            (events ??= []).Add(new OtelEvent(name ?? string.Empty, time ?? 0, attributes));
        }

        return events;
    }

    private static List<OtelLink>? Links(ref Utf8JsonReader reader)
    {
        List<OtelLink>? links = null;
        for (var array = StartArray(ref reader); array && Next(ref reader);)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            string? traceId = null, spanId = null;
            var attributes = Empty;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isTrace = Is(ref reader, "traceId"u8, "trace_id"u8);
                var isSpan = !isTrace && Is(ref reader, "spanId"u8, "span_id"u8);
                var isAttributes = !isTrace && !isSpan && reader.ValueTextEquals("attributes"u8);
                reader.Read();
                if (isTrace)
                {
                    traceId = Id(ref reader, 16);
                }
                else if (isSpan)
                {
                    spanId = Id(ref reader, 8);
                }
                else if (isAttributes)
                {
                    attributes = Attributes(ref reader, 4);
                }
                else
                {
                    reader.Skip();
                }
            }

            if (traceId is not null && spanId is not null)
            {
                (links ??= []).Add(new OtelLink(traceId, spanId, attributes));
            }
        }

        return links;
    }

    private static void ReadLogRecord(ref Utf8JsonReader reader, IReadOnlyDictionary<string, object?> resource, string place, OtlpPayload payload)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            // Not a record: nothing in it names an event or a span (as a record with no fields).
            reader.Skip();
            payload.Logs.Add(new OtelLogRecord(null, null, string.Empty, 0, Empty, null, resource, place));
            return;
        }

        var start = reader;
        string? traceId = null, spanId = null, eventName = null;
        long? time = null, observed = null;
        var attributes = Empty;
        object? body = null;
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = reader.ValueTextEquals("attributes"u8) ? 1
                    : Is(ref reader, "eventName"u8, "event_name"u8) ? 2
                    : Is(ref reader, "timeUnixNano"u8, "time_unix_nano"u8) ? 3
                    : Is(ref reader, "observedTimeUnixNano"u8, "observed_time_unix_nano"u8) ? 4
                    : Is(ref reader, "traceId"u8, "trace_id"u8) ? 5
                    : Is(ref reader, "spanId"u8, "span_id"u8) ? 6
                    : reader.ValueTextEquals("body"u8) ? 7
                    : 0;
                reader.Read();
                switch (field)
                {
                    case 1:
                        attributes = Attributes(ref reader, 8);
                        break;
                    case 2:
                        eventName = CachedString(ref reader);
                        break;
                    case 3:
                        time = Nanos(ref reader);
                        break;
                    case 4:
                        observed = Nanos(ref reader);
                        break;
                    case 5:
                        traceId = Id(ref reader, 16);
                        break;
                    case 6:
                        spanId = Id(ref reader, 8);
                        break;
                    case 7:
                        body = reader.TokenType == JsonTokenType.Null ? null : Value(ref reader);
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            payload.Problems.Add(new PayloadProblem("RC2003", place, $"a field has the wrong type: {e.Message}"));
            reader = start;
            reader.Skip();
            return;
        }

        payload.Logs.Add(new OtelLogRecord(
            traceId,
            spanId,
            eventName is { Length: > 0 } ? eventName : attributes.GetValueOrDefault("event.name") as string ?? string.Empty,
            time is > 0 ? time.Value : observed ?? 0,
            attributes,
            body,
            resource,
            place));
    }

    /// <summary>The attributes of an object that has them (a resource): its other members are skipped.</summary>
    private static IReadOnlyDictionary<string, object?> AttributesOf(ref Utf8JsonReader reader)
    {
        var attributes = Empty;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isAttributes = reader.ValueTextEquals("attributes"u8);
            reader.Read();
            if (isAttributes)
            {
                attributes = Attributes(ref reader, 8);
            }
            else
            {
                reader.Skip();
            }
        }

        return attributes;
    }

    /// <summary>A list of <c>{key, value: AnyValue}</c>; entries without a key are skipped; a repeated key keeps its last value.</summary>
    private static IReadOnlyDictionary<string, object?> Attributes(ref Utf8JsonReader reader, int capacity)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            return Empty;
        }

        Dictionary<string, object?>? attributes = null;
        for (var array = StartArray(ref reader); array && Next(ref reader);)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                reader.Skip();
                continue;
            }

            string? key = null;
            object? value = null;
            var valueBeforeKey = default(Utf8JsonReader);
            var deferred = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isKey = reader.ValueTextEquals("key"u8);
                var isValue = !isKey && reader.ValueTextEquals("value"u8);
                reader.Read();
                if (isKey)
                {
                    key = reader.TokenType == JsonTokenType.String ? CachedString(ref reader) : null;
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        reader.Skip();
                    }
                }
                else if (isValue && key is null)
                {
                    // The value comes first: read it once the key is known to exist (entries without a key are skipped).
                    valueBeforeKey = reader;
                    deferred = true;
                    value = null;
                    reader.Skip();
                }
                else if (isValue)
                {
                    deferred = false;
                    value = reader.TokenType == JsonTokenType.Null ? null : Value(ref reader);
                }
                else
                {
                    reader.Skip();
                }
            }

            if (key is null)
            {
                continue;
            }

            if (deferred)
            {
                value = valueBeforeKey.TokenType == JsonTokenType.Null ? null : Value(ref valueBeforeKey);
            }

            (attributes ??= new Dictionary<string, object?>(capacity, StringComparer.Ordinal))[key] = value;
        }

        return attributes ?? Empty;
    }

    /// <summary>An OTLP/JSON <c>AnyValue</c>: <c>{"stringValue": …}</c>, <c>{"intValue": "5"}</c>, <c>{"arrayValue": {"values": […]}}</c>, ….</summary>
    private static object? Value(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            // Not an AnyValue wrapper: take the JSON value as it is (some hand-made exports do this).
            return Plain(ref reader);
        }

        object? result = null;
        var decided = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var kind = decided ? 0
                : Is(ref reader, "stringValue"u8, "string_value"u8) ? 1
                : Is(ref reader, "boolValue"u8, "bool_value"u8) ? 2
                : Is(ref reader, "intValue"u8, "int_value"u8) ? 3
                : Is(ref reader, "doubleValue"u8, "double_value"u8) ? 4
                : Is(ref reader, "arrayValue"u8, "array_value"u8) ? 5
                : Is(ref reader, "kvlistValue"u8, "kvlist_value"u8) ? 6
                : Is(ref reader, "bytesValue"u8, "bytes_value"u8) ? 7
                : 0;
            reader.Read();
            if (kind == 0)
            {
                reader.Skip();
                continue;
            }

            // The first member that names a kind decides, as it did for a document.
            decided = true;
            var token = reader.TokenType;
            switch (kind)
            {
                case 1:
                    result = token == JsonTokenType.String ? CachedString(ref reader) : Plain(ref reader);
                    break;
                case 2:
                    result = token is JsonTokenType.True or JsonTokenType.False ? reader.GetBoolean()
                        : token == JsonTokenType.String && bool.TryParse(reader.GetString(), out var b) ? b
                        : Plain(ref reader);
                    break;
                case 3:
                    result = token == JsonTokenType.Number && reader.TryGetInt64(out var n) ? n
                        : token == JsonTokenType.String && long.TryParse(reader.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var parsed) ? parsed
                        : throw new FormatException($"intValue must be a 64-bit integer (a string or a number), got {RawText(ref reader)}");
                    break;
                case 4:
                    result = token == JsonTokenType.Number ? reader.GetDouble()
                        : token == JsonTokenType.String && double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d
                        : throw new FormatException($"doubleValue must be a number, got {RawText(ref reader)}");
                    break;
                case 5:
                    result = ValuesOf(ref reader, list: true);
                    break;
                case 6:
                    result = ValuesOf(ref reader, list: false);
                    break;
                case 7:
                    result = token == JsonTokenType.String ? Convert.FromBase64String(reader.GetString()!) : null;
                    reader.Skip();
                    break;
            }
        }

        // {} is an empty AnyValue.
        return result;
    }

    /// <summary>An <c>ArrayValue</c> or <c>KeyValueList</c>: <c>{"values": […]}</c>.</summary>
    private static object ValuesOf(ref Utf8JsonReader reader, bool list)
    {
        object result = list ? System.Array.Empty<object?>() : Empty;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return result;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isValues = reader.ValueTextEquals("values"u8);
            reader.Read();
            if (!isValues || reader.TokenType == JsonTokenType.Null)
            {
                reader.Skip();
            }
            else if (!list)
            {
                result = Attributes(ref reader, 4);
            }
            else if (reader.TokenType != JsonTokenType.StartArray)
            {
                reader.Skip();
            }
            else
            {
                var values = new List<object?>();
                for (var array = StartArray(ref reader); array && Next(ref reader);)
                {
                    values.Add(Value(ref reader));
                }

                result = values.ToArray();
            }
        }

        return result;
    }

    private static object? Plain(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.Number:
                return reader.TryGetInt64(out var n) ? n : reader.GetDouble();
            case JsonTokenType.StartArray:
                var list = new List<object?>();
                for (var array = StartArray(ref reader); array && Next(ref reader);)
                {
                    list.Add(Plain(ref reader));
                }

                return list.ToArray();
            case JsonTokenType.StartObject:
                var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var name = reader.GetString()!;
                    reader.Read();
                    map[name] = Plain(ref reader);
                }

                return map;
            default:
                return null;
        }
    }

    /// <summary>Whether the reader is on an array (anything else is skipped): then <see cref="Next"/> moves to each element.</summary>
    private static bool StartArray(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            return true;
        }

        reader.Skip();
        return false;
    }

    /// <summary>Moves to the next element's first token; the caller consumes the element (reads it to its end or skips it).</summary>
    private static bool Next(ref Utf8JsonReader reader) => reader.Read() && reader.TokenType != JsonTokenType.EndArray;

    private static bool Is(ref Utf8JsonReader reader, ReadOnlySpan<byte> name, ReadOnlySpan<byte> snake) =>
        reader.ValueTextEquals(name) || reader.ValueTextEquals(snake);

    /// <summary>A trace or span id: a non-empty string of hex or base64; anything else is no id.</summary>
    private static string? Id(ref Utf8JsonReader reader, int bytes)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }

        if (reader.ValueIsEscaped)
        {
            return reader.GetString() is { Length: > 0 } text ? OtelIds.FromText(text, bytes) : null;
        }

        return reader.ValueSpan.IsEmpty ? null : OtelIds.FromUtf8(reader.ValueSpan, bytes);
    }

    /// <summary>A fixed64 nanosecond time: OTLP/JSON writes 64-bit integers as decimal strings; numbers are accepted.</summary>
    private static long? Nanos(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                return reader.TryGetUInt64(out var n) && n <= long.MaxValue ? (long)n : null;
            case JsonTokenType.String:
                var parsed = reader.ValueIsEscaped
                    ? ulong.TryParse(reader.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var fromText)
                    : ulong.TryParse(reader.ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out fromText);
                return parsed && fromText <= long.MaxValue ? (long)fromText : null;
            default:
                reader.Skip();
                return null;
        }
    }

    /// <summary>
    /// A string value, through the per-thread cache when it needs no unescaping (attribute keys repeat in every span);
    /// null for JSON null; anything else is the wrong type.
    /// </summary>
    private static string? CachedString(ref Utf8JsonReader reader) => Utf8StringCache.Get(ref reader);

    private static string RawText(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => $"\"{reader.GetString()}\"",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        _ => Encoding.UTF8.GetString(reader.ValueSpan),
    };

    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        _ => "null",
    };

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }
}
