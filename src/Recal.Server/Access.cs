using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Recal.Server;

/// <summary>What a request may do: read (pages, read endpoints) or write (OTLP export, and later reviews).</summary>
public enum Permission
{
    Read,
    Write,
}

/// <summary>
/// Bearer tokens: the write token grants reading and writing, the read token reading only. Compared in constant time;
/// no token, header or its length is ever logged or echoed.
/// </summary>
public sealed class Access
{
    private readonly byte[]? _write;
    private readonly byte[]? _read;
    private readonly bool _open;

    public Access(RecalServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
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
            return false;
        }

        var presented = Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim());

        // Both comparisons run whatever the first says, so the time taken tells nothing about which token nearly matched.
        var write = Matches(presented, _write);
        var read = Matches(presented, _read);
        return write || (needed == Permission.Read && read);
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
