using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Recal.Samples.Bot;

/// <summary>
/// The OpenAI-compatible endpoints. Bodies are written by hand so that the same request always gives the same
/// bytes: the id is a hash of the request and <c>created</c> is a fixed instant rather than the clock.
/// </summary>
public sealed class ChatEndpoints(SupportBot bot, TimeSpan latency)
{
    /// <summary>The <c>created</c> stamp of every completion and model (2026-06-01T00:00:00Z, the sample's first day).</summary>
    public const long Created = 1_780_272_000;

    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static IReadOnlyList<string> Models { get; } = [.. SupportBot.Models, .. SupportJudge.Models];

    public async Task CompleteAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var cancellation = context.RequestAborted;
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, cancellation);
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, $"the request body is not valid JSON: {e.Message}", "invalid_json");
            return;
        }

        ChatRequest? request;
        string? error;
        using (document)
        {
            request = ChatRequest.Parse(document.RootElement, out error);
        }

        if (request is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, error!, "invalid_request");
            return;
        }

        if (!Models.Contains(request.Model, StringComparer.Ordinal))
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, $"The model '{request.Model}' does not exist. Models: {string.Join(", ", Models)}.", "model_not_found");
            return;
        }

        string content;
        if (SupportJudge.IsModel(request.Model))
        {
            if (SupportJudge.Reply(request.Model, request.Messages, request.Seed) is not { } verdict)
            {
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "no judge prompt in 'messages': expected the sections of Recal's JudgePrompt ('## Answer to grade', '## Rubric' with '### name (min–max)')", "invalid_judge_prompt");
                return;
            }

            content = verdict;
        }
        else
        {
            content = bot.Answer(request.Model, request.UserText).Text;
        }

        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, cancellation);
        }

        await WriteAsync(context, StatusCodes.Status200OK, Completion(request, content));
    }

    public Task ListModelsAsync(HttpContext context) => WriteAsync(context, StatusCodes.Status200OK, Write(json =>
    {
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var model in Models)
        {
            json.WriteStartObject();
            json.WriteString("id", model);
            json.WriteString("object", "model");
            json.WriteNumber("created", Created);
            json.WriteString("owned_by", "recal-sample");
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }));

    public static Task HealthAsync(HttpContext context) => WriteAsync(context, StatusCodes.Status200OK, Write(json => json.WriteString("status", "ok")));

    /// <summary>Whitespace-separated words: the bot's notion of a token.</summary>
    public static int CountTokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    private static byte[] Completion(ChatRequest request, string content)
    {
        var finish = "stop";
        if (request.MaxTokens is { } limit && Truncate(content, limit) is { } truncated)
        {
            content = truncated;
            finish = "length";
        }

        var promptTokens = request.Messages.Sum(m => CountTokens(m.Content));
        var completionTokens = CountTokens(content);
        return Write(json =>
        {
            json.WriteString("id", "chatcmpl-" + RequestHash(request));
            json.WriteString("object", "chat.completion");
            json.WriteNumber("created", Created);
            json.WriteString("model", request.Model);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            json.WriteString("content", content);
            json.WriteEndObject();
            json.WriteString("finish_reason", finish);
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", promptTokens);
            json.WriteNumber("completion_tokens", completionTokens);
            json.WriteNumber("total_tokens", promptTokens + completionTokens);
            json.WriteEndObject();
        });
    }

    /// <summary>The text cut after its <paramref name="limit"/>-th word, or null when it is short enough.</summary>
    private static string? Truncate(string text, int limit)
    {
        var words = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var startsWord = !char.IsWhiteSpace(text[i]) && (i == 0 || char.IsWhiteSpace(text[i - 1]));
            if (startsWord && ++words > limit)
            {
                return text[..i].TrimEnd();
            }
        }

        return null;
    }

    private static string RequestHash(ChatRequest request)
    {
        var text = new StringBuilder().Append(request.Model).Append('\u001e').Append(request.Seed).Append('\u001e').Append(request.MaxTokens);
        foreach (var message in request.Messages)
        {
            text.Append('\u001e').Append(message.Role).Append('\u001f').Append(message.Content);
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..24];
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message, string code) =>
        WriteAsync(context, status, Write(json =>
        {
            json.WriteStartObject("error");
            json.WriteString("message", message);
            json.WriteString("type", "invalid_request_error");
            json.WriteString("code", code);
            json.WriteEndObject();
        }));

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Json))
        {
            json.WriteStartObject();
            body(json);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static async Task WriteAsync(HttpContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }
}
