using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;

namespace Recal.Server;

/// <summary>What a request may do: read (pages, read endpoints) or write (OTLP export, labelling, drafting, verdicts).</summary>
public enum Permission
{
    Read,
    Write,
}

/// <summary>
/// Bearer tokens, or a browser session opened with one at <c>/login</c>: the write token grants reading and writing, the
/// read token reading only. Compared in constant time; no token, header or its length is ever logged or echoed.
/// </summary>
public sealed class Access
{
    /// <summary>The cookie of a browser session opened at <c>/login</c> with a token.</summary>
    public const string SessionCookie = "recal_session";

    /// <summary>How long a browser session lasts.</summary>
    public static readonly TimeSpan SessionLength = TimeSpan.FromHours(12);

    private readonly byte[]? _write;
    private readonly byte[]? _read;
    private readonly bool _open;
    private readonly IDataProtector? _sessions;

    /// <param name="sessions">Seals and opens browser sessions (the permission and when it was granted, never the token); null: bearer tokens only.</param>
    public Access(RecalServerOptions options, IDataProtector? sessions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _sessions = sessions;
        _open = options.NoToken;
        _write = string.IsNullOrEmpty(options.WriteToken) ? null : Encoding.UTF8.GetBytes(options.WriteToken);
        _read = string.IsNullOrEmpty(options.ReadToken) ? null : Encoding.UTF8.GetBytes(options.ReadToken);
    }

    /// <summary>Whether the request's <c>Authorization: Bearer …</c> grants <paramref name="needed"/>.</summary>
    public bool Allows(HttpRequest request, Permission needed)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_open)
        {
            return true;
        }

        var header = request.Headers.Authorization.ToString();
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Session(request) is { } session && (session == Permission.Write || needed == Permission.Read);
        }

        return Grant(header[Scheme.Length..].Trim()) is { } granted && (granted == Permission.Write || needed == Permission.Read);
    }

    /// <summary>What a token grants: write, read, or nothing (null). Both comparisons run whatever the first says.</summary>
    public Permission? Grant(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        var presented = Encoding.UTF8.GetBytes(token);

        // The time taken tells nothing about which token nearly matched.
        var write = Matches(presented, _write);
        var read = Matches(presented, _read);
        return write ? Permission.Write : read ? Permission.Read : null;
    }

    /// <summary>Whether the server asks for tokens at all (not with <c>--no-token</c> on loopback).</summary>
    public bool Open => _open;

    /// <summary>The sealed cookie value of a session granting <paramref name="permission"/> from <paramref name="now"/>.</summary>
    public string SealSession(Permission permission, DateTimeOffset now) =>
        (_sessions ?? throw new InvalidOperationException("browser sessions are not configured")).Protect(string.Create(CultureInfo.InvariantCulture, $"{permission}|{now.UtcTicks}"));

    /// <summary>The permission of the request's session cookie; null without one, or when it is forged, foreign or expired.</summary>
    private Permission? Session(HttpRequest request)
    {
        if (_sessions is null || !request.Cookies.TryGetValue(SessionCookie, out var sealedValue) || string.IsNullOrEmpty(sealedValue))
        {
            return null;
        }

        string opened;
        try
        {
            opened = _sessions.Unprotect(sealedValue);
        }
        catch (CryptographicException)
        {
            return null;
        }

        var parts = opened.Split('|');
        if (parts.Length != 2 || !Enum.TryParse<Permission>(parts[0], out var permission) || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            return null;
        }

        var age = DateTimeOffset.UtcNow - new DateTimeOffset(ticks, TimeSpan.Zero);
        return age >= TimeSpan.Zero && age < SessionLength ? permission : null;
    }

    /// <summary>
    /// Constant time over the token's bytes: <see cref="CryptographicOperations.FixedTimeEquals"/> over SHA-256 digests,
    /// so a token of another length takes the same time as one that differs in its last byte.
    /// </summary>
    private static bool Matches(byte[] presented, byte[]? expected)
    {
        if (expected is null)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(presented), SHA256.HashData(expected));
    }
}

/// <summary>Puts a permission on an endpoint or a group of endpoints: each area's routes say what they need.</summary>
public static class AccessExtensions
{
    /// <summary>
    /// Answers 401 (with <c>WWW-Authenticate: Bearer</c>) before the handler runs, and before the body is read, unless
    /// the request's token grants <paramref name="permission"/>. <paramref name="deny"/> writes the body (an OTLP
    /// endpoint answers a <c>google.rpc.Status</c> in the request's encoding); plain text by default.
    /// </summary>
    public static TBuilder Require<TBuilder>(this TBuilder builder, Permission permission, Func<HttpContext, Task>? deny = null)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var access = http.RequestServices.GetService(typeof(Access)) as Access ?? throw new InvalidOperationException("the server's Access is not registered");
            if (access.Allows(http.Request, permission))
            {
                return await next(context).ConfigureAwait(false);
            }

            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            http.Response.Headers.WWWAuthenticate = "Bearer";
            if (deny is not null)
            {
                await deny(http).ConfigureAwait(false);
            }
            else
            {
                await http.Response.WriteAsync($"401: this needs a {(permission == Permission.Write ? "write" : "read")} token: send Authorization: Bearer <token> (docs/serve.md#tokens)\n").ConfigureAwait(false);
            }

            return Results.Empty;
        });
}
