using Recal.Domain;
using static Recal.Ingest.Otel.AttributeValues;

namespace Recal.Ingest.Otel;

/// <summary>What one span says about a model interaction, in whichever convention it was written.</summary>
internal sealed class SpanContent
{
    public bool IsGenAi { get; set; }

    /// <summary>gen_ai.operation.name (chat, invoke_agent, execute_tool, …) or the OpenInference span kind in lower case.</summary>
    public string? Operation { get; set; }

    public List<ChatMessage>? Input { get; set; }

    public string? InputText { get; set; }

    public List<ChatMessage>? Output { get; set; }

    public string? OutputText { get; set; }

    public string? Model { get; set; }

    public string? ConversationId { get; set; }

    public bool HasInput => Input is { Count: > 0 } || !string.IsNullOrWhiteSpace(InputText);

    public bool HasOutput => Output is { Count: > 0 } || OutputText is not null;

    /// <summary>The answer as one text: the last output message's text, or the output value.</summary>
    public string? Answer => Output is { Count: > 0 } output ? output[^1].Content : OutputText;
}

/// <summary>
/// Reads a span's model interaction from the OpenTelemetry GenAI semantic conventions, every generation in use
/// (gen_ai.input.messages / output.messages / system_instructions, structured or JSON text; the
/// gen_ai.client.inference.operation.details event; the v1.36 gen_ai.{system,user,assistant,tool}.message and
/// gen_ai.choice events; the v1.26 gen_ai.content.prompt / completion events; flattened gen_ai.prompt.{i}.role|content),
/// and from OpenInference (llm.input_messages.{i}.message.*, input.value / output.value, llm.model_name).
/// </summary>
internal static class GenAiContent
{
    /// <summary>Attributes that hold content rather than metadata: never copied into a trace's metadata.</summary>
    public static bool IsContentKey(string key) =>
        key is "gen_ai.input.messages" or "gen_ai.output.messages" or "gen_ai.system_instructions" or "gen_ai.tool.definitions"
            or "gen_ai.prompt" or "gen_ai.completion" or "input.value" or "output.value" or "llm.prompts" or "metadata" or "tag.tags"
            or "llm.invocation_parameters" or "llm.prompt_template.template" or "llm.prompt_template.variables"
        || key.StartsWith("gen_ai.prompt.", StringComparison.Ordinal)
        || key.StartsWith("gen_ai.completion.", StringComparison.Ordinal)
        || key.StartsWith("llm.input_messages.", StringComparison.Ordinal)
        || key.StartsWith("llm.output_messages.", StringComparison.Ordinal)
        || key.StartsWith("llm.tools.", StringComparison.Ordinal)
        || key.StartsWith("annotations.", StringComparison.Ordinal)
        || key.StartsWith("retrieval.documents.", StringComparison.Ordinal);

