using System.Text;
using System.Text.Json;

namespace Recal.Samples.Bot;

/// <summary>The parts of an OpenAI Chat Completions request the bot reads.</summary>
/// <param name="MaxTokens">From <c>max_tokens</c> or <c>max_completion_tokens</c>; null for no limit.</param>
public sealed record ChatRequest(string Model, IReadOnlyList<ChatTurn> Messages, double? Temperature, int? MaxTokens, long Seed)
{
    /// <summary>The text the bot answers: the last user message.</summary>
    public string UserText => Messages.Last(m => m.Role == "user").Content;

    /// <summary>Reads and checks a request body; on a problem returns null and says what was wrong.</summary>
    public static ChatRequest? Parse(JsonElement body, out string? error)
    {
        error = Check(body, out var request);
        return request;
    }

    private static string? Check(JsonElement body, out ChatRequest? request)
    {
        request = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            return "the request body must be a JSON object";
        }

        if (!body.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(model.GetString()))
        {
            return "'model' must be a non-empty string";
        }

        if (!body.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return "'messages' must be a non-empty array";
        }

        var turns = new List<ChatTurn>();
        foreach (var message in messages.EnumerateArray())
        {
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out var role) || role.ValueKind != JsonValueKind.String)
            {
                return $"messages[{turns.Count}] must be an object with a string 'role'";
            }

            if (Content(message) is not { } content)
            {
                return $"messages[{turns.Count}].content must be a string or an array of text parts";
            }

            turns.Add(new ChatTurn(role.GetString()!, content));
        }

        if (!turns.Exists(t => t.Role == "user"))
        {
            return "'messages' needs at least one message with role 'user'";
        }

        double? temperature = null;
        if (Optional(body, "temperature") is { } t)
        {
            if (t.ValueKind != JsonValueKind.Number || t.GetDouble() is < 0 or > 2)
            {
                return "'temperature' must be a number from 0 to 2";
            }

            temperature = t.GetDouble();
        }

        int? maxTokens = null;
        if ((Optional(body, "max_completion_tokens") ?? Optional(body, "max_tokens")) is { } m)
        {
            if (m.ValueKind != JsonValueKind.Number || !m.TryGetInt32(out var limit) || limit < 1)
            {
                return "'max_tokens' must be a whole number of at least 1";
            }

            maxTokens = limit;
        }

        var seed = 0L;
        if (Optional(body, "seed") is { } s && (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out seed)))
        {
            return "'seed' must be a whole number";
        }

        if (Optional(body, "stream") is { } stream && stream.ValueKind == JsonValueKind.True)
        {
            return "streaming is not supported; send 'stream': false";
        }

        request = new ChatRequest(model.GetString()!, turns, temperature, maxTokens, seed);
        return null;
    }

    /// <summary>A property's value, or null when it is absent or JSON null.</summary>
    private static JsonElement? Optional(JsonElement body, string name) =>
        body.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    /// <summary>The message text: a string, text parts joined, or empty for a null content (an assistant tool call).</summary>
    private static string? Content(JsonElement message)
    {
        if (Optional(message, "content") is not { } content)
        {
            return string.Empty;
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            text.Append(value.GetString());
        }

        return text.ToString();
    }
}
