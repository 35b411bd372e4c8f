using System.Text;
using System.Text.Json;
using Recal.Diagnostics;
using Recal.Domain;

namespace Recal.Ingest;

/// <summary>The outcome of parsing one line: a trace, or why the line was rejected.</summary>
/// <param name="Dropped">With a trace: the feedback signals that could not be read and were left out, one sentence each (RC2013).</param>
public readonly record struct ParsedLine(Trace? Trace, string? ErrorCode, string? Error, string? Hint, IReadOnlyList<string>? Dropped = null)
{
    public bool IsTrace => Trace is not null;
}

/// <summary>Parses one JSONL trace line (docs/trace-format.md). Never throws on bad input.</summary>
public static class TraceLineParser
{
    public static ParsedLine Parse(ReadOnlyMemory<byte> line)
    {
        // The JSON reader checks structure, not the UTF-8 inside strings; check the bytes first (vectorised, cheap).
        var bytes = line.Span;
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return Reject("RC2001", "the line is not valid UTF-8", "each line must be one JSON object in UTF-8");
        }

        try
        {
            return ParseObject(bytes);
        }
        catch (JsonException e)
        {
            return Reject("RC2001", $"not valid JSON at byte {(e.BytePositionInLine ?? 0) + 1}: {FirstSentence(e.Message)}", "each line must be one JSON object in UTF-8");
        }
        catch (InvalidOperationException)
        {
            // The reader validates escapes only when a string is decoded: "\ud800" alone is JSON but not text.
            return Reject("RC2001", "a string holds an escaped lone surrogate (such as \\ud800), which is not valid Unicode text", LoneSurrogateHint);
        }
    }

    /// <summary>The hint for a JSON string whose <c>\u</c> escapes decode to half a surrogate pair.</summary>
    public const string LoneSurrogateHint = "a \\uD800–\\uDBFF escape must be followed by a \\uDC00–\\uDFFF one; fix or drop the character at the exporter";

    /// <summary>The timestamp forms a trace may use, for error messages and docs/trace-format.md.</summary>
    public const string TimestampForms =
        "an ISO-8601 date-time such as \"2026-06-01T09:30:00Z\" or \"2026-06-01T09:30:00+02:00\" (without an offset it is read as UTC), a date \"2026-06-01\", or unix seconds such as 1780306200";

    /// <summary>
    /// One forward pass with <see cref="Utf8JsonReader"/>: no document tree is built, which keeps parsing at a few
    /// microseconds per trace. Structural JSON errors surface as <see cref="JsonException"/>.
    /// </summary>
    private static ParsedLine ParseObject(ReadOnlySpan<byte> bytes)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { MaxDepth = 64 });
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            var kind = Kind(reader.TokenType);
            reader.Skip();
            ExpectEnd(ref reader);
            return Reject("RC2002", $"a trace must be a JSON object, got {kind}", "write one {...} object per line");
        }

        string? id = null, output = null, model = null, intent = null;
        DateTimeOffset? timestamp = null;
        TraceInput? input = null;
        var inputSeen = false;
        Dictionary<string, string>? metadata = null;
        byte[]? metadataUtf8 = null;
        var feedback = Feedback.None;
        List<string>? dropped = null;
        ParsedLine? error = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (error is not null)
            {
                reader.Skip();
                continue;
            }

            if (name.SequenceEqual("id"u8))
            {
                id = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Number => Encoding.UTF8.GetString(reader.ValueSpan),
                    JsonTokenType.Null => null,
                    _ => Fail<string>(ref error, Reject("RC2003", $"field 'id' must be a string, got {Kind(reader.TokenType)}", "use a string id, or omit it to deduplicate by content")),
                };
            }
            else if (name.SequenceEqual("timestamp"u8))
            {
                if (reader.TokenType != JsonTokenType.Null)
                {
                    timestamp = ReadTimestamp(ref reader);
                    if (timestamp is null)
                    {
                        error = Reject("RC2003", $"field 'timestamp' must be an ISO-8601 date-time or unix seconds, got {Describe(ref reader, bytes)}", "accepted: " + TimestampForms);
                    }
                }
            }
            else if (name.SequenceEqual("input"u8) || (name.SequenceEqual("messages"u8) && !inputSeen))
            {
                if (reader.TokenType == JsonTokenType.Null)
                {
                    continue;
                }

                inputSeen = true;
                input = ReadInput(ref reader, ref error);
            }
            else if (name.SequenceEqual("output"u8))
            {
                output = OptionalString(ref reader, "output", ref error);
            }
            else if (name.SequenceEqual("model"u8))
            {
                model = reader.TokenType == JsonTokenType.String ? ShortString(ref reader) : OptionalString(ref reader, "model", ref error);
            }
            else if (name.SequenceEqual("intent"u8))
            {
                intent = OptionalString(ref reader, "intent", ref error);
            }
            else if (name.SequenceEqual("metadata"u8))
            {
                var start = (int)reader.TokenStartIndex;
                metadata = ReadMetadata(ref reader, bytes, ref error);
                if (metadata is { Count: > 0 })
                {
                    metadataUtf8 = bytes[start..(int)reader.BytesConsumed].ToArray();
                }
            }
            else if (name.SequenceEqual("feedback"u8))
            {
                feedback = ReadFeedback(ref reader, bytes, ref dropped);
            }
            else
            {
                // Unknown fields are ignored: newer exporters may add some.
                reader.Skip();
            }
        }

        ExpectEnd(ref reader);
        if (error is { } failed)
        {
            return failed;
        }

        if (timestamp is null)
        {
            return Reject("RC2004", "field 'timestamp' is missing", "add an ISO-8601 date-time with offset, e.g. \"2026-06-01T09:30:00Z\", or unix seconds");
        }

        if (!inputSeen)
        {
            return Reject("RC2004", "field 'input' is missing", "add the user's input as a string or a list of {role, content} messages");
        }

        var trace = new Trace(id, timestamp.Value, input!, output, model, metadata ?? [], feedback, string.IsNullOrWhiteSpace(intent) ? null : intent)
        {
            MetadataUtf8 = metadataUtf8,
        };
        return new ParsedLine(trace, null, null, null, dropped);
    }

    private static void ExpectEnd(ref Utf8JsonReader reader)
    {
        // Reading past the root value makes the reader reject trailing content.
        while (reader.CurrentDepth > 0 && reader.Read())
        {
        }

        reader.Read();
    }

    private static TraceInput? ReadInput(ref Utf8JsonReader reader, ref ParsedLine? error)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            var text = reader.GetString()!;
            if (string.IsNullOrWhiteSpace(text))
            {
                error = Reject("RC2005", "field 'input' is empty", "a trace needs the user's input");
                return null;
            }

            return TraceInput.FromText(text);
        }

        if (reader.TokenType != JsonTokenType.StartArray)
        {
            error = Reject("RC2003", $"field 'input' must be a string or a list of messages, got {Kind(reader.TokenType)}", null);
            reader.Skip();
            return null;
        }

        var messages = new List<ChatMessage>(4);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            string? role = null, content = null;
            if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isRole = reader.ValueTextEquals("role"u8);
                    var isContent = reader.ValueTextEquals("content"u8);
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String && (isRole || isContent))
                    {
                        if (isRole)
                        {
                            role = reader.GetString();
                        }
                        else
                        {
                            content = reader.GetString();
                        }
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

            if (role is null || content is null)
            {
                error ??= Reject("RC2003", "every message in 'input' needs 'role' and 'content' strings", "e.g. {\"role\": \"user\", \"content\": \"...\"}");
                continue;
            }

            messages.Add(new ChatMessage(role, content));
        }

        if (messages.Count == 0)
        {
            error ??= Reject("RC2005", "field 'input' is an empty list of messages", "a trace needs the user's input");
            return null;
        }

        return TraceInput.FromMessages(messages);
    }

    private static Dictionary<string, string>? ReadMetadata(ref Utf8JsonReader reader, ReadOnlySpan<byte> bytes, ref ParsedLine? error)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = Reject("RC2003", $"field 'metadata' must be an object, got {Kind(reader.TokenType)}", "e.g. {\"plan\": \"pro\", \"locale\": \"en-US\"}");
            reader.Skip();
            return null;
        }

        var metadata = new Dictionary<string, string>(8, StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var key = ShortString(ref reader);
            reader.Read();
            metadata[key] = reader.TokenType == JsonTokenType.String ? ShortString(ref reader) : RawText(ref reader, bytes);
        }

        return metadata;
    }

    /// <summary>The raw JSON text of the current value (numbers, booleans, nested objects), leaving the reader at its end.</summary>
    private static string RawText(ref Utf8JsonReader reader, ReadOnlySpan<byte> bytes)
    {
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            return Encoding.UTF8.GetString(bytes[start..(int)reader.BytesConsumed]);
        }

        return Encoding.UTF8.GetString(reader.ValueSpan);
    }

    private static string? OptionalString(ref Utf8JsonReader reader, string field, ref ParsedLine? error)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        if (reader.TokenType != JsonTokenType.Null)
        {
            error = Reject("RC2003", $"field '{field}' must be a string, got {Kind(reader.TokenType)}", null);
            reader.Skip();
        }

        return null;
    }

    private static DateTimeOffset? ReadTimestamp(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var seconds) && double.IsFinite(seconds)
            && seconds is > -62135596800 and < 253402300799)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return null;
        }

        // Only the ISO-8601 profile System.Text.Json reads: a culture's parser would read 01/06/2026 as 6 January.
        if (!reader.TryGetDateTimeOffset(out var iso))
        {
            return null;
        }

        // Without an offset the reader assumes the machine's zone; the format says UTC.
        return reader.TryGetDateTime(out var local) && local.Kind == DateTimeKind.Unspecified
            ? new DateTimeOffset(DateTime.SpecifyKind(local, DateTimeKind.Utc))
            : iso.ToUniversalTime();
    }

    /// <summary>The current string token, through the per-thread cache when it needs no unescaping.</summary>
    private static string ShortString(ref Utf8JsonReader reader) =>
        reader.ValueIsEscaped || reader.HasValueSequence ? reader.GetString()! : Utf8StringCache.Get(reader.ValueSpan);

    /// <summary>The feedback field name without allocating for the known ones.</summary>
    private static string FeedbackField(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("thumbs"u8) ? "thumbs"
        : reader.ValueTextEquals("csat"u8) ? "csat"
        : reader.ValueTextEquals("escalated"u8) ? "escalated"
        : reader.ValueTextEquals("continued"u8) ? "continued"
        : reader.ValueTextEquals("completed"u8) ? "completed"
        : reader.ValueTextEquals("follow_up"u8) ? "follow_up"
        : reader.GetString()!;

    private static T? Fail<T>(ref ParsedLine? error, ParsedLine failure)
    {
        error = failure;
        return default;
    }

    private static Feedback ReadFeedback(ref Utf8JsonReader reader, ReadOnlySpan<byte> bytes, ref List<string>? dropped)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return Feedback.None;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            (dropped ??= []).Add($"field 'feedback' must be an object, got {Kind(reader.TokenType)}");
            reader.Skip();
            return Feedback.None;
        }

        int? thumbs = null;
        double? csat = null;
        bool? escalated = null, continued = null, completed = null, followUp = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var field = FeedbackField(ref reader);
            reader.Read();
            if (reader.TokenType == JsonTokenType.Null)
            {
                reader.Skip();
                continue;
            }

            switch (field)
            {
                case "thumbs":
                    thumbs = reader.TokenType switch
                    {
                        JsonTokenType.String when reader.ValueTextEquals("up"u8) => 1,
                        JsonTokenType.String when reader.ValueTextEquals("down"u8) => -1,
                        JsonTokenType.True => 1,
                        JsonTokenType.False => -1,
                        JsonTokenType.Number when reader.TryGetInt32(out var n) && n is 1 or -1 => n,
                        _ => null,
                    };
                    if (thumbs is null)
                    {
                        (dropped ??= []).Add($"field 'feedback.thumbs' must be \"up\", \"down\", 1, -1, true or false, got {Describe(ref reader, bytes)}");
                    }

                    break;
                case "csat":
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var value) && value is >= 1 and <= 5)
                    {
                        csat = value;
                    }
                    else
                    {
                        (dropped ??= []).Add($"field 'feedback.csat' must be a number from 1 to 5, got {Describe(ref reader, bytes)}");
                    }

                    break;
                case "escalated" or "continued" or "completed" or "follow_up":
                    if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                    {
                        (dropped ??= []).Add($"field 'feedback.{field}' must be true or false, got {Describe(ref reader, bytes)}");
                        break;
                    }

                    var flag = reader.GetBoolean();
                    if (field == "escalated")
                    {
                        escalated = flag;
                    }
                    else if (field == "continued")
                    {
                        continued = flag;
                    }
                    else if (field == "completed")
                    {
                        completed = flag;
                    }
                    else
                    {
                        followUp = flag;
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return new Feedback(thumbs, csat, escalated, continued, completed, followUp);
    }

    private static ParsedLine Reject(string code, string message, string? hint) => new(null, code, message, hint);

    private static string Kind(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "a list",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        _ => "null",
    };

    /// <summary>The current value as it was written, cut at 40 characters, for error messages.</summary>
    private static string Describe(ref Utf8JsonReader reader, ReadOnlySpan<byte> bytes)
    {
        var raw = reader.TokenType == JsonTokenType.String ? "\"" + reader.GetString() + "\"" : RawText(ref reader, bytes);
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