    public static SpanContent Read(OtelSpan span, IReadOnlyList<OtelEvent> events)
    {
        var a = span.Attributes;
        var content = new SpanContent
        {
            Operation = Get(a, "gen_ai.operation.name") ?? Get(a, "openinference.span.kind")?.ToLowerInvariant(),
            Model = Get(a, "gen_ai.response.model") ?? Get(a, "gen_ai.request.model") ?? Get(a, "llm.model_name"),
            ConversationId = Get(a, "gen_ai.conversation.id") ?? Get(a, "session.id"),
        };
        content.IsGenAi = content.Operation is not null || a.Keys.Any(k => k.StartsWith("gen_ai.", StringComparison.Ordinal) || k.StartsWith("llm.", StringComparison.Ordinal))
            || events.Any(e => e.Name.StartsWith("gen_ai.", StringComparison.Ordinal));

        // Latest conventions: structured (or JSON-text) message lists on the span or on the inference-details event.
        var details = events.FirstOrDefault(e => e.Name == "gen_ai.client.inference.operation.details");
        var source = details is null ? a : Combine(a, details.Attributes, details.Body);
        content.Input = MessagesOf(source.GetValueOrDefault("gen_ai.input.messages"));
        content.Output = MessagesOf(source.GetValueOrDefault("gen_ai.output.messages"));
        if (Instructions(Structure(source.GetValueOrDefault("gen_ai.system_instructions"))) is { } system && content.Input is not null)
        {
            content.Input.Insert(0, new ChatMessage("system", system));
        }

        // v1.36 events, one per message, and gen_ai.choice for the answer.
        if (content.Input is null && events.Any(e => e.Name is "gen_ai.system.message" or "gen_ai.user.message" or "gen_ai.assistant.message" or "gen_ai.tool.message"))
        {
            content.Input = [];
            foreach (var e in events)
            {
                if (e.Name is "gen_ai.system.message" or "gen_ai.user.message" or "gen_ai.assistant.message" or "gen_ai.tool.message"
                    && EventMessage(e, e.Name["gen_ai.".Length..^".message".Length]) is { } message)
                {
                    content.Input.Add(message);
                }
            }
        }

        if (content.Output is null && events.Where(e => e.Name == "gen_ai.choice").ToList() is { Count: > 0 } choices)
        {
            content.Output = [];
            foreach (var choice in choices)
            {
                var body = EventBody(choice);
                var message = Map(body?.GetValueOrDefault("message")) ?? body;
                if (message is not null && Message(message, "assistant") is { } m)
                {
                    content.Output.Add(m);
                }
            }
        }

        // v1.26 events: the whole prompt and completion as one attribute each.
        if (content.Input is null && events.FirstOrDefault(e => e.Name == "gen_ai.content.prompt") is { } prompt)
        {
            content.Input = MessagesOrText(prompt.Attributes.GetValueOrDefault("gen_ai.prompt") ?? prompt.Body, "user");
        }

        if (content.Output is null && events.FirstOrDefault(e => e.Name == "gen_ai.content.completion") is { } completion)
        {
            content.Output = MessagesOrText(completion.Attributes.GetValueOrDefault("gen_ai.completion") ?? completion.Body, "assistant");
        }

        // Flattened attributes (gen_ai.prompt.0.role, …), or the whole prompt in one attribute.
        content.Input ??= Flattened(a, "gen_ai.prompt.", "role", "content", "user") ?? MessagesOrText(a.GetValueOrDefault("gen_ai.prompt"), "user");
        content.Output ??= Flattened(a, "gen_ai.completion.", "role", "content", "assistant") ?? MessagesOrText(a.GetValueOrDefault("gen_ai.completion"), "assistant");

        // OpenInference.
        content.Input ??= OpenInferenceMessages(a, "llm.input_messages.");
        content.Output ??= OpenInferenceMessages(a, "llm.output_messages.");
        if (content.Input is null && a.GetValueOrDefault("input.value") is { } inputValue)
        {
            content.InputText = AsText(inputValue);
        }

        if (content.Output is null && a.GetValueOrDefault("output.value") is { } outputValue)
        {
            content.OutputText = AsText(outputValue);
        }

        if (content.Input is { Count: 0 })
        {
            content.Input = null;
        }

        if (content.Output is { Count: 0 })
        {
            content.Output = null;
        }

        return content;
    }

    private static Dictionary<string, object?> Combine(IReadOnlyDictionary<string, object?> first, IReadOnlyDictionary<string, object?> second, object? body)
    {
        var combined = new Dictionary<string, object?>(first, StringComparer.Ordinal);
        foreach (var (k, v) in Map(body) ?? new Dictionary<string, object?>())
        {
            combined[k] = v;
        }

        foreach (var (k, v) in second)
        {
            combined[k] = v;
        }

        return combined;
    }

    /// <summary>
    /// The messages of a <c>gen_ai.*.messages</c> attribute: JSON text of the common shape (text parts only) read
    /// straight into messages; any other text or structure through <see cref="Messages"/>, with the same result.
    /// </summary>
    public static List<ChatMessage>? MessagesOf(object? value) =>
        value is string text && TextPartMessages.Read(text) is { } messages ? messages : Messages(Structure(value));

    /// <summary>A list of messages: GenAI <c>{role, parts: [...]}</c>, or chat-completions style <c>{role, content, tool_calls}</c>.</summary>
    public static List<ChatMessage>? Messages(object? value)
    {
        if (List(value) is not { } list)
        {
            return null;
        }

        var messages = new List<ChatMessage>(list.Count);
        foreach (var item in list)
        {
            if (Map(item) is { } map && Message(map, "user") is { } message)
            {
                messages.Add(message);
            }
        }

        return messages;
    }

    private static List<ChatMessage>? MessagesOrText(object? value, string role) => Structure(value) switch
    {
        null => null,
        object?[] list => Messages(list),
        IReadOnlyDictionary<string, object?> map => Message(map, role) is { } m ? [m] : null,
        var other => AsText(other) is { } text ? [new ChatMessage(role, text)] : null,
    };

