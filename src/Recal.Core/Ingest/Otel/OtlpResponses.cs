using System.Text.Json;
using Google.Protobuf;
using Recal.Ingest.Otel.Proto;

namespace Recal.Ingest.Otel;

/// <summary>Which OTLP signal a request carries: the endpoint it was posted to.</summary>
public enum OtlpSignal
{
    /// <summary>Decide from the body (a file: a trace or a logs request).</summary>
    Detect,

    /// <summary>An <c>ExportTraceServiceRequest</c> (<c>/v1/traces</c>).</summary>
    Traces,

    /// <summary>An <c>ExportLogsServiceRequest</c> (<c>/v1/logs</c>).</summary>
    Logs,
}

/// <summary>
/// The bodies an OTLP/HTTP receiver answers with, in the request's encoding: an export response (with
/// <c>partial_success</c> when records were rejected) and a <c>google.rpc.Status</c> for an error.
/// </summary>
public static class OtlpResponses
{
    /// <summary>The export response: <c>partial_success</c> with the count and the message when <paramref name="rejected"/> is above 0; an empty message otherwise.</summary>
    public static byte[] Export(OtlpSignal signal, bool protobuf, long rejected, string? errorMessage)
    {
        var partial = rejected > 0 || !string.IsNullOrEmpty(errorMessage);
        if (protobuf)
        {
            IMessage response = signal == OtlpSignal.Logs
                ? new ExportLogsServiceResponse { PartialSuccess = partial ? new ExportLogsPartialSuccess { RejectedLogRecords = rejected, ErrorMessage = errorMessage ?? string.Empty } : null }
                : new ExportTraceServiceResponse { PartialSuccess = partial ? new ExportTracePartialSuccess { RejectedSpans = rejected, ErrorMessage = errorMessage ?? string.Empty } : null };
            return response.ToByteArray();
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (partial)
            {
                json.WriteStartObject("partialSuccess");

                // OTLP/JSON writes 64-bit integers as decimal strings.
                json.WriteString(signal == OtlpSignal.Logs ? "rejectedLogRecords" : "rejectedSpans", rejected.ToString(System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("errorMessage", errorMessage ?? string.Empty);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A <c>google.rpc.Status</c> with <paramref name="code"/> (a gRPC code: 3 invalid argument, 8 resource exhausted, 14 unavailable, 16 unauthenticated).</summary>
    public static byte[] Status(bool protobuf, int code, string message)
    {
        if (protobuf)
        {
            return new Proto.Rpc.Status { Code = code, Message = message }.ToByteArray();
        }

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("code", code);
            json.WriteString("message", message);
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
