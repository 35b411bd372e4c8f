using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.Json;
using Recal.Running;

namespace Recal.Providers.OpenAI;

/// <summary>Turns the SDK's and the transport's failures into <see cref="TargetCallException"/>s the retry policy can classify.</summary>
internal static class OpenAICallErrors
{
    /// <summary>The call error for <paramref name="error"/>; null when it is not the endpoint's failure (the caller's cancellation, a bug).</summary>
    public static TargetCallException? Translate(Exception error, OpenAICompatibleSettings settings, CancellationToken cancellationToken) =>
        Redacted(Translate(error, settings.BaseUrl, cancellationToken), settings);

    /// <summary>Why a 200 reply carries no answer (see the overload), with the endpoint's secrets redacted.</summary>
    public static TargetCallException? CheckReply(PipelineResponse? response, OpenAICompatibleSettings settings) =>
        Redacted(CheckReply(response, settings.BaseUrl), settings);

    /// <summary>
    /// The failure with the endpoint's key and URL user info removed from its message: servers quote the credentials
    /// they reject ("Incorrect API key provided: Bearer sk-…"), and the message is stored and printed.
    /// </summary>
    private static TargetCallException? Redacted(TargetCallException? failure, OpenAICompatibleSettings settings)
    {
        if (failure is null)
        {
            return null;
        }

        var secrets = new List<string>();
        if (settings.ApiKeyVariable is not null && settings.ResolveApiKey().Key is { } key)
        {
            secrets.Add(key);
        }

        if (settings.BaseUrl.UserInfo is { Length: > 0 } userInfo)
        {
            secrets.Add(userInfo);
            secrets.Add(Uri.UnescapeDataString(userInfo));
        }

        var message = new SecretRedactor(secrets).Redact(failure.Message);
        return new TargetCallException(message, failure.Status, failure.RetryAfter, failure.Transient, failure.InnerException);
    }

    private static TargetCallException? Translate(Exception error, Uri baseUrl, CancellationToken cancellationToken)
    {
        switch (error)
        {
            case ClientResultException e:
                var status = e.Status == 0 ? (int?)null : e.Status;
                return new TargetCallException(
                    $"{baseUrl} answered {(status is null ? "without a status" : status.Value.ToString(CultureInfo.InvariantCulture))}: {Describe(e)}",
                    status,
                    RetryAfter(e.GetRawResponse()),
                    status is null || TargetCallException.IsTransientStatus(status.Value),
                    e);
            case HttpRequestException or IOException:
            case OperationCanceledException when !cancellationToken.IsCancellationRequested:
                return new TargetCallException($"{baseUrl}: {FirstLine(error.Message)}", null, null, transient: true, error);
            case JsonException or FormatException:
                // A 200 with a truncated or malformed body is usually a transport hiccup: worth another try, and never
                // an exception that stops the whole run.
                return new TargetCallException($"{baseUrl}: the response is not JSON ({FirstLine(error.Message)})", 200, null, transient: true, error);
            default:
                return null;
        }
    }

    /// <summary>
    /// Why a 200 reply carries no answer: no choices (transient, like a truncated body), the provider's content filter,
    /// a content that is null, not text, or empty (not transient: the same request gets the same reply). Null when the
    /// first choice holds text.
    /// </summary>
    private static TargetCallException? CheckReply(PipelineResponse? response, Uri baseUrl)
    {
        if (response?.Content is not { } content)
        {
            return null;
        }

        try
        {
            using var body = JsonDocument.Parse(content.ToMemory());
            var root = body.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                return new TargetCallException($"{baseUrl} answered 200 without a choice (empty or missing 'choices')", 200, null, transient: true);
            }

            var choice = choices[0];
            var finish = choice.ValueKind == JsonValueKind.Object && choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String ? reason.GetString() : null;
            if (finish == "content_filter")
            {
                return new TargetCallException($"{baseUrl} refused the request: its content filter stopped the answer (finish_reason content_filter)", 200, null, transient: false);
            }

            if (choice.ValueKind != JsonValueKind.Object || !choice.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
            {
                return new TargetCallException($"{baseUrl} answered 200 with a choice that has no 'message'", 200, null, transient: true);
            }

            var text = message.TryGetProperty("content", out var value) ? value : default;
            switch (text.ValueKind)
            {
                case JsonValueKind.String when string.IsNullOrWhiteSpace(text.GetString()):
                    return new TargetCallException($"{baseUrl} answered with an empty message (finish_reason {finish ?? "none"})", 200, null, transient: false);
                case JsonValueKind.String:
                    return null;
                case JsonValueKind.Array when text.EnumerateArray().Any(p => p.ValueKind == JsonValueKind.Object && p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(t.GetString())):
                    return null;
                case JsonValueKind.Null or JsonValueKind.Undefined:
                    var calls = message.TryGetProperty("tool_calls", out var tools) && tools.ValueKind == JsonValueKind.Array && tools.GetArrayLength() > 0;
                    var refusal = message.TryGetProperty("refusal", out var said) && said.ValueKind == JsonValueKind.String ? said.GetString() : null;
                    return new TargetCallException(
                        refusal is not null ? $"{baseUrl} refused: {FirstLine(refusal)}"
                        : calls ? $"{baseUrl} answered with tool calls and no text"
                        : $"{baseUrl} answered with no content (content null, finish_reason {finish ?? "none"})",
                        200,
                        null,
                        transient: false);
                default:
                    return new TargetCallException($"{baseUrl} answered with a malformed content: expected text, got {text.ValueKind.ToString().ToLowerInvariant()} {FirstLine(text.GetRawText())}", 200, null, transient: false);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not JSON: the SDK's own reading reports it (as a transient malformed body).
            return null;
        }
    }

    /// <summary>Retry-After as seconds or an HTTP date.</summary>
    private static TimeSpan? RetryAfter(PipelineResponse? response)
    {
        if (response is null || !response.Headers.TryGetValue("Retry-After", out var value) || value is null)
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? (at - DateTimeOffset.UtcNow) is { Ticks: > 0 } wait ? wait : TimeSpan.Zero
            : null;
    }

    /// <summary>The server's own <c>error.message</c> when the body has one (the SDK's message omits it), else the SDK's first line.</summary>
    private static string Describe(ClientResultException error)
    {
        try
        {
            if (error.GetRawResponse()?.Content is { } content)
            {
                using var body = JsonDocument.Parse(content.ToMemory());
                if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("error", out var detail)
                    && detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                {
                    return FirstLine(message.GetString()!);
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Not JSON, or not buffered: the SDK's own words will do.
        }

        return FirstLine(error.Message);
    }

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();
}
