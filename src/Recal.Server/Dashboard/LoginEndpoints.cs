using System.Net;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Recal.Server.Dashboard;

/// <summary>
/// <c>/login</c>: a browser opens a session by pasting a token once. The session cookie is sealed by the server and
/// holds the permission the token grants and when, never the token; it is HttpOnly and SameSite=Strict.
/// </summary>
public static class LoginEndpoints
{
    public static IEndpointRouteBuilder MapLogin(this IEndpointRouteBuilder endpoints)
    {
        Func<HttpContext, IResult> form = http => Form(http, null);
        Func<HttpContext, Task<IResult>> login = LoginAsync;
        endpoints.MapGet("/login", form);
        endpoints.MapPost("/login", login).DisableAntiforgery();
        return endpoints;
    }

    private static IResult Form(HttpContext http, string? problem)
    {
        DashboardEndpoints.SecurityHeaders(http.Response);
        var tokens = http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);
        var next = Next(http.Request.Query["next"].ToString());
        var html = $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Recal · log in</title>
            <style>body{"{"}font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:32rem;padding:0 1rem{"}"}input{"{"}width:100%{"}"}.alarm{"{"}background:#fef2f2;border-left:4px solid #dc2626;padding:.5rem .75rem{"}"}</style></head>
            <body><h1>Recal · log in</h1>
            {(problem is null ? string.Empty : $"<p class=\"alarm\">{WebUtility.HtmlEncode(problem)}</p>")}
            <form method="post" action="/login"><input type="hidden" name="{tokens.FormFieldName}" value="{WebUtility.HtmlEncode(tokens.RequestToken)}"><input type="hidden" name="next" value="{WebUtility.HtmlEncode(next)}">
            <p><label>Token (the value of RECAL_SERVER_READ_TOKEN to read, RECAL_SERVER_TOKEN to label too)<br><input type="password" name="token" autocomplete="current-password" autofocus></label></p>
            <p><button type="submit">Open the dashboard</button></p></form>
            <p>The token is checked once and not kept: the browser holds a session for {Access.SessionLength.TotalHours:0} hours, until the server restarts.</p>
            </body></html>
            """;
        return Results.Content(html, "text/html; charset=utf-8", statusCode: problem is null ? StatusCodes.Status200OK : StatusCodes.Status401Unauthorized);
    }

    private static async Task<IResult> LoginAsync(HttpContext http)
    {
        var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
        if (!await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Form(http, "The form had expired; log in again.");
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        var access = http.RequestServices.GetRequiredService<Access>();
        if (access.Grant(form["token"].ToString()) is not { } permission)
        {
            return Form(http, "That token opens nothing here.");
        }

        http.Response.Cookies.Append(Access.SessionCookie, access.SealSession(permission, DateTimeOffset.UtcNow), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            MaxAge = Access.SessionLength,
            Path = "/",
        });
        return Results.Redirect(Next(form["next"].ToString()));
    }

    /// <summary>Where to go after logging in: a path of this server only, never another site.</summary>
    private static string Next(string next) =>
        next.StartsWith('/') && !next.StartsWith("//", StringComparison.Ordinal) && !next.StartsWith("/\\", StringComparison.Ordinal) ? next : "/";
}
