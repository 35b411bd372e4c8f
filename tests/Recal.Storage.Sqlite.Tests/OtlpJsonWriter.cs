using System.Text;
using System.Text.Json;
using Recal.Ingest.Otel;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>Writes spans as OTLP/JSON (the file exporter's form), to compare the two encodings of the same spans.</summary>
internal static class OtlpJsonWriter
{
    /// <summary>One TracesData line per length-prefixed protobuf body.</summary>
    public static IEnumerable<string> LinesOf(byte[] stream)
    {
        for (var position = 0; position + 4 <= stream.Length;)
        {
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(stream.AsSpan(position));
            yield return Line(OtlpProtobufReader.ReadTraces(stream.AsSpan(position + 4, length)));
            position += 4 + length;
        }
    }

    public static string Line(OtlpPayload payload)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("resourceSpans");
            foreach (var group in payload.Spans.GroupBy(s => s.Resource))
            {
                json.WriteStartObject();
                json.WriteStartObject("resource");
                Attributes(json, group.Key);
                json.WriteEndObject();
                json.WriteStartArray("scopeSpans");
                json.WriteStartObject();
                json.WriteStartArray("spans");
                foreach (var span in group)
                {
                    json.WriteStartObject();
                    json.WriteString("traceId", span.TraceId);
                    json.WriteString("spanId", span.SpanId);
                    if (span.ParentSpanId is { } parent)
                    {
                        json.WriteString("parentSpanId", parent);
                    }

                    json.WriteString("name", span.Name);
                    json.WriteString("startTimeUnixNano", span.StartUnixNano.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    json.WriteString("endTimeUnixNano", span.EndUnixNano.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    Attributes(json, span.Attributes);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Attributes(Utf8JsonWriter json, IReadOnlyDictionary<string, object?> attributes)
    {
        json.WriteStartArray("attributes");
        foreach (var (key, value) in attributes)
        {
            json.WriteStartObject();
            json.WriteString("key", key);
            json.WritePropertyName("value");
            Value(json, value);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    private static void Value(Utf8JsonWriter json, object? value)
    {
        json.WriteStartObject();
        switch (value)
        {
            case string s:
                json.WriteString("stringValue", s);
                break;
            case bool b:
                json.WriteBoolean("boolValue", b);
                break;
            case long l:
                json.WriteString("intValue", l.ToString(System.Globalization.CultureInfo.InvariantCulture));
                break;
            case double d:
                json.WriteNumber("doubleValue", d);
                break;
            case object?[] list:
                json.WriteStartObject("arrayValue");
                json.WriteStartArray("values");
                foreach (var item in list)
                {
                    Value(json, item);
                }

                json.WriteEndArray();
                json.WriteEndObject();
                break;
            case IReadOnlyDictionary<string, object?> map:
                json.WriteStartObject("kvlistValue");
                json.WriteStartArray("values");
                foreach (var (k, v) in map)
                {
                    json.WriteStartObject();
                    json.WriteString("key", k);
                    json.WritePropertyName("value");
                    Value(json, v);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
                break;
        }

        json.WriteEndObject();
    }
}
