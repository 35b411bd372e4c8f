using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Recal.Testing;

/// <summary>A scripted reply: status, body and headers, optionally after a delay.</summary>
public sealed record FakeReply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan? Delay = null)
{
    /// <summary>A 200 chat completion with the given assistant text.</summary>
    public static FakeReply Ok(string text, TimeSpan? delay = null) => new(200, FakeOpenAIServer.Completion(text), Delay: delay);

    /// <summary>A 429 asking the client to wait <paramref name="retryAfterSeconds"/> seconds.</summary>
    public static FakeReply RateLimited(int retryAfterSeconds) =>
        new(429, """{"error":{"message":"rate limited"}}""", new Dictionary<string, string> { ["Retry-After"] = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>A server error with an OpenAI-style error body.</summary>
    public static FakeReply ServerError(int status = 500) => new(status, """{"error":{"message":"internal error"}}""");

    /// <summary>A 200 whose body is a completion cut off half way: a dropped connection or a proxy's truncation.</summary>
    public static FakeReply Truncated(string text = "cut")
    {
        var body = FakeOpenAIServer.Completion(text);
        return new(200, body[..(body.Length / 2)]);
    }
}

/// <summary>A request the fake server received.</summary>
public sealed record FakeRequest(string Method, string Path, string? Authorization, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    /// <summary>The <c>model</c> of a chat request; null when the body has none.</summary>
    public string? Model => TryJson(out var json) && json.TryGetProperty("model", out var model) ? model.GetString() : null;

    /// <summary>The <c>seed</c> of a chat request; null when the body has none.</summary>
    public long? Seed => TryJson(out var json) && json.TryGetProperty("seed", out var seed) && seed.ValueKind == JsonValueKind.Number ? seed.GetInt64() : null;

    /// <summary>The messages of a chat request as (role, content); empty when the body has none.</summary>
    public IReadOnlyList<(string Role, string Content)> Messages =>
        TryJson(out var json) && json.TryGetProperty("messages", out var messages) && messages.ValueKind == JsonValueKind.Array
            ? [.. messages.EnumerateArray().Select(m => (m.GetProperty("role").GetString()!, ContentOf(m)))]
            : [];

    /// <summary>The content of the last message (the user turn of a single-turn request).</summary>
    public string? LastContent => Messages is { Count: > 0 } list ? list[^1].Content : null;

    /// <summary>The inputs of an embeddings request (a string or an array of strings); empty when the body has none.</summary>
    public IReadOnlyList<string> EmbeddingInputs =>
        TryJson(out var json) && json.TryGetProperty("input", out var input)
            ? input.ValueKind == JsonValueKind.Array ? [.. input.EnumerateArray().Select(i => i.GetString()!)] : [input.GetString()!]
            : [];

    private bool TryJson(out JsonElement json)
    {
        try
        {
            json = Json;
            return json.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            json = default;
            return false;
        }
    }

    private static string ContentOf(JsonElement message)
    {
        var content = message.GetProperty("content");
        return content.ValueKind == JsonValueKind.String
            ? content.GetString()!
            : string.Concat(content.EnumerateArray().Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : null));
    }
}

/// <summary>
/// A loopback OpenAI-compatible chat and embeddings endpoint for tests, bound to 127.0.0.1 on a free port. Replies
/// come from a script (for fault injection: 429 with Retry-After, 500, slow or malformed bodies), then from
/// <see cref="Respond"/> (a per-request function that can look at the model, seed and messages), and otherwise
/// from a deterministic completion produced by <see cref="Answer"/> or, on <c>/embeddings</c>, from vectors produced
/// by <see cref="Embed"/> (as floats, or as base64 when the request asks for <c>encoding_format: base64</c>).
/// </summary>
public sealed class FakeOpenAIServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<FakeReply> _script = new();
    private readonly ConcurrentQueue<FakeRequest> _requests = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public FakeOpenAIServer()
    {
        var port = FreePort();
        BaseUrl = new Uri($"http://127.0.0.1:{port}/v1/");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public Uri BaseUrl { get; }

    /// <summary>Produces the assistant text for a request body when no scripted reply is queued.</summary>
    public Func<JsonElement, string> Answer { get; init; } = body =>
    {
        var messages = body.GetProperty("messages");
        return "echo: " + messages[messages.GetArrayLength() - 1].GetProperty("content").GetString();
    };

    /// <summary>Produces the vector for one embeddings input when no scripted reply is queued: by default 4 numbers read off the text.</summary>
    public Func<string, float[]> Embed { get; init; } = text => [text.Length, text.Count(char.IsWhiteSpace), text.Length == 0 ? 0 : text[0], 1];

    /// <summary>How many embeddings requests carried <paramref name="input"/> among their inputs.</summary>
    public int EmbeddingRequestsFor(string input) => _requests.Count(r => r.Path.EndsWith("/embeddings", StringComparison.Ordinal) && r.EmbeddingInputs.Contains(input));

    /// <summary>
    /// Decides the reply to a request when the script is empty; returning null falls back to <see cref="Answer"/>.
    /// Called once per request, in arrival order per caller, so it may count calls (e.g. fail the first, answer the next).
    /// </summary>
    public Func<FakeRequest, FakeReply?>? Respond { get; set; }

    /// <summary>A delay added to every reply that has none of its own (a slow endpoint).</summary>
    public TimeSpan? Latency { get; set; }

    public IReadOnlyCollection<FakeRequest> Requests => _requests;

    /// <summary>
    /// Waits until no request has arrived for <paramref name="quiet"/>: a request a client sent just before it was killed
    /// is still being read when the client's process is gone, and is counted only once it is read.
    /// </summary>
    public async Task SettleAsync(TimeSpan quiet, CancellationToken cancellationToken = default)
    {
        var seen = _requests.Count;
        while (true)
        {
            await Task.Delay(quiet, cancellationToken).ConfigureAwait(false);
            if (_requests.Count == seen)
            {
                return;
            }

            seen = _requests.Count;
        }
    }

    /// <summary>How many requests carried <paramref name="content"/> as their last message.</summary>
    public int CountFor(string content) => _requests.Count(r => r.LastContent == content);

    public void Enqueue(FakeReply reply) => _script.Enqueue(reply);

    public static string Completion(string text, string model = "fake-model", int promptTokens = 10, int completionTokens = 5) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-1",
        @object = "chat.completion",
        created = 1_780_000_000,
        model,
        choices = new[] { new { index = 0, message = new { role = "assistant", content = text }, finish_reason = "stop" } },
        usage = new { prompt_tokens = promptTokens, completion_tokens = completionTokens, total_tokens = promptTokens + completionTokens },
    });

    /// <summary>An embeddings response body: one entry per vector, as float arrays or base64 of little-endian float32.</summary>
    public static string EmbeddingsResponse(IReadOnlyList<float[]> vectors, bool base64, string model = "fake-embedder", int promptTokens = 3) => JsonSerializer.Serialize(new
    {
        @object = "list",
        data = vectors.Select((v, i) => new
        {
            @object = "embedding",
            index = i,
            embedding = base64 ? (object)Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray()) : v,
        }),
        model,
        usage = new { prompt_tokens = promptTokens, total_tokens = promptTokens },
    });

    private FakeReply DefaultReply(FakeRequest request)
    {
        if (request.Path.EndsWith("/embeddings", StringComparison.Ordinal))
        {
            var json = request.Json;
            var base64 = json.TryGetProperty("encoding_format", out var format) && format.GetString() == "base64";
            return new FakeReply(200, EmbeddingsResponse([.. request.EmbeddingInputs.Select(Embed)], base64));
        }

        return new FakeReply(200, Completion(Answer(request.Json)));
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync().ConfigureAwait(false);
            var request = new FakeRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"], body);
            _requests.Enqueue(request);
            var reply = _script.TryDequeue(out var scripted)
                ? scripted
                : Respond?.Invoke(request) ?? DefaultReply(request);
            if ((reply.Delay ?? Latency) is { } delay)
            {
                await Task.Delay(delay, _stop.Token).ConfigureAwait(false);
            }

            context.Response.StatusCode = reply.Status;
            context.Response.ContentType = "application/json";
            foreach (var (name, value) in reply.Headers ?? new Dictionary<string, string>())
            {
                context.Response.Headers[name] = value;
            }

            var bytes = Encoding.UTF8.GetBytes(reply.Body);
            await context.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The client gave up (a timeout under test) or the server is stopping: nothing to answer.
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The listener is gone: nothing left to serve.
        }

        _stop.Dispose();
    }
}
