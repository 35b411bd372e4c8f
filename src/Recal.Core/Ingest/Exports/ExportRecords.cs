using System.Globalization;
using System.Text.Json;
using Recal.Domain;
using Recal.Ingest.Otel;
using static Recal.Ingest.Otel.AttributeValues;

namespace Recal.Ingest.Exports;

/// <summary>What the export parsers share: cutting a payload into records, and reading inputs, outputs, times and metadata.</summary>
internal static class ExportRecords
{
    /// <summary>
    /// The records of a payload with their place inside it: one object (a JSONL line), a list of objects, or an API
    /// page <c>{"data": [...]}</c>. A payload that is not JSON is a problem.
    /// </summary>
    public static List<(IReadOnlyDictionary<string, object?> Record, string Place)> Records(ReadOnlySpan<byte> payload, PayloadParts parts, string what)
    {
        var records = new List<(IReadOnlyDictionary<string, object?>, string)>();
        object? root;
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 256 });
            using var document = JsonDocument.ParseValue(ref reader);
            root = FromJson(document.RootElement);
        }
        catch (JsonException e)
        {
            parts.Problems.Add(new PayloadProblem("RC2001", "payload", $"not valid JSON at byte {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}"));
            return records;
        }

        var list = root switch
        {
            object?[] items => items,
            IReadOnlyDictionary<string, object?> page when page.TryGetValue("data", out var data) && data is object?[] items => items,
            IReadOnlyDictionary<string, object?> one => [one],
            _ => null,
        };
        if (list is null)
        {
            parts.Problems.Add(new PayloadProblem("RC2002", "payload", $"expected a {what} object, a list of them, or a page {{\"data\": [...]}}"));
            return records;
        }

        for (var i = 0; i < list.Length; i++)
        {
            if (list[i] is IReadOnlyDictionary<string, object?> record)
            {
                records.Add((record, list.Length == 1 && root is not object?[] ? string.Empty : $"[{i}]"));
            }
            else
            {
                parts.Problems.Add(new PayloadProblem("RC2002", $"[{i}]", $"expected a {what} object"));
            }
        }

        return records;
    }

    /// <summary>
    /// An input as the exports write it: text; a list of chat messages (OpenAI <c>{role, content}</c>, LangChain
    /// serialised messages); an object holding <c>messages</c>; an object with one text field (<c>{"question": "…"}</c>).
    /// Anything else is its JSON text. Null when empty.
    /// </summary>
    public static TraceInput? Input(object? value)
    {
        value = Structure(value);
        switch (value)
        {
            case null:
                return null;
            case string s:
                return string.IsNullOrWhiteSpace(s) ? null : TraceInput.FromText(s);
            case object?[] list when Messages(list) is { Count: > 0 } messages:
                return TraceInput.FromMessages(messages);
            case IReadOnlyDictionary<string, object?> map:
                if (map.TryGetValue("messages", out var inner) && Input(inner) is { } fromMessages)
                {
                    return fromMessages;
                }

                if (SingleText(map) is { } text)
                {
                    return TraceInput.FromText(text);
                }

                return map.Count == 0 ? null : TraceInput.FromText(Json(map));
            default:
                return TraceInput.FromText(AsText(value)!);
        }
    }

    /// <summary>An output as text: text; a message's content; the last message of a list; LangChain generations; OpenAI choices; an object with one text field; else JSON text.</summary>
    public static string? Output(object? value)
    {
        value = Structure(value);
        switch (value)
        {
            case null:
                return null;
            case string s:
                return s;
            case object?[] list:
                return Messages(list) is { Count: > 0 } messages ? messages[^1].Content : Json(list);
            case IReadOnlyDictionary<string, object?> map:
                if (Message(map) is { } message && (map.ContainsKey("role") || map.ContainsKey("kwargs")))
                {
                    return message.Content;
                }

                if (map.TryGetValue("generations", out var generations) && List(generations) is { Count: > 0 } outer)
                {
                    var first = List(outer[0]) is { Count: > 0 } inner ? inner[0] : outer[0];
                    if (Map(first) is { } generation)
                    {
                        return Get(generation, "text") is { Length: > 0 } text ? text : Map(generation.GetValueOrDefault("message")) is { } m && Message(m) is { } gm ? gm.Content : Json(generation);
                    }
                }

                if (map.TryGetValue("choices", out var choices) && List(choices) is { Count: > 0 } c && Map(c[0]) is { } choice)
                {
                    return Map(choice.GetValueOrDefault("message")) is { } m && Message(m) is { } cm ? cm.Content : Get(choice, "text");
                }

                if (map.TryGetValue("messages", out var messagesValue) && Output(messagesValue) is { } last)
                {
                    return last;
                }

                return SingleText(map) ?? Json(map);
            default:
                return AsText(value);
        }
    }

    private static string? SingleText(IReadOnlyDictionary<string, object?> map)
    {
        foreach (var key in (string[])["output", "answer", "text", "content", "input", "question", "query", "prompt", "completion", "response", "result"])
        {
            if (map.GetValueOrDefault(key) is string s)
            {
                return s;
            }
        }

        var strings = map.Values.OfType<string>().ToList();
        return map.Count == 1 && strings.Count == 1 ? strings[0] : null;
    }

    private static List<ChatMessage> Messages(object?[] list)
    {
        var messages = new List<ChatMessage>(list.Length);
        foreach (var item in list)
        {
            // LangChain batches: [[message, message]].
            if (item is object?[] nested)
            {
                messages.AddRange(Messages(nested));
            }
            else if (Map(item) is { } map && Message(map) is { } message)
            {
                messages.Add(message);
            }
        }

        return messages;
    }

    /// <summary>A chat message: <c>{role, content}</c> (content text or parts), or LangChain's <c>{"lc": 1, "id": [..., "HumanMessage"], "kwargs": {content}}</c> / <c>{"type": "human", "content"}</c>.</summary>
    private static ChatMessage? Message(IReadOnlyDictionary<string, object?> map)
    {
        if (Map(map.GetValueOrDefault("kwargs")) is { } kwargs)
        {
            var kind = List(map.GetValueOrDefault("id")) is { Count: > 0 } id ? AsText(id[^1]) : Get(kwargs, "type");
            return GenAiContent.Message(kwargs, RoleOf(kind)) is { } m ? m with { Role = RoleOf(kind) } : null;
        }

        if (!map.ContainsKey("role") && Get(map, "type") is { } type && map.ContainsKey("content"))
        {
            return GenAiContent.Message(map, RoleOf(type)) is { } m ? m with { Role = RoleOf(type) } : null;
        }

        return map.ContainsKey("role") || map.ContainsKey("content") ? GenAiContent.Message(map, "user") : null;
    }

    private static string RoleOf(string? kind) => kind?.ToLowerInvariant() switch
    {
        "human" or "humanmessage" or "humanmessagechunk" or "user" => "user",
        "ai" or "aimessage" or "aimessagechunk" or "assistant" => "assistant",
        "system" or "systemmessage" => "system",
        "tool" or "toolmessage" or "function" or "functionmessage" => "tool",
        var other => other ?? "user",
    };

    /// <summary>
    /// The ISO-8601 forms an export's time may take: date and time with <c>T</c> or a space between them, seconds
    /// optional, up to seven fractional digits, <c>Z</c>, an offset or none (UTC); or a date alone. Anything else is
    /// refused rather than guessed: a culture's parser reads <c>03/04/2026</c> as 4 March or 3 April.
    /// </summary>
    public static readonly string[] IsoForms =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mmK",
        "yyyy-MM-dd",
    ];

    /// <summary>
    /// An export's time: ISO-8601 in one of <see cref="IsoForms"/> (without an offset it is UTC, as both exports
    /// write it), or unix seconds or milliseconds. Null when absent or unreadable.
    /// </summary>
    public static DateTimeOffset? Time(object? value)
    {
        switch (value)
        {
            case string s when DateTimeOffset.TryParseExact(s.Trim(), IsoForms, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t):
                return t;
            case long n:
                return n > 100_000_000_000 ? DateTimeOffset.FromUnixTimeMilliseconds(n) : DateTimeOffset.FromUnixTimeSeconds(n);
            case double d when double.IsFinite(d) && d is > 0 and < 1e13:
                return d > 1e11 ? DateTimeOffset.FromUnixTimeMilliseconds((long)d) : DateTimeOffset.FromUnixTimeMilliseconds((long)(d * 1000));
            default:
                return null;
        }
    }

    /// <summary>Adds an object's scalar fields (and lists/objects as JSON text) to the metadata, keys it has kept.</summary>
    public static void AddFields(Dictionary<string, string> metadata, object? value, string prefix = "")
    {
        if (Map(Structure(value)) is not { } map)
        {
            return;
        }

        foreach (var (key, v) in map)
        {
            if (v is not null && AsText(v) is { } text && text.Length <= 1024)
            {
                metadata.TryAdd(prefix + key, text);
            }
        }
    }

    public static void Add(Dictionary<string, string> metadata, string key, object? value)
    {
        if (value is not null && AsText(value) is { Length: > 0 } text)
        {
            metadata[key] = text;
        }
    }

    public static string? Field(IReadOnlyDictionary<string, object?> record, string key) => Get(record, key);

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }
}