    public static ChatMessage? Message(IReadOnlyDictionary<string, object?> map, string defaultRole)
    {
        var role = Get(map, "role") ?? defaultRole;
        var pieces = new List<string>();
        if (List(map.GetValueOrDefault("parts")) is { } parts)
        {
            foreach (var part in parts)
            {
                if (Map(part) is { } p && Part(p) is { } piece)
                {
                    pieces.Add(piece);
                }
            }
        }

        switch (Structure(map.GetValueOrDefault("content")))
        {
            case string s:
                pieces.Add(s);
                break;
            case object?[] list:
                foreach (var item in list)
                {
                    if (Map(item) is { } p && Part(p) is { } piece)
                    {
                        pieces.Add(piece);
                    }
                    else if (item is string s2)
                    {
                        pieces.Add(s2);
                    }
                }

                break;
        }

        foreach (var call in List(map.GetValueOrDefault("tool_calls")) ?? [])
        {
            if (Map(call) is { } c)
            {
                var function = Map(c.GetValueOrDefault("function")) ?? c;
                pieces.Add(ToolCall(Get(function, "name"), function.GetValueOrDefault("arguments")));
            }
        }

        return pieces.Count == 0 ? null : new ChatMessage(role, string.Join('\n', pieces));
    }

    /// <summary>One message part: text as it is, a tool call as <c>name(arguments)</c>, a tool result as its text.</summary>
    private static string? Part(IReadOnlyDictionary<string, object?> part)
    {
        var type = Get(part, "type");
        return type switch
        {
            "tool_call" => ToolCall(Get(part, "name"), part.GetValueOrDefault("arguments")),
            "tool_call_response" => AsText(part.GetValueOrDefault("response") ?? part.GetValueOrDefault("result")),
            "reasoning" => null,
            _ => Get(part, "content") ?? Get(part, "text"),
        };
    }

    private static string ToolCall(string? name, object? arguments)
    {
        var args = arguments switch
        {
            null => string.Empty,
            string s => s,
            _ => Json(arguments),
        };
        return $"{name ?? "tool"}({args})";
    }

    private static string? Instructions(object? value) => value switch
    {
        null => null,
        string s => s,
        object?[] parts => string.Join('\n', parts.Select(p => Map(p) is { } m ? Part(m) : AsText(p)).Where(p => p is not null)) is { Length: > 0 } joined ? joined : null,
        _ => AsText(value),
    };

    private static IReadOnlyDictionary<string, object?>? EventBody(OtelEvent e) =>
        Map(Structure(e.Body)) ?? Map(Structure(e.Attributes.GetValueOrDefault("gen_ai.event.content"))) ?? (e.Attributes.Count > 0 ? e.Attributes : null);

    private static ChatMessage? EventMessage(OtelEvent e, string role)
    {
        var body = EventBody(e);
        if (body is null)
        {
            return e.Body is string text ? new ChatMessage(role, text) : null;
        }

        return Message(body, role) is { } m ? m with { Role = Get(body, "role") ?? role } : null;
    }

    private static List<ChatMessage>? Flattened(IReadOnlyDictionary<string, object?> attributes, string prefix, string roleKey, string contentKey, string defaultRole)
    {
        var items = Indexed(attributes, prefix);
        if (items.Count == 0)
        {
            return null;
        }

        var messages = new List<ChatMessage>(items.Count);
        foreach (var item in items.Values)
        {
            if (AsText(item.GetValueOrDefault(contentKey)) is { } text)
            {
                messages.Add(new ChatMessage(AsText(item.GetValueOrDefault(roleKey)) ?? defaultRole, text));
            }
        }

        return messages;
    }

    private static List<ChatMessage>? OpenInferenceMessages(IReadOnlyDictionary<string, object?> attributes, string prefix)
    {
        var items = Indexed(attributes, prefix);
        if (items.Count == 0)
        {
            return null;
        }

        var messages = new List<ChatMessage>(items.Count);
        foreach (var item in items.Values)
        {
            var role = AsText(item.GetValueOrDefault("message.role")) ?? "user";
            var pieces = new List<string>();
            if (AsText(item.GetValueOrDefault("message.content")) is { } text)
            {
                pieces.Add(text);
            }

            foreach (var part in Indexed(item, "message.contents.").Values)
            {
                if (AsText(part.GetValueOrDefault("message_content.text")) is { } partText)
                {
                    pieces.Add(partText);
                }
            }

            foreach (var call in Indexed(item, "message.tool_calls.").Values)
            {
                pieces.Add(ToolCall(AsText(call.GetValueOrDefault("tool_call.function.name")), call.GetValueOrDefault("tool_call.function.arguments")));
            }

            if (pieces.Count > 0)
            {
                messages.Add(new ChatMessage(role, string.Join('\n', pieces)));
            }
        }

        return messages;
    }
}

