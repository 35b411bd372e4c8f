using System.Text.Json;
using Recal.Domain;

namespace Recal.Storage;

/// <summary>The JSON columns of a stored trace, as every store writes and reads them: metadata as an object, chat input as an array.</summary>
public static class StoredTraceJson
{
    /// <summary>How stores write the JSON: non-ASCII text as it is, not escaped.</summary>
    public static JsonWriterOptions WriterOptions { get; } = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Metadata as a JSON object of strings.</summary>
    public static void WriteMetadata(Utf8JsonWriter json, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(metadata);
        json.WriteStartObject();
        foreach (var (name, value) in metadata)
        {
            json.WriteString(name, value);
        }

        json.WriteEndObject();
    }

    /// <summary>Chat messages as a JSON array of objects with <c>role</c> and <c>content</c>.</summary>
    public static void WriteMessages(Utf8JsonWriter json, IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(messages);
        json.WriteStartArray();
        foreach (var message in messages)
        {
            json.WriteStartObject();
            json.WriteString("role", message.Role);
            json.WriteString("content", message.Content);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>Metadata as ingest keeps it: scalars in their JSON spelling, nested values as JSON text.</summary>
    public static Dictionary<string, string> ReadMetadata(string json)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(json);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            metadata[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Null => "null",
                _ => property.Value.GetRawText(),
            };
        }

        return metadata;
    }

    /// <summary>Chat messages from an array of objects with <c>role</c> and <c>content</c>.</summary>
    public static IReadOnlyList<ChatMessage> ReadMessages(string json)
    {
        using var document = JsonDocument.Parse(json);
        return [.. document.RootElement.EnumerateArray().Select(m => new ChatMessage(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!))];
    }
}
