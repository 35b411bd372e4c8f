using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.AI;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

// Usage: dotnet run -- OUTPUT_DIR [--older]
// Writes, for the GenAI conventions Microsoft.Extensions.AI 11 emits, without and with OTEL_SEMCONV_STABILITY_OPT_IN=
// gen_ai_latest_experimental (MEAI 11 reads no such variable: both are its one, latest shape), or with --older for the
// older shape (gen_ai.system, gen_ai.usage.prompt_tokens/completion_tokens, content as v1.36 span events), which MEAI 11
// cannot emit and so is written by an ActivitySource of our own around the same fake chat client:
//   <prefix>.pb       the first POST /v1/traces body (one ExportTraceServiceRequest)
//   <prefix>.otlp     every body, each prefixed with its 4-byte big-endian length (the collector file exporter's form)
// with <prefix> meai-default, meai-latest or otel-older. The interactions are fixed (a fake chat client), so the content
// is the same on every run; ids and times are not.
var output = Path.GetFullPath(args.Length > 0 ? args[0] : ".");
Directory.CreateDirectory(output);
var older = args.Contains("--older");
var shape = older ? "otel-older"
    : Environment.GetEnvironmentVariable("OTEL_SEMCONV_STABILITY_OPT_IN") is { Length: > 0 } optIn && optIn.Contains("gen_ai_latest_experimental", StringComparison.Ordinal)
    ? "meai-latest"
    : "meai-default";

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
    .AddSource(OlderGenAiChatClient.SourceName)
    .AddOtlpExporter(o =>
    {
        o.Endpoint = new Uri($"http://127.0.0.1:{port}/v1/traces");
        o.Protocol = OtlpExportProtocol.HttpProtobuf;
        o.ExportProcessorType = ExportProcessorType.Simple;
    })
    .Build())
{
    using var app = new ActivitySource(SourceName);
    var client = older
        ? new OlderGenAiChatClient(new FakeChatClient())
        : new ChatClientBuilder(new FakeChatClient())
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

File.WriteAllBytes(Path.Combine(output, $"{shape}.pb"), bodies[0]);
using (var stream = File.Create(Path.Combine(output, $"{shape}.otlp")))
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

    /// <summary>Says which provider it stands for, as a real client does (the instrumentation names it on every span).</summary>
    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("openai", new Uri("https://api.openai.com/v1"), "gpt-4o-mini") : null;

    public void Dispose()
    {
    }
}

/// <summary>
/// A chat client instrumented by hand in the older GenAI shape that Microsoft.Extensions.AI 11 no longer emits: the
/// span names the provider with <c>gen_ai.system</c> and counts tokens as <c>gen_ai.usage.prompt_tokens</c> and
/// <c>completion_tokens</c>; the content is not in attributes but in span events, one per message
/// (<c>gen_ai.system.message</c>, <c>gen_ai.user.message</c>, <c>gen_ai.assistant.message</c>, <c>gen_ai.tool.message</c>)
/// and <c>gen_ai.choice</c> for the answer, each body as JSON in <c>gen_ai.event.content</c> (span events carry no maps).
/// </summary>
internal sealed class OlderGenAiChatClient(IChatClient inner) : DelegatingChatClient(inner)
{
    public const string SourceName = "Recal.FixtureProducer.OlderGenAi";

    private static readonly ActivitySource Source = new(SourceName);

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        using var activity = Source.StartActivity($"chat {options?.ModelId}", ActivityKind.Client);
        var provider = InnerClient.GetService<ChatClientMetadata>()?.ProviderName;
        activity?.SetTag("gen_ai.system", provider);
        activity?.SetTag("gen_ai.operation.name", "chat");
        activity?.SetTag("gen_ai.request.model", options?.ModelId);
        if (options?.Temperature is { } temperature)
        {
            activity?.SetTag("gen_ai.request.temperature", (double)temperature);
        }

        if (options?.ConversationId is { } conversation)
        {
            activity?.SetTag("gen_ai.conversation.id", conversation);
        }

        foreach (var message in list)
        {
            activity?.AddEvent(Event($"gen_ai.{message.Role.Value}.message", provider, Body(message)));
        }

        var response = await base.GetResponseAsync(list, options, cancellationToken);
        activity?.SetTag("gen_ai.response.model", response.ModelId);
        activity?.SetTag("gen_ai.response.id", response.ResponseId);
        activity?.SetTag("gen_ai.response.finish_reasons", new[] { response.FinishReason?.Value });
        activity?.SetTag("gen_ai.usage.prompt_tokens", response.Usage?.InputTokenCount);
        activity?.SetTag("gen_ai.usage.completion_tokens", response.Usage?.OutputTokenCount);
        foreach (var (answer, index) in response.Messages.Select((m, i) => (m, i)))
        {
            activity?.AddEvent(Event("gen_ai.choice", provider, new Dictionary<string, object?> { ["index"] = index, ["finish_reason"] = response.FinishReason?.Value, ["message"] = Body(answer) }));
        }

        return response;
    }

    private static ActivityEvent Event(string name, string? provider, Dictionary<string, object?> body) =>
        new(name, tags: new ActivityTagsCollection { ["gen_ai.system"] = provider, ["gen_ai.event.content"] = System.Text.Json.JsonSerializer.Serialize(body) });

    /// <summary>An event body of the older conventions: content, tool calls with JSON arguments, a tool result with its call id.</summary>
    private static Dictionary<string, object?> Body(ChatMessage message)
    {
        var body = new Dictionary<string, object?>();
        if (message.Text is { Length: > 0 } text)
        {
            body["content"] = text;
        }

        var calls = message.Contents.OfType<FunctionCallContent>().Select(c => new Dictionary<string, object?>
        {
            ["id"] = c.CallId,
            ["type"] = "function",
            ["function"] = new Dictionary<string, object?> { ["name"] = c.Name, ["arguments"] = System.Text.Json.JsonSerializer.Serialize(c.Arguments) },
        }).ToList();
        if (calls.Count > 0)
        {
            body["tool_calls"] = calls;
        }

        if (message.Contents.OfType<FunctionResultContent>().FirstOrDefault() is { } result)
        {
            body["id"] = result.CallId;
            body["content"] = result.Result?.ToString();
        }

        return body;
    }
}
