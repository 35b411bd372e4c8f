using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Recal.Testing;

/// <summary>A scripted reply: status, body and headers, optionally after a delay.</summary>
public sealed record FakeReply(int Status, string Body, IReadOnlyDictionary<string, string>? Headers = null, TimeSpan? Delay = null);

/// <summary>A request the fake server received.</summary>
public sealed record FakeRequest(string Method, string Path, string? Authorization, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A loopback OpenAI-compatible chat endpoint for tests, bound to 127.0.0.1 on a free port. Replies come from a
/// script (for fault injection: 429 with Retry-After, 500, slow or malformed bodies); when the script is empty
/// it answers with a deterministic completion produced by <see cref="Answer"/>.
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

    public IReadOnlyCollection<FakeRequest> Requests => _requests;

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
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync().ConfigureAwait(false);
        _requests.Enqueue(new FakeRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, context.Request.Headers["Authorization"], body));
        var reply = _script.TryDequeue(out var scripted)
            ? scripted
            : new FakeReply(200, Completion(Answer(JsonDocument.Parse(body).RootElement)));
        if (reply.Delay is { } delay)
        {
            await Task.Delay(delay).ConfigureAwait(false);
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
