using System.Text.Unicode;

namespace Recal.Ingest.Otel;

/// <summary>
/// The trace reader: one forward pass over the wire format of an <c>ExportTraceServiceRequest</c> that builds
/// <see cref="OtelSpan"/>s directly, with no message objects in between. It reads what the generated classes would
/// (<see cref="ReadTracesFromMessages"/>): fields repeated on the wire merge as protobuf merges them (the last scalar
/// wins, repeated fields append, a sub-message or an <c>AnyValue</c> of the same kind merges), a known field with
/// another wire type is skipped as an unknown one, and a malformed body anywhere (including the parts not kept: the
/// scope, the status, schema URLs) is the single RC2001 problem.
/// </summary>
public static partial class OtlpProtobufReader
{
    /// <summary>Reads a trace request body; a body that is not one (truncated, not protobuf) becomes a single problem.</summary>
    public static OtlpPayload ReadTraces(ReadOnlySpan<byte> body)
    {
        var payload = new OtlpPayload();
        try
        {
            var request = new ProtobufWire(body);
            var r = 0;
            while (request.Next(out var field, out var wire))
            {
                if (field == 1 && wire == ProtobufWire.Length)
                {
                    ReadResourceSpans(request.ReadBytes(), r++, payload);
                }
                else
                {
                    request.Skip(field, wire, 0);
                }
            }
        }
        catch (MalformedProtobufException e)
        {
            payload = new OtlpPayload();
            payload.Problems.Add(new PayloadProblem("RC2001", OtlpPayload.Whole, $"not a valid OTLP protobuf ExportTraceServiceRequest: {e.Message}"));
        }

        return payload;
    }

    /// <summary>A <c>ResourceSpans</c>: its resource first (wherever it is, and merged if repeated), then its scopes.</summary>
    private static void ReadResourceSpans(ReadOnlySpan<byte> message, int r, OtlpPayload payload)
    {
        const int depth = 1;
        Dictionary<string, object?>? resource = null;
        var first = new ProtobufWire(message);
        while (first.Next(out var field, out var wire))
        {
            if (field == 1 && wire == ProtobufWire.Length)
            {
                var fields = new ProtobufWire(first.ReadBytes());
                var inner = ProtobufWire.Enter(depth);
                while (fields.Next(out var f, out var w))
                {
                    if (f == 1 && w == ProtobufWire.Length)
                    {
                        KeyValue(fields.ReadBytes(), ref resource, 8, ProtobufWire.Enter(inner));
                    }
                    else
                    {
                        fields.Skip(f, w, inner);
                    }
                }
            }
            else if (field == 3 && wire == ProtobufWire.Length)
            {
                Text(first.ReadBytes());
            }
            else
            {
                first.Skip(field, wire, depth);
            }
        }

        var resourceAttributes = (IReadOnlyDictionary<string, object?>?)resource ?? Empty;
        var scopes = new ProtobufWire(message);
        var s = 0;
        while (scopes.Next(out var field, out var wire))
        {
            if (field == 2 && wire == ProtobufWire.Length)
            {
                ReadScopeSpans(scopes.ReadBytes(), resourceAttributes, r, s++, ProtobufWire.Enter(depth), payload);
            }
            else
            {
                // Read (and checked) in the first pass.
                scopes.Skip(field, wire, depth);
            }
        }
    }

