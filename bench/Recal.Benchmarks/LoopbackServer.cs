using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Recal.Benchmarks;

/// <summary>
/// <c>serve --latency-ms N --port-file PATH</c>: an OpenAI-compatible chat endpoint on 127.0.0.1 that answers every
/// completion after exactly N ms (an async delay, no thread held), and counts the completions it served
/// (<c>GET /stats</c>). The run benchmark starts it as a separate process so that it neither shares the thread
/// pool of the client under test nor is timed with it.
/// </summary>
internal static class LoopbackServer
{
    private static long s_completions;

    public static async Task<int> RunAsync(string[] args)
    {
        var latency = TimeSpan.FromMilliseconds(int.Parse(Option(args, "--latency-ms") ?? "200", CultureInfo.InvariantCulture));
        var portFile = Option(args, "--port-file");

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = null;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        app.MapPost("/v1/chat/completions", context => CompleteAsync(context, latency));
        app.MapGet("/stats", context => context.Response.WriteAsync(Interlocked.Read(ref s_completions).ToString(CultureInfo.InvariantCulture)));
        await app.StartAsync();

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var baseUrl = new Uri(address).GetLeftPart(UriPartial.Authority) + "/v1";
        if (portFile is not null)
        {
            var temporary = portFile + ".tmp";
            await File.WriteAllTextAsync(temporary, baseUrl);
            File.Move(temporary, portFile, overwrite: true);
        }

        Console.WriteLine(baseUrl);
        // Stops when the benchmark closes standard input (or dies).
        await Task.Run(() => Console.In.ReadToEnd());
        await app.StopAsync();
        return 0;
    }

    private static async Task CompleteAsync(HttpContext context, TimeSpan latency)
    {
        using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        var root = document.RootElement;
        var model = root.GetProperty("model").GetString() ?? "model";
        var input = string.Empty;
        foreach (var message in root.GetProperty("messages").EnumerateArray())
        {
            if (message.GetProperty("role").GetString() == "user")
            {
                input = message.GetProperty("content") is { ValueKind: JsonValueKind.String } text ? text.GetString()! : message.GetProperty("content").ToString();
            }
        }

        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, context.RequestAborted);
        }

        Interlocked.Increment(ref s_completions);
        var answer = $"Here is how {input} works: I've looked it up on your account and walked through the steps; tell me if you want me to go ahead.";
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("id", "chatcmpl-bench");
        json.WriteString("object", "chat.completion");
        json.WriteNumber("created", 1_780_272_000);
        json.WriteString("model", model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        json.WriteString("content", answer);
        json.WriteEndObject();
        json.WriteString("finish_reason", "stop");
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", input.Length / 4 + 1);
        json.WriteNumber("completion_tokens", answer.Length / 4 + 1);
        json.WriteNumber("total_tokens", (input.Length + answer.Length) / 4 + 2);
        json.WriteEndObject();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
