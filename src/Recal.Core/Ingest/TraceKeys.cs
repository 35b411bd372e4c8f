using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Recal.Domain;

namespace Recal.Ingest;

/// <summary>The deduplication key of a trace (docs/trace-format.md#deduplication).</summary>
public static class TraceKeys
{
    /// <summary>What the key of a trace with its own id starts with, before the id.</summary>
    public const string IdPrefix = "id:";

    /// <summary>
    /// <c>id:</c> + the trace id when there is one; otherwise <c>sha256:</c> + the hex SHA-256 of the UTF-8 text
    /// timestamp (ISO-8601 UTC, 7 fractional digits) ␟ input ␟ output ␟ model, where a chat input is written as
    /// role␞content pairs separated by ␝.
    /// </summary>
    public static string For(Trace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        if (!string.IsNullOrEmpty(trace.Id))
        {
            return IdPrefix + trace.Id;
        }

        var canonical = new StringBuilder();
        canonical.Append(trace.Timestamp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture)).Append('\u001f');
        if (trace.Input.Text is { } text)
        {
            canonical.Append(text);
        }
        else
        {
            canonical.AppendJoin('\u001d', trace.Input.Messages!.Select(m => m.Role + "\u001e" + m.Content));
        }

        canonical.Append('\u001f').Append(trace.Output).Append('\u001f').Append(trace.Model);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical.ToString())));
    }
}
