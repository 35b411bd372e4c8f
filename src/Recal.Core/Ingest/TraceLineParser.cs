using System.Globalization;
using System.Text.Json;
using Recal.Diagnostics;
using Recal.Domain;

namespace Recal.Ingest;

/// <summary>The outcome of parsing one line: a trace, or why the line was rejected.</summary>
public readonly record struct ParsedLine(Trace? Trace, string? ErrorCode, string? Error, string? Hint)
{
    public bool IsTrace => Trace is not null;
}

/// <summary>Parses one JSONL trace line (docs/trace-format.md). Never throws on bad input.</summary>
public static class TraceLineParser
{
    private static readonly JsonDocumentOptions Options = new() { MaxDepth = 64 };

    public static ParsedLine Parse(ReadOnlyMemory<byte> line)
    {
        // The JSON reader checks structure, not the UTF-8 inside strings; check the bytes first (vectorised, cheap).
        if (!System.Text.Unicode.Utf8.IsValid(line.Span))
        {
            return Reject("RC2001", "the line is not valid UTF-8", "each line must be one JSON object in UTF-8");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line, Options);
        }
        catch (JsonException e)
        {
            return Reject("RC2001", $"not valid JSON at byte {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}", "each line must be one JSON object in UTF-8");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Reject("RC2002", $"a trace must be a JSON object, got {Kind(root)}", "write one {...} object per line");
            }

            string? id = null;
            if (root.TryGetProperty("id", out var idElement) && idElement.ValueKind != JsonValueKind.Null)
            {
                if (idElement.ValueKind == JsonValueKind.String)
                {
                    id = idElement.GetString();
                }
                else if (idElement.ValueKind == JsonValueKind.Number)
                {
                    id = idElement.GetRawText();
                }
                else
                {
                    return Reject("RC2003", $"field 'id' must be a string, got {Kind(idElement)}", "use a string id, or omit it to deduplicate by content");
                }
            }

            if (!root.TryGetProperty("timestamp", out var tsElement) || tsElement.ValueKind == JsonValueKind.Null)
            {
                return Reject("RC2004", "field 'timestamp' is missing", "add an ISO-8601 date-time with offset, e.g. \"2026-06-01T09:30:00Z\", or unix seconds");
            }

            if (!TryTimestamp(tsElement, out var timestamp))
            {
                return Reject("RC2003", $"field 'timestamp' must be an ISO-8601 date-time or unix seconds, got {Describe(tsElement)}", "e.g. \"2026-06-01T09:30:00Z\" or 1780306200");
            }

            var hasInput = root.TryGetProperty("input", out var inputElement) && inputElement.ValueKind != JsonValueKind.Null;
            if (!hasInput && root.TryGetProperty("messages", out var messagesElement) && messagesElement.ValueKind != JsonValueKind.Null)
            {
                inputElement = messagesElement;
                hasInput = true;
            }

            if (!hasInput)
            {
                return Reject("RC2004", "field 'input' is missing", "add the user's input as a string or a list of {role, content} messages");
            }

