using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Recal.Samples.Bot;

/// <summary>The bot served on loopback: start it, read <see cref="BaseUrl"/>, dispose it to stop.</summary>
public sealed class SampleBotServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SampleBotServer(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
    }

    /// <summary>The OpenAI-style base URL, for example <c>http://127.0.0.1:43121/v1</c>.</summary>
    public Uri BaseUrl { get; }

    /// <summary>Binds 127.0.0.1 on the port (0: any free one) and starts serving.</summary>
    public static async Task<SampleBotServer> StartAsync(SupportBot bot, int port = 0, TimeSpan latency = default, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bot);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        // A failed start (the port is taken) surfaces as the exception StartAsync throws; the host's own log of it
        // would only repeat it with a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, port);
        });

        var app = builder.Build();
        var endpoints = new ChatEndpoints(bot, latency);
        app.MapPost("/v1/chat/completions", endpoints.CompleteAsync);
        app.MapGet("/v1/models", endpoints.ListModelsAsync);
        app.MapGet("/health", ChatEndpoints.HealthAsync);
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new SampleBotServer(app, new Uri(new Uri(address).GetLeftPart(UriPartial.Authority) + "/v1"));
    }

    /// <summary>Completes when the host is asked to stop (Ctrl-C, SIGTERM).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
