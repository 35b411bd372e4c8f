using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Recal.Server.Pages;

/// <summary>The receiver's page (<c>/receiver</c>, read token: what it has taken in since it started) and the liveness probe (<c>/healthz</c>, open: it tells nothing but that the server runs).</summary>
public static class HomeEndpoints
{
    public static IEndpointRouteBuilder MapHome(this IEndpointRouteBuilder endpoints)
    {
        Func<HttpContext, IResult> home = Home;
        Func<HttpContext, IResult> health = Health;
        endpoints.MapGet("/receiver", home).Require(Permission.Read);
        endpoints.MapGet("/healthz", health);
        return endpoints;
    }

    private static IResult Health(HttpContext http)
    {
        var queue = (IngestQueue)http.RequestServices.GetService(typeof(IngestQueue))!;
        return Results.Json(new { status = "ok", queued = queue.Queued, full = queue.IsFull });
    }

    private static IResult Home(HttpContext http)
    {
        var context = (RecalServerContext)http.RequestServices.GetService(typeof(RecalServerContext))!;
        var queue = (IngestQueue)http.RequestServices.GetService(typeof(IngestQueue))!;
        var name = HtmlEncoder.Default.Encode(context.ProjectName);
        var html = $$"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Recal · {{name}}</title>
            <style>body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:48rem;padding:0 1rem}code{background:#f3f3f3;padding:0 .25em}</style></head>
            <body><h1>Recal · {{name}}</h1>
            <p>This server receives OpenTelemetry traces and logs over OTLP/HTTP at <code>/v1/traces</code> and <code>/v1/logs</code>
            and stores them in the project's store, as <code>recal ingest</code> does.</p>
            <p>Since it started: {{queue.TracesAdded:N0}} trace(s) added, {{queue.RecordsRead:N0}} record(s) received; {{queue.Queued:N0}} part(s) waiting to be written.</p>
            </body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8");
    }
}