            TraceInput input;
            if (inputElement.ValueKind == JsonValueKind.String)
            {
                var text = inputElement.GetString()!;
                if (string.IsNullOrWhiteSpace(text))
                {
                    return Reject("RC2005", "field 'input' is empty", "a trace needs the user's input");
                }

                input = TraceInput.FromText(text);
            }
            else if (inputElement.ValueKind == JsonValueKind.Array)
            {
                var messages = new List<ChatMessage>(inputElement.GetArrayLength());
                foreach (var message in inputElement.EnumerateArray())
                {
                    if (message.ValueKind != JsonValueKind.Object
                        || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String
                        || !message.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                    {
                        return Reject("RC2003", "every message in 'input' needs 'role' and 'content' strings", "e.g. {\"role\": \"user\", \"content\": \"...\"}");
                    }

                    messages.Add(new ChatMessage(role.GetString()!, content.GetString()!));
                }

                if (messages.Count == 0)
                {
                    return Reject("RC2005", "field 'input' is an empty list of messages", "a trace needs the user's input");
                }

                input = TraceInput.FromMessages(messages);
            }
            else
            {
                return Reject("RC2003", $"field 'input' must be a string or a list of messages, got {Kind(inputElement)}", null);
            }

            if (!OptionalString(root, "output", out var output) || !OptionalString(root, "model", out var model) || !OptionalString(root, "intent", out var intent))
            {
                var field = !OptionalString(root, "output", out _) ? "output" : !OptionalString(root, "model", out _) ? "model" : "intent";
                return Reject("RC2003", $"field '{field}' must be a string, got {Kind(root.GetProperty(field))}", null);
            }

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("metadata", out var metadataElement) && metadataElement.ValueKind != JsonValueKind.Null)
            {
                if (metadataElement.ValueKind != JsonValueKind.Object)
                {
                    return Reject("RC2003", $"field 'metadata' must be an object, got {Kind(metadataElement)}", "e.g. {\"plan\": \"pro\", \"locale\": \"en-US\"}");
                }

                foreach (var property in metadataElement.EnumerateObject())
                {
                    metadata[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
            }

            var feedback = Feedback.None;
            if (root.TryGetProperty("feedback", out var feedbackElement) && feedbackElement.ValueKind != JsonValueKind.Null)
            {
                if (feedbackElement.ValueKind != JsonValueKind.Object)
                {
                    return Reject("RC2003", $"field 'feedback' must be an object, got {Kind(feedbackElement)}", null);
                }

                var error = ReadFeedback(feedbackElement, out feedback);
                if (error is not null)
                {
                    return Reject("RC2003", error, null);
                }
            }

            return new ParsedLine(new Trace(id, timestamp, input, output, model, metadata, feedback, string.IsNullOrWhiteSpace(intent) ? null : intent), null, null, null);
        }
    }

    private static string? ReadFeedback(JsonElement element, out Feedback feedback)
    {
        feedback = Feedback.None;
        int? thumbs = null;
        if (element.TryGetProperty("thumbs", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            thumbs = t.ValueKind switch
            {
                JsonValueKind.String when t.GetString() is "up" => 1,
                JsonValueKind.String when t.GetString() is "down" => -1,
                JsonValueKind.True => 1,
                JsonValueKind.False => -1,
                JsonValueKind.Number when t.TryGetInt32(out var n) && n is 1 or -1 => n,
                _ => 0,
            };
            if (thumbs == 0)
            {
                return $"field 'feedback.thumbs' must be \"up\", \"down\", 1, -1, true or false, got {Describe(t)}";
            }
        }

        double? csat = null;
        if (element.TryGetProperty("csat", out var c) && c.ValueKind != JsonValueKind.Null)
        {
            if (c.ValueKind != JsonValueKind.Number || !c.TryGetDouble(out var value) || value < 1 || value > 5)
            {
                return $"field 'feedback.csat' must be a number from 1 to 5, got {Describe(c)}";
            }

            csat = value;
        }

        bool? escalated = null, continued = null, completed = null, followUp = null;
        foreach (var (name, setter) in new (string, Action<bool>)[]
                 {
                     ("escalated", v => escalated = v), ("continued", v => continued = v),
                     ("completed", v => completed = v), ("follow_up", v => followUp = v),
                 })
        {
            if (element.TryGetProperty(name, out var flag) && flag.ValueKind != JsonValueKind.Null)
            {
                if (flag.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    return $"field 'feedback.{name}' must be true or false, got {Describe(flag)}";
                }

                setter(flag.GetBoolean());
            }
        }

        feedback = new Feedback(thumbs, csat, escalated, continued, completed, followUp);
        return null;
    }

    private static bool TryTimestamp(JsonElement element, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (element.ValueKind == JsonValueKind.Number && element.TryGetDouble(out var seconds) && double.IsFinite(seconds)
            && seconds is > -62135596800 and < 253402300799)
        {
            timestamp = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));
            return true;
        }

        return element.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(element.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out timestamp);
    }

    private static bool OptionalString(JsonElement root, string name, out string? value)
    {
        value = null;
        if (!root.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        value = element.GetString();
        return true;
    }

    private static ParsedLine Reject(string code, string message, string? hint) => new(null, code, message, hint);

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static string Describe(JsonElement element)
    {
        var raw = element.GetRawText();
        return raw.Length > 40 ? raw[..40] + "…" : raw;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }

    internal static Diagnostic ToDiagnostic(ParsedLine line, string file, int lineNumber) =>
        new(Severity.Error, line.ErrorCode!, line.Error!, new SourceLocation(file, lineNumber), line.Hint);
}
