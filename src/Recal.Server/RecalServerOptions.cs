using System.Net;

namespace Recal.Server;

/// <summary>How <c>recal serve</c> listens, whom it lets in, and how much it holds (docs/serve.md).</summary>
public sealed record RecalServerOptions
{
    /// <summary>The OTLP/HTTP port: an SDK or Collector pointed at localhost without a port reaches the receiver.</summary>
    public const string DefaultUrl = "http://127.0.0.1:4318";

    /// <summary>The environment variable holding the write token (OTLP export, and every read).</summary>
    public const string WriteTokenVariable = "RECAL_SERVER_TOKEN";

    /// <summary>The environment variable holding the read-only token (pages and read endpoints).</summary>
    public const string ReadTokenVariable = "RECAL_SERVER_READ_TOKEN";

    /// <summary>The largest request body accepted, on the wire and after gzip (16 MiB: an SDK's batch is far smaller).</summary>
    public const long DefaultMaxBodyBytes = 16L * 1024 * 1024;

    /// <summary>Trace parts parsed and waiting for the writer beyond which a request is answered 429 (about 100 batches of 512 spans).</summary>
    public const int DefaultQueueParts = 50_000;

    public IReadOnlyList<string> Urls { get; init; } = [DefaultUrl];

    /// <summary>The write token (from <see cref="WriteTokenVariable"/>); never logged or shown.</summary>
    public string? WriteToken { get; init; }

    /// <summary>The read token (from <see cref="ReadTokenVariable"/>); the write token reads too.</summary>
    public string? ReadToken { get; init; }

    /// <summary>Serve without any token: refused unless every URL is loopback (<c>--no-token</c>).</summary>
    public bool NoToken { get; init; }

    public long MaxBodyBytes { get; init; } = DefaultMaxBodyBytes;

    /// <summary>How many parsed trace parts may wait for the writer; a request that finds the queue full is answered 429.</summary>
    public int QueueParts { get; init; } = DefaultQueueParts;

    /// <summary>How many request bodies are read and parsed at once; one more is answered 429 (each holds up to <see cref="MaxBodyBytes"/>).</summary>
    public int ConcurrentReads { get; init; } = Math.Max(4, 2 * Environment.ProcessorCount);

    /// <summary>The most trace parts the writer commits in one store transaction (requests waiting together share one).</summary>
    public int MaxPartsPerCommit { get; init; } = 8192;

    /// <summary>What a 429 or 503 tells the client to wait before retrying.</summary>
    public TimeSpan RetryAfter { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The problems of these options, each a sentence saying what to change; empty when the server may start.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        var loopback = true;
        foreach (var url in Urls)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var secure) && secure.Scheme == Uri.UriSchemeHttps)
            {
                problems.Add($"'{url}': https is not served by recal serve itself; listen on http:// and put a TLS-terminating proxy in front across a network");
                continue;
            }

            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
            {
                problems.Add($"'{url}' is not an http:// URL (write http://127.0.0.1:4318)");
                continue;
            }

            loopback &= IsLoopback(uri);
        }

        if (NoToken && !loopback)
        {
            problems.Add("--no-token is allowed on loopback addresses only (127.0.0.1, [::1], localhost); set RECAL_SERVER_TOKEN to listen on another address");
        }
        else if (!NoToken && string.IsNullOrEmpty(WriteToken))
        {
            problems.Add($"no token: set {WriteTokenVariable} (and optionally {ReadTokenVariable}) in the environment, or pass --no-token to serve loopback without one");
        }

        if (!string.IsNullOrEmpty(ReadToken) && ReadToken == WriteToken)
        {
            problems.Add($"{ReadTokenVariable} equals {WriteTokenVariable}: a read token must differ from the write token, or readers could write");
        }

        if (MaxBodyBytes < 1024)
        {
            problems.Add("the body size limit must be at least 1 KiB");
        }

        if (QueueParts < 1 || ConcurrentReads < 1 || MaxPartsPerCommit < 1)
        {
            problems.Add("the queue, the concurrent reads and the parts per commit must be at least 1");
        }

        return problems;
    }

    /// <summary>Whether a URL names this machine only: 127.0.0.0/8, ::1 or localhost.</summary>
    public static bool IsLoopback(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return uri.IsLoopback || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }
}
