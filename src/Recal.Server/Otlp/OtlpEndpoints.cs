using System.Globalization;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using Recal.Ingest;
using Recal.Ingest.Otel;

namespace Recal.Server.Otlp;

/// <summary>
/// The OTLP/HTTP receiver: <c>POST /v1/traces</c> and <c>POST /v1/logs</c>, protobuf or JSON, optionally gzip, read by
/// the same readers and mapping as <c>recal ingest</c> and answered only after the parts are committed (docs/serve.md).
/// </summary>
public static class OtlpEndpoints
{
    public const string TracesPath = "/v1/traces";
    public const string LogsPath = "/v1/logs";
    public const string Protobuf = "application/x-protobuf";
    public const string Json = "application/json";

    /// <summary>How many rejected records an error message names; the rest are counted.</summary>
    private const int ReasonsNamed = 3;

    /// <summary>Adds the receiver's services: the bounded queue and its one writer.</summary>
    public static IServiceCollection AddOtlpReceiver(this IServiceCollection services)
    {
        services.AddSingleton<IngestQueue>();
        services.AddHostedService(provider => provider.GetRequiredService<IngestQueue>());
        services.AddSingleton(provider => new ReadSlots(provider.GetRequiredService<RecalServerOptions>().ConcurrentReads));
        return services;
    }

    /// <summary>Maps the two export endpoints; both need the write token.</summary>
    public static IEndpointRouteBuilder MapOtlpReceiver(this IEndpointRouteBuilder endpoints)
    {
        // Typed as route handlers (not RequestDelegates), so the access filter runs and the result is written.
        Func<HttpContext, Task<IResult>> traces = http => ReceiveAsync(http, OtlpSignal.Traces);
        Func<HttpContext, Task<IResult>> logs = http => ReceiveAsync(http, OtlpSignal.Logs);
        endpoints.MapPost(TracesPath, traces).Require(Permission.Write, DenyAsync);
        endpoints.MapPost(LogsPath, logs).Require(Permission.Write, DenyAsync);
        return endpoints;
    }

    private static Task DenyAsync(HttpContext http)
    {
        var protobuf = IsProtobuf(http.Request) == true;
        return Status(protobuf, StatusCodes.Status401Unauthorized, 16, "a write token is required: send Authorization: Bearer <RECAL_SERVER_TOKEN>").ExecuteAsync(http);
    }

