using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Recal.Server.Dashboard;
using Recal.Server.Otlp;
using Recal.Server.Pages;

namespace Recal.Server;

/// <summary>
/// One area of the server: its services and its routes. The server is the list of its areas (<see cref="RecalServer.Areas"/>);
/// a new view or API is a new area (or a route in one), each route saying what permission it needs (<see cref="AccessExtensions.Require"/>).
/// </summary>
public interface IServerArea
{
    void AddServices(IServiceCollection services);

    void Map(IEndpointRouteBuilder endpoints);
}

/// <summary>Builds the <c>recal serve</c> web application: Kestrel on the options' URLs, the access rules, and every area.</summary>
public static class RecalServer
{
    /// <summary>The areas every server has: the health probe, the OTLP/HTTP receiver, the dashboard with its login, and the retention of raw traces.</summary>
    public static IReadOnlyList<IServerArea> Areas { get; } = [new HomeArea(), new OtlpReceiverArea(), new DashboardArea(), new RetentionArea()];

    /// <param name="middleware">Runs before the endpoints (a test records bodies here); none by default.</param>
    /// <param name="logging">Configures logging; by default warnings and errors go to the console, and nothing else.</param>
    public static WebApplication Build(
        RecalServerOptions options,
        RecalServerContext context,
        IEnumerable<IServerArea>? areas = null,
        Action<WebApplication>? middleware = null,
        Action<ILoggingBuilder>? logging = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(context);
        var problems = options.Problems();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(options));
        }

        var chosen = (areas ?? Areas).ToList();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(RecalServer).Assembly.GetName().Name });
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        }

        builder.WebHost.UseUrls([.. options.Urls]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxBodyBytes;
        });
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(context);
        // Browser sessions are sealed with keys kept in memory: a restart asks browsers to log in again, and no key is written to disk.
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services.AddSingleton(provider => new Access(options, provider.GetRequiredService<IDataProtectionProvider>().CreateProtector("Recal.Server.Session")));
        foreach (var area in chosen)
        {
            area.AddServices(builder.Services);
        }

        var app = builder.Build();
        middleware?.Invoke(app);
        foreach (var area in chosen)
        {
            area.Map(app);
        }

        return app;
    }

    private sealed class HomeArea : IServerArea
    {
        public void AddServices(IServiceCollection services)
        {
        }

        public void Map(IEndpointRouteBuilder endpoints) => endpoints.MapHome();
    }

    private sealed class DashboardArea : IServerArea
    {
        public void AddServices(IServiceCollection services) => services.AddDashboard();

        public void Map(IEndpointRouteBuilder endpoints) => endpoints.MapDashboard().MapLogin();
    }

    /// <summary>The project's retention of raw traces, applied by the server (no routes).</summary>
    private sealed class RetentionArea : IServerArea
    {
        public void AddServices(IServiceCollection services) => Retention.RetentionServices.AddRetention(services);

        public void Map(IEndpointRouteBuilder endpoints)
        {
        }
    }

    private sealed class OtlpReceiverArea : IServerArea
    {
        public void AddServices(IServiceCollection services) => services.AddOtlpReceiver();

        public void Map(IEndpointRouteBuilder endpoints) => endpoints.MapOtlpReceiver();
    }
}
