using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.AI;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

// Usage: dotnet run -- OUTPUT_DIR
// Writes, for the default and the latest-experimental GenAI conventions (OTEL_SEMCONV_STABILITY_OPT_IN):
//   meai-<shape>.pb       the first POST /v1/traces body (one ExportTraceServiceRequest)
//   meai-<shape>.otlp     every body, each prefixed with its 4-byte big-endian length (the collector file exporter's form)
// The interactions are fixed (a fake chat client), so the content is the same on every run; ids and times are not.
var output = Path.GetFullPath(args.Length > 0 ? args[0] : ".");
Directory.CreateDirectory(output);
var shape = Environment.GetEnvironmentVariable("OTEL_SEMCONV_STABILITY_OPT_IN") is { Length: > 0 } optIn && optIn.Contains("gen_ai_latest_experimental", StringComparison.Ordinal)
    ? "latest"
    : "default";

var bodies = new List<byte[]>();
var port = FreePort();
using var listener = new HttpListener();
listener.Prefixes.Add($"http://127.0.0.1:{port}/");
listener.Start();
var capture = Task.Run(async () =>
{
    while (listener.IsListening)
    {
        HttpListenerContext context;
        try
        {
            context = await listener.GetContextAsync();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
            return;
        }

        using var body = new MemoryStream();
        await context.Request.InputStream.CopyToAsync(body);
        if (context.Request.Url!.AbsolutePath == "/v1/traces")
        {
            lock (bodies)
            {
                bodies.Add(body.ToArray());
            }
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-protobuf";
        context.Response.Close();
    }
});

const string SourceName = "Recal.FixtureProducer";
using (var tracerProvider = Sdk.CreateTracerProviderBuilder()
    .ConfigureResource(r => r.AddService("support-bot", serviceVersion: "2026.06.1").AddAttributes([new("deployment.environment.name", "production")]))
    .AddSource(SourceName)
    .AddSource("Experimental.Microsoft.Extensions.AI*")
    .AddOtlpExporter(o =>
    {
        o.Endpoint = new Uri($"http://127.0.0.1:{port}/v1/traces");
        o.Protocol = OtlpExportProtocol.HttpProtobuf;
        o.ExportProcessorType = ExportProcessorType.Simple;
    })
    .Build())
{
    using var app = new ActivitySource(SourceName);
    var client = new ChatClientBuilder(new FakeChatClient())
        .UseOpenTelemetry(sourceName: "Experimental.Microsoft.Extensions.AI", configure: c => c.EnableSensitiveData = true)
        .Build();

    // 1. A single question inside an HTTP server span (the GenAI span is not the trace's root).
    using (var request = app.StartActivity("POST /chat", ActivityKind.Server))
    {
        request?.SetTag("http.request.method", "POST");
        request?.SetTag("app.plan", "pro");
        await client.GetResponseAsync(
            [new(ChatRole.System, "You are the support assistant of Acme Bank."), new(ChatRole.User, "How do I reset my card PIN?")],
            new ChatOptions { ModelId = "gpt-4o-mini", Temperature = 0.2f });
    }

    // 2. A two-turn conversation, each turn its own trace, tied by the conversation id.
    var history = new List<ChatMessage> { new(ChatRole.User, "What is my card's daily withdrawal limit?") };
    var options = new ChatOptions { ModelId = "gpt-4o-mini", ConversationId = "conv-7f3a" };
    var first = await client.GetResponseAsync(history, options);
    history.AddRange(first.Messages);
    history.Add(new(ChatRole.User, "Can I raise it for a trip next week?"));
    await client.GetResponseAsync(history, options);

    // 3. A tool call and its result, then the answer.
    var tools = new ChatOptions { ModelId = "gpt-4o-mini", Tools = [AIFunctionFactory.Create((string account) => "1,234.56 EUR", "get_balance", "The account's balance")] };
    var toolTurn = new List<ChatMessage> { new(ChatRole.User, "What's the balance of my savings account?") };
    var call = await client.GetResponseAsync(toolTurn, tools);
    toolTurn.AddRange(call.Messages);
    toolTurn.Add(new(ChatRole.Tool, [new FunctionResultContent("call-1", "1,234.56 EUR")]));
    await client.GetResponseAsync(toolTurn, tools);
}

await Task.Delay(200);
listener.Stop();
await capture;
if (bodies.Count == 0)
{
    Console.Error.WriteLine("no OTLP request was captured");
    return 1;
}

File.WriteAllBytes(Path.Combine(output, $"meai-{shape}.pb"), bodies[0]);
using (var stream = File.Create(Path.Combine(output, $"meai-{shape}.otlp")))
{
    foreach (var body in bodies)
    {
        var length = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(length, (uint)body.Length);
        stream.Write(length);
        stream.Write(body);
    }
}

Console.WriteLine($"{shape}: {bodies.Count} request(s), {bodies.Sum(b => b.Length):N0} bytes");
return 0;

static int FreePort()
{
    var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
    socket.Start();
    var port = ((IPEndPoint)socket.LocalEndpoint).Port;
    socket.Stop();
    return port;
}

/// <summary>Answers deterministically: a tool call when tools are offered and no tool result is present, else a canned answer.</summary>
internal sealed class FakeChatClient : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        var last = list[^1];
        ChatMessage answer;
        if (options?.Tools is { Count: > 0 } && last.Role == ChatRole.User)
        {
            answer = new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call-1", "get_balance", new Dictionary<string, object?> { ["account"] = "savings" })]);
        }
        else
        {
            var text = last.Role == ChatRole.Tool ? "Your savings account holds 1,234.56 EUR."
                : last.Text.Contains("PIN", StringComparison.Ordinal) ? "Open the app, go to Cards, choose your card and tap Reset PIN."
                : last.Text.Contains("raise", StringComparison.Ordinal) ? "Yes: in Cards → Limits you can raise it for up to 30 days."
                : "Your daily withdrawal limit is 500 EUR.";
            answer = new ChatMessage(ChatRole.Assistant, text);
        }

        return Task.FromResult(new ChatResponse(answer)
        {
            ModelId = (options?.ModelId ?? "gpt-4o-mini") + "-2024-07-18",
            ResponseId = "resp-" + list.Count,
            FinishReason = answer.Contents.OfType<FunctionCallContent>().Any() ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = 20 * list.Count, OutputTokenCount = 12 },
        });
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