    /// <summary>True for protobuf, false for JSON, null for any other content type.</summary>
    private static bool? IsProtobuf(HttpRequest request)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var type))
        {
            return null;
        }

        return type.MediaType.Equals(Protobuf, StringComparison.OrdinalIgnoreCase) ? true
            : type.MediaType.Equals(Json, StringComparison.OrdinalIgnoreCase) ? false
            : null;
    }

    private static async Task<IResult> ReceiveAsync(HttpContext http, OtlpSignal signal)
    {
        var services = http.RequestServices;
        var options = services.GetRequiredService<RecalServerOptions>();
        var queue = services.GetRequiredService<IngestQueue>();
        var request = http.Request;
        if (IsProtobuf(request) is not { } protobuf)
        {
            return Status(false, StatusCodes.Status415UnsupportedMediaType, 3, $"Content-Type '{request.ContentType}' is not accepted: send {Protobuf} or {Json}");
        }

        var contentEncoding = request.Headers.ContentEncoding.ToString().Trim();
        var gzip = contentEncoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && contentEncoding.Length > 0 && !contentEncoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return Status(protobuf, StatusCodes.Status415UnsupportedMediaType, 3, $"Content-Encoding '{contentEncoding}' is not accepted: send gzip or no encoding");
        }

        // Turned away before the body is read: a full queue costs the server nothing more.
        if (queue.IsFull)
        {
            return Busy(protobuf, options, "the write queue is full");
        }

        if (request.ContentLength > options.MaxBodyBytes)
        {
            return TooLarge(protobuf, options);
        }

        // A request waits for one of the read slots (its body is not read meanwhile), up to the Retry-After interval.
        var slots = services.GetRequiredService<ReadSlots>();
        if (!await slots.EnterAsync(options.RetryAfter, http.RequestAborted).ConfigureAwait(false))
        {
            return Busy(protobuf, options, "too many requests are being read");
        }

        IngestPipeline.PartBatch batch;
        try
        {
            byte[] body;
            try
            {
                body = await ReadBodyAsync(http, options.MaxBodyBytes, gzip).ConfigureAwait(false);
            }
            catch (BodyTooLargeException)
            {
                return TooLarge(protobuf, options);
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return TooLarge(protobuf, options);
            }
            catch (InvalidDataException e)
            {
                return Status(protobuf, StatusCodes.Status400BadRequest, 3, $"the body is not valid gzip: {e.Message}");
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
            {
                // The client went away or the body ended before its length: nothing was queued.
                return Status(protobuf, StatusCodes.Status400BadRequest, 3, "the body ended before it was complete");
            }

            var context = services.GetRequiredService<RecalServerContext>();
            var parser = new OtlpPayloadParser(protobuf, context.Mapping, signal);
            var check = new IngestPipeline.PartCheck(parser, context.Classify, context.Time.GetUtcNow(), $"POST {request.Path}", PayloadFraming.Document);
            batch = check.Check(body);
        }
        finally
        {
            slots.Exit();
        }

        if (batch.Unreadable)
        {
            var reason = batch.Rejects.FirstOrDefault()?.Reason ?? "the body could not be read";
            var what = signal == OtlpSignal.Logs ? "ExportLogsServiceRequest" : "ExportTraceServiceRequest";
            return Status(protobuf, StatusCodes.Status400BadRequest, 3, $"not an OTLP {what} in {(protobuf ? "protobuf" : "JSON")}: {reason}");
        }

        if (!queue.TryEnqueue(batch, out var committed))
        {
            return Busy(protobuf, options, "the write queue is full");
        }

        try
        {
            await committed.ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Nothing of this request was stored; the client's retry stores it (stored parts are merged, never doubled).
            return Busy(protobuf, options, "the store could not commit the batch", StatusCodes.Status503ServiceUnavailable);
        }

        var rejected = batch.RejectedRecords + batch.Rejects.Count(r => r.Code is "RC2007" or "RC2008");
        var answer = OtlpResponses.Export(signal, protobuf, rejected, Message(batch, signal, rejected));
        return new OtlpResult(StatusCodes.Status200OK, answer, protobuf);
    }

    /// <summary>The partial-success message: the count, and the first reasons with their place; null when nothing was left out.</summary>
    private static string? Message(IngestPipeline.PartBatch batch, OtlpSignal signal, long rejected)
    {
        if (batch.Rejects.Count == 0)
        {
            return null;
        }

        var what = signal == OtlpSignal.Logs ? "log record(s)" : "span(s)";
        var text = new StringBuilder(rejected > 0 ? $"{rejected} {what} rejected, the rest stored" : "stored, with warnings");
        foreach (var reject in batch.Rejects.Take(ReasonsNamed))
        {
            text.Append(CultureInfo.InvariantCulture, $"; {reject.Code} at {reject.Place}: {reject.Reason}");
        }

        if (batch.Rejects.Count > ReasonsNamed)
        {
            text.Append(CultureInfo.InvariantCulture, $"; and {batch.Rejects.Count - ReasonsNamed} more in the server's quarantine file");
        }

        return text.ToString();
    }

    private static OtlpResult Busy(bool protobuf, RecalServerOptions options, string why, int status = StatusCodes.Status429TooManyRequests) =>
        Status(protobuf, status, status == StatusCodes.Status429TooManyRequests ? 8 : 14, $"{why}: retry after {options.RetryAfter.TotalSeconds:0} s") with { RetryAfter = options.RetryAfter };

    private static OtlpResult TooLarge(bool protobuf, RecalServerOptions options) =>
        Status(protobuf, StatusCodes.Status413PayloadTooLarge, 3, $"the body is larger than {options.MaxBodyBytes:N0} bytes (the limit applies before and after gzip; send smaller batches or start the server with a larger --max-body-mib)");

    private static OtlpResult Status(bool protobuf, int status, int code, string message) => new(status, OtlpResponses.Status(protobuf, code, message), protobuf);

    /// <summary>Reads the body whole, at most <paramref name="limit"/> bytes on the wire and after decompression.</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpContext http, long limit, bool gzip)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        var wire = http.Request.Body;
        await using var source = gzip ? new GZipStream(wire, CompressionMode.Decompress, leaveOpen: true) : null;
        var stream = source ?? wire;
        var capacity = http.Request.ContentLength is { } length and > 0 && !gzip ? (int)Math.Min(length, limit) : 64 * 1024;
        var buffer = new byte[capacity];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length >= limit)
                {
                    // One byte more than the limit allows says the body is too large.
                    var probe = new byte[1];
                    if (await stream.ReadAsync(probe, http.RequestAborted).ConfigureAwait(false) > 0)
                    {
                        throw new BodyTooLargeException();
                    }

                    break;
                }

                Array.Resize(ref buffer, (int)Math.Min(limit, (long)buffer.Length * 2));
            }

            var read = await stream.ReadAsync(buffer.AsMemory(filled), http.RequestAborted).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled == buffer.Length ? buffer : buffer[..filled];
    }

    private sealed class BodyTooLargeException : Exception;

    /// <summary>Bounds how many bodies are held at once: memory is at most this many times the body limit, plus the queue.</summary>
    internal sealed class ReadSlots(int slots) : IDisposable
    {
        private readonly SemaphoreSlim _free = new(slots, slots);

        public async Task<bool> EnterAsync(TimeSpan wait, CancellationToken cancellationToken)
        {
            try
            {
                return await _free.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public void Exit() => _free.Release();

        public void Dispose() => _free.Dispose();
    }

    /// <summary>An OTLP answer: the status, a body in the request's encoding, and Retry-After when the client should wait.</summary>
    private sealed record OtlpResult(int StatusCode, byte[] Body, bool Protobuf) : IResult
    {
        public TimeSpan? RetryAfter { get; init; }

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var response = httpContext.Response;
            response.StatusCode = StatusCode;
            response.ContentType = Protobuf ? OtlpEndpoints.Protobuf : OtlpEndpoints.Json;
            if (RetryAfter is { } wait)
            {
                response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            }

            response.ContentLength = Body.Length;
            return response.Body.WriteAsync(Body, httpContext.RequestAborted).AsTask();
        }
    }
}
