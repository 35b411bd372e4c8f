using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Recal.Ingest.Otel;

/// <summary>Reading OTLP attribute values (<see cref="OtelSpan"/>) and the JSON text some conventions put in them.</summary>
internal static class AttributeValues
{
    /// <summary>The value as a structure: a string holding a JSON object or list is parsed; anything else is returned as is.</summary>
    public static object? Structure(object? value)
    {
        if (value is not string s || s.Length < 2 || s[0] is not ('[' or '{'))
        {
            return value;
        }

        // One forward pass over the text's UTF-8 in a per-thread buffer: no document, member names from the string cache.
        var max = Encoding.UTF8.GetMaxByteCount(s.Length);
        var buffer = t_utf8 is { } reused && reused.Length >= max ? reused : max <= MaxReusedBytes ? t_utf8 = new byte[Math.Max(max, 4096)] : new byte[max];
        var length = Encoding.UTF8.GetBytes(s, buffer);
        try
        {
            var reader = new Utf8JsonReader(buffer.AsSpan(0, length), new JsonReaderOptions { MaxDepth = 64 });
            reader.Read();
            var structure = FromReader(ref reader);

            // Like a document parser, text after the value (other than white space) makes it not JSON: Read throws.
            return reader.Read() ? value : structure;
        }
        catch (JsonException)
        {
            return value;
        }
    }

    private const int MaxReusedBytes = 1 << 20;

    [ThreadStatic]
    private static byte[]? t_utf8;

    private static object? FromReader(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return Utf8StringCache.Get(ref reader);
            case JsonTokenType.True:
                return true;
            case JsonTokenType.False:
                return false;
            case JsonTokenType.Number:
                return reader.TryGetInt64(out var n) ? n : reader.GetDouble();
            case JsonTokenType.StartArray:
                var list = new List<object?>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    list.Add(FromReader(ref reader));
                }

                return list.ToArray();
            case JsonTokenType.StartObject:
                var map = new Dictionary<string, object?>(4, StringComparer.Ordinal);
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    // A repeated name keeps its last value, as JSON readers commonly do.
                    var name = Utf8StringCache.Get(ref reader)!;
                    reader.Read();
                    map[name] = FromReader(ref reader);
                }

                return map;
            default:
                return null;
        }
    }

    public static object? FromJson(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => value.TryGetInt64(out var n) ? n : value.GetDouble(),
        JsonValueKind.Array => value.EnumerateArray().Select(FromJson).ToArray(),
        JsonValueKind.Object => Object(value),
        _ => null,
    };

    private static Dictionary<string, object?> Object(JsonElement value)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            // A repeated name keeps its last value, as JSON readers commonly do.
            map[property.Name] = FromJson(property.Value);
        }

        return map;
    }

    public static IReadOnlyDictionary<string, object?>? Map(object? value) => value as IReadOnlyDictionary<string, object?>;

    public static IReadOnlyList<object?>? List(object? value) => value as object?[];

    public static string? AsText(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        _ => Json(value),
    };

    public static string? Get(IReadOnlyDictionary<string, object?> map, string key) => map.TryGetValue(key, out var v) ? AsText(v) : null;

    public static double? Number(object? value) => value switch
    {
        long l => l,
        double d => d,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    /// <summary>The value as JSON text (for metadata values that are lists or maps, and tool arguments).</summary>
    public static string Json(object? value)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, value);
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case double d:
                writer.WriteStringValue(d.ToString(CultureInfo.InvariantCulture));
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            case IReadOnlyDictionary<string, object?> map:
                writer.WriteStartObject();
                foreach (var (k, v) in map)
                {
                    writer.WritePropertyName(k);
                    Write(writer, v);
                }

                writer.WriteEndObject();
                break;
            case object?[] list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    Write(writer, item);
                }

                writer.WriteEndArray();
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static readonly SortedDictionary<int, Dictionary<string, object?>> Empty = [];

    /// <summary>
    /// Flattened lists (<c>prefix.0.message.role</c>, <c>prefix.1.message.content</c>, …) as index → (rest of the key → value),
    /// in index order.
    /// </summary>
    public static SortedDictionary<int, Dictionary<string, object?>> Indexed(IReadOnlyDictionary<string, object?> attributes, string prefix)
    {
        SortedDictionary<int, Dictionary<string, object?>>? items = null;
        foreach (var (key, value) in attributes)
        {
            if (!key.StartsWith(prefix, StringComparison.Ordinal))
            {
                continue;
            }

            items ??= [];

            var rest = key.AsSpan(prefix.Length);
            var dot = rest.IndexOf('.');
            if (dot <= 0 || !int.TryParse(rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                continue;
            }

            if (!items.TryGetValue(index, out var item))
            {
                items[index] = item = new Dictionary<string, object?>(StringComparer.Ordinal);
            }

            item[rest[(dot + 1)..].ToString()] = value;
        }

        return items ?? Empty;
    }
}