    private static void ReadScopeSpans(ReadOnlySpan<byte> message, IReadOnlyDictionary<string, object?> resource, int r, int s, int depth, OtlpPayload payload)
    {
        var fields = new ProtobufWire(message);
        var i = 0;
        while (fields.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, ProtobufWire.Length):
                    CheckScope(fields.ReadBytes(), ProtobufWire.Enter(depth));
                    break;
                case (2, ProtobufWire.Length):
                    ReadSpan(fields.ReadBytes(), resource, r, s, i++, ProtobufWire.Enter(depth), payload);
                    break;
                case (3, ProtobufWire.Length):
                    Text(fields.ReadBytes());
                    break;
                default:
                    fields.Skip(field, wire, depth);
                    break;
            }
        }
    }

    /// <summary>An <c>InstrumentationScope</c>, which spans do not keep: read only so that a malformed one is found.</summary>
    private static void CheckScope(ReadOnlySpan<byte> message, int depth)
    {
        Dictionary<string, object?>? attributes = null;
        var fields = new ProtobufWire(message);
        while (fields.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1 or 2, ProtobufWire.Length):
                    Text(fields.ReadBytes());
                    break;
                case (3, ProtobufWire.Length):
                    KeyValue(fields.ReadBytes(), ref attributes, 4, ProtobufWire.Enter(depth));
                    break;
                default:
                    fields.Skip(field, wire, depth);
                    break;
            }
        }
    }

    private static void ReadSpan(ReadOnlySpan<byte> message, IReadOnlyDictionary<string, object?> resource, int r, int s, int i, int depth, OtlpPayload payload)
    {
        ReadOnlySpan<byte> traceId = default, spanId = default, parent = default;
        string? name = null;
        ulong start = 0, end = 0;
        Dictionary<string, object?>? attributes = null;
        List<OtelEvent>? events = null;
        List<OtelLink>? links = null;
        var fields = new ProtobufWire(message);
        while (fields.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (4, ProtobufWire.Length):
                    parent = fields.ReadBytes();
                    break;
                case (5, ProtobufWire.Length):
                    name = Text(fields.ReadBytes());
                    break;
                case (7, ProtobufWire.Fixed64):
                    start = fields.ReadFixed64();
                    break;
                case (8, ProtobufWire.Fixed64):
                    end = fields.ReadFixed64();
                    break;
                case (9, ProtobufWire.Length):
                    KeyValue(fields.ReadBytes(), ref attributes, 16, ProtobufWire.Enter(depth));
                    break;
                case (11, ProtobufWire.Length):
                    (events ??= []).Add(Event(fields.ReadBytes(), ProtobufWire.Enter(depth)));
                    break;
                case (13, ProtobufWire.Length):
                    if (Link(fields.ReadBytes(), ProtobufWire.Enter(depth)) is { } link)
                    {
                        (links ??= []).Add(link);
                    }

                    break;
                case (15, ProtobufWire.Length):
                    CheckStatus(fields.ReadBytes(), ProtobufWire.Enter(depth));
                    break;
                default:
                    SpanField(ref fields, field, wire, depth, ref traceId, ref spanId);
                    break;
            }
        }

        var trace = traceId.Length == 16 ? OtelIds.FromBytes(traceId) : null;
        var span = spanId.Length == 8 ? OtelIds.FromBytes(spanId) : null;
        if (trace is null || span is null)
        {
            var which = trace is null ? "trace_id" : "span_id";
            payload.Problems.Add(new PayloadProblem("RC2004", $"resourceSpans[{r}].scopeSpans[{s}].spans[{i}]", $"field '{which}' is missing or not a valid id ({(which == "trace_id" ? 16 : 8)} bytes, not all zeros)"));
            return;
        }

        var place = $"resourceSpans[{r}].scopeSpans[{s}].spans[{i}] (span {span})";
        if (start == 0 || start > long.MaxValue)
        {
            payload.Problems.Add(new PayloadProblem("RC2004", place, "field 'start_time_unix_nano' is missing"));
            return;
        }

        payload.Spans.Add(new OtelSpan(
            trace,
            span,
            parent.Length == 8 ? OtelIds.FromBytes(parent) : null,
            name ?? string.Empty,
            (long)start,
            end is > 0 and <= long.MaxValue ? (long)end : (long)start,
            (IReadOnlyDictionary<string, object?>?)attributes ?? Empty,
            (IReadOnlyList<OtelEvent>?)events ?? [],
            (IReadOnlyList<OtelLink>?)links ?? [],
            resource,
            place));
    }

    /// <summary>Fields 1–3, which a span and a link share (trace_id, span_id, trace_state), or any other field skipped.</summary>
    private static void SpanField(ref ProtobufWire fields, int field, int wire, int depth, ref ReadOnlySpan<byte> traceId, ref ReadOnlySpan<byte> spanId)
    {
        if (wire != ProtobufWire.Length || field is < 1 or > 3)
        {
            fields.Skip(field, wire, depth);
            return;
        }

        var bytes = fields.ReadBytes();
        if (field == 1)
        {
            traceId = bytes;
        }
        else if (field == 2)
        {
            spanId = bytes;
        }
        else
        {
            Text(bytes);
        }
    }

    private static OtelEvent Event(ReadOnlySpan<byte> message, int depth)
    {
        ulong time = 0;
        string? name = null;
        Dictionary<string, object?>? attributes = null;
        var fields = new ProtobufWire(message);
        while (fields.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (1, ProtobufWire.Fixed64):
                    time = fields.ReadFixed64();
                    break;
                case (2, ProtobufWire.Length):
                    name = Text(fields.ReadBytes());
                    break;
                case (3, ProtobufWire.Length):
                    KeyValue(fields.ReadBytes(), ref attributes, 4, ProtobufWire.Enter(depth));
                    break;
                default:
                    fields.Skip(field, wire, depth);
                    break;
            }
        }

        return new OtelEvent(name ?? string.Empty, (long)Math.Min(time, long.MaxValue), (IReadOnlyDictionary<string, object?>?)attributes ?? Empty);
    }

    /// <summary>A link; null when its ids are not 16 and 8 bytes (it is dropped, as the generated-class path drops it).</summary>
    private static OtelLink? Link(ReadOnlySpan<byte> message, int depth)
    {
        ReadOnlySpan<byte> traceId = default, spanId = default;
        Dictionary<string, object?>? attributes = null;
        var fields = new ProtobufWire(message);
        while (fields.Next(out var field, out var wire))
        {
            switch (field, wire)
            {
                case (4, ProtobufWire.Length):
                    KeyValue(fields.ReadBytes(), ref attributes, 4, ProtobufWire.Enter(depth));
                    break;
                default:
                    SpanField(ref fields, field, wire, depth, ref traceId, ref spanId);
                    break;
            }
        }

        return traceId.Length == 16 && spanId.Length == 8
            ? new OtelLink(OtelIds.FromBytes(traceId) ?? string.Empty, OtelIds.FromBytes(spanId) ?? string.Empty, (IReadOnlyDictionary<string, object?>?)attributes ?? Empty)
            : null;
    }

    /// <summary>A span's <c>Status</c>, which spans do not keep: read only so that a malformed one is found.</summary>
    private static void CheckStatus(ReadOnlySpan<byte> message, int depth)
    {
        var fields = new ProtobufWire(message);
        while (fields.Next(out var field, out var wire))
        {
            if (field == 2 && wire == ProtobufWire.Length)
            {
                Text(fields.ReadBytes());
            }
            else
            {
                fields.Skip(field, wire, depth);
            }
        }
    }

    /// <summary>
    /// One <c>KeyValue</c> into <paramref name="map"/> (made on the first): a missing key is the empty string, a missing
    /// value null, a repeated key keeps its last value; a value field repeated on the wire merges into one AnyValue.
    /// </summary>
    private static void KeyValue(ReadOnlySpan<byte> message, ref Dictionary<string, object?>? map, int capacity, int depth)
    {
        var key = string.Empty;
        var value = default(AnyValueState);
        var fields = new ProtobufWire(message);
        while (fields.Next(out var field, out var wire))
        {
            if (field == 1 && wire == ProtobufWire.Length)
            {
                key = Text(fields.ReadBytes());
            }
            else if (field == 2 && wire == ProtobufWire.Length)
            {
                value.Merge(fields.ReadBytes(), ProtobufWire.Enter(depth));
            }
            else
            {
                fields.Skip(field, wire, depth);
            }
        }

        (map ??= new Dictionary<string, object?>(capacity, StringComparer.Ordinal))[key] = value.Value;
    }

    /// <summary>
    /// An <c>AnyValue</c> as it is read, one wire occurrence after another: a later field of another kind replaces the
    /// value, a later string, bool, int, double or bytes replaces it, a later array or key-value list of the same kind
    /// appends to it (protobuf's merge of a oneof's message).
    /// </summary>
    private struct AnyValueState
    {
        private int _kind;
        private object? _scalar;
        private List<object?>? _items;
        private Dictionary<string, object?>? _map;

        public readonly object? Value => _kind switch
        {
            5 => _items is null ? System.Array.Empty<object?>() : _items.ToArray(),
            6 => (IReadOnlyDictionary<string, object?>?)_map ?? Empty,
            _ => _scalar,
        };

        public void Merge(ReadOnlySpan<byte> message, int depth)
        {
            var fields = new ProtobufWire(message);
            while (fields.Next(out var field, out var wire))
            {
                switch (field, wire)
                {
                    case (1, ProtobufWire.Length):
                        Set(1, Text(fields.ReadBytes()));
                        break;
                    case (2, ProtobufWire.Varint):
                        Set(2, fields.ReadVarint() != 0);
                        break;
                    case (3, ProtobufWire.Varint):
                        Set(3, (long)fields.ReadVarint());
                        break;
                    case (4, ProtobufWire.Fixed64):
                        Set(4, BitConverter.UInt64BitsToDouble(fields.ReadFixed64()));
                        break;
                    case (5, ProtobufWire.Length):
                        if (_kind != 5)
                        {
                            Set(5, null);
                            _items = null;
                        }

                        Items(fields.ReadBytes(), ref _items, ProtobufWire.Enter(depth));
                        break;
                    case (6, ProtobufWire.Length):
                        if (_kind != 6)
                        {
                            Set(6, null);
                            _map = null;
                        }

                        Entries(fields.ReadBytes(), ref _map, ProtobufWire.Enter(depth));
                        break;
                    case (7, ProtobufWire.Length):
                        Set(7, fields.ReadBytes().ToArray());
                        break;
                    default:
                        fields.Skip(field, wire, depth);
                        break;
                }
            }
        }

        private void Set(int kind, object? scalar)
        {
            _kind = kind;
            _scalar = scalar;
        }

        /// <summary>An <c>ArrayValue</c>'s values appended to <paramref name="items"/>.</summary>
        private static void Items(ReadOnlySpan<byte> message, ref List<object?>? items, int depth)
        {
            var fields = new ProtobufWire(message);
            while (fields.Next(out var field, out var wire))
            {
                if (field == 1 && wire == ProtobufWire.Length)
                {
                    var item = default(AnyValueState);
                    item.Merge(fields.ReadBytes(), ProtobufWire.Enter(depth));
                    (items ??= []).Add(item.Value);
                }
                else
                {
                    fields.Skip(field, wire, depth);
                }
            }
        }

        /// <summary>A <c>KeyValueList</c>'s entries added to <paramref name="map"/>.</summary>
        private static void Entries(ReadOnlySpan<byte> message, ref Dictionary<string, object?>? map, int depth)
        {
            var fields = new ProtobufWire(message);
            while (fields.Next(out var field, out var wire))
            {
                if (field == 1 && wire == ProtobufWire.Length)
                {
                    KeyValue(fields.ReadBytes(), ref map, 4, ProtobufWire.Enter(depth));
                }
                else
                {
                    fields.Skip(field, wire, depth);
                }
            }
        }
    }

    /// <summary>A string field: valid UTF-8 (as protobuf requires of <c>string</c>), repeated short ones from the per-thread cache.</summary>
    private static string Text(ReadOnlySpan<byte> utf8) =>
        utf8.IsEmpty ? string.Empty
        : Utf8.IsValid(utf8) ? Utf8StringCache.Get(utf8)
        : throw new MalformedProtobufException("a string field is not valid UTF-8");
}