/// <summary>
/// The common shape of GenAI message lists, read in one forward pass without building maps:
/// <c>[{"role": "user", "parts": [{"type": "text", "content": "…"}]}, …]</c>. Anything else (another part type,
/// a member other than role, parts, finish_reason and name, a repeated member, content outside parts) makes it
/// give up, and the caller reads the text the general way; what it returns is what the general way returns.
/// </summary>
internal static class TextPartMessages
{
    public static List<ChatMessage>? Read(string text)
    {
        if (text.Length < 2 || text[0] != '[')
        {
            return null;
        }

        var max = System.Text.Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var length = System.Text.Encoding.UTF8.GetBytes(text, rented);
            var reader = new System.Text.Json.Utf8JsonReader(rented.AsSpan(0, length), new System.Text.Json.JsonReaderOptions { MaxDepth = 64 });
            return ReadList(ref reader);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static List<ChatMessage>? ReadList(ref System.Text.Json.Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartArray)
        {
            return null;
        }

        var messages = new List<ChatMessage>(2);
        while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndArray)
        {
            if (reader.TokenType != System.Text.Json.JsonTokenType.StartObject || !ReadMessage(ref reader, out var message))
            {
                return null;
            }

            if (message is not null)
            {
                messages.Add(message);
            }
        }

        // Like the general reader: text after the list (other than white space) makes the attribute not JSON.
        return reader.TokenType == System.Text.Json.JsonTokenType.EndArray && !reader.Read() ? messages : null;
    }

    /// <summary>One message object; false when it is not of the common shape. A message without text is null, as the general way skips it.</summary>
    private static bool ReadMessage(ref System.Text.Json.Utf8JsonReader reader, out ChatMessage? message)
    {
        message = null;
        string? role = null;
        string? joined = null;
        bool seenRole = false, seenParts = false, seenFinish = false, seenName = false;
        while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped)
            {
                return false;
            }

            if (reader.ValueTextEquals("role"u8) && !seenRole)
            {
                seenRole = true;
                reader.Read();
                if (reader.TokenType != System.Text.Json.JsonTokenType.String)
                {
                    return false;
                }

                role = Utf8StringCache.Get(ref reader);
            }
            else if (reader.ValueTextEquals("parts"u8) && !seenParts)
            {
                seenParts = true;
                reader.Read();
                if (reader.TokenType != System.Text.Json.JsonTokenType.StartArray || !ReadParts(ref reader, out joined))
                {
                    return false;
                }
            }
            else if ((reader.ValueTextEquals("finish_reason"u8) && !seenFinish) || (reader.ValueTextEquals("name"u8) && !seenName))
            {
                // Read by nobody: a string here changes nothing, anything else is left to the general way.
                seenFinish |= reader.ValueTextEquals("finish_reason"u8);
                seenName |= reader.ValueTextEquals("name"u8);
                reader.Read();
                if (reader.TokenType != System.Text.Json.JsonTokenType.String)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        message = joined is null ? null : new ChatMessage(role ?? "user", joined);
        return reader.TokenType == System.Text.Json.JsonTokenType.EndObject;
    }

    /// <summary>The text parts joined by newlines (null when there is none); false when a part is not a text part.</summary>
    private static bool ReadParts(ref System.Text.Json.Utf8JsonReader reader, out string? joined)
    {
        joined = null;
        List<string>? more = null;
        while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndArray)
        {
            if (reader.TokenType != System.Text.Json.JsonTokenType.StartObject || ReadTextPart(ref reader) is not { } piece)
            {
                return false;
            }

            if (joined is null)
            {
                joined = piece;
            }
            else
            {
                (more ??= [joined]).Add(piece);
            }
        }

        if (more is not null)
        {
            joined = string.Join('\n', more);
        }

        return true;
    }

    /// <summary><c>{"type": "text", "content": "…"}</c> (members in any order); null for any other part.</summary>
    private static string? ReadTextPart(ref System.Text.Json.Utf8JsonReader reader)
    {
        string? content = null;
        var text = false;
        bool seenType = false, seenContent = false;
        while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
        {
            if (reader.ValueIsEscaped)
            {
                return null;
            }

            if (reader.ValueTextEquals("type"u8) && !seenType)
            {
                seenType = true;
                reader.Read();
                text = reader.TokenType == System.Text.Json.JsonTokenType.String && reader.ValueTextEquals("text"u8);
            }
            else if (reader.ValueTextEquals("content"u8) && !seenContent)
            {
                seenContent = true;
                reader.Read();
                if (reader.TokenType != System.Text.Json.JsonTokenType.String)
                {
                    return null;
                }

                content = reader.GetString();
            }
            else
            {
                return null;
            }
        }

        return text && content is not null && reader.TokenType == System.Text.Json.JsonTokenType.EndObject ? content : null;
    }
}
