using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Recal.Diagnostics;

namespace Recal.Ingest;

/// <summary>
/// Appends rejected lines of one source file to a JSONL quarantine file: source, line number, place (file:line, and
/// the record inside the line for multi-record formats: "traces.jsonl:3 resourceSpans[0].scopeSpans[0].spans[2] (span …)"), reason, and the raw
/// line (invalid UTF-8 replaced by U+FFFD; cut at 64 KiB with <c>truncated: true</c>). Flushed after every batch.
/// A record already quarantined by an earlier ingest of the same file (same source, line number, place and text) is counted
/// but not appended again, so reruns do not grow the file.
/// </summary>
public sealed class QuarantineWriter : IDisposable
{
    public const int MaxRawBytes = 64 * 1024;

    private readonly string _path;
    private readonly string _source;
    private HashSet<(long Line, ulong RawHash)>? _earlier;
    private FileStream? _stream;
    private readonly ILogger _logger;
    private Utf8JsonWriter? _json;

    /// <param name="logger">Gets a Warning for every record quarantined (its place, code and reason; never the raw text).</param>
    public QuarantineWriter(string path, string source, ILogger? logger = null)
    {
        _path = path ?? throw new ArgumentNullException(nameof(path));
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Lines rejected in this ingest, whether appended now or already in the file.</summary>
    public long Count { get; private set; }

    /// <param name="place">Where in the file: defaults to <c>source:line</c>.</param>
    public void Write(long line, string code, string reason, ReadOnlySpan<byte> raw, string? place = null)
    {
        var truncated = raw.Length > MaxRawBytes;
        var text = Encoding.UTF8.GetString(truncated ? raw[..MaxRawBytes] : raw);
        place ??= $"{_source}:{line}";
        Count++;
        RecalLog.RecordQuarantined(_logger, place, code, reason);
        _earlier ??= ReadEarlier();
        if (!_earlier.Add((line, Hash(place + "\u0000" + text))))
        {
            return;
        }

        if (_stream is null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
            _stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
            _json = new Utf8JsonWriter(_stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }

        _json!.Reset(_stream);
        _json.WriteStartObject();
        _json.WriteString("source", _source);
        _json.WriteNumber("line", line);
        _json.WriteString("place", place);
        _json.WriteString("code", code);
        _json.WriteString("reason", reason);
        _json.WriteString("raw", text);
        _json.WriteBoolean("truncated", truncated);
        _json.WriteEndObject();
        _json.Flush();
        _stream!.WriteByte((byte)'\n');
    }

    public void Flush() => _stream?.Flush(flushToDisk: false);

    public void Dispose()
    {
        _json?.Dispose();
        _stream?.Dispose();
    }

    /// <summary>The lines of this source already in the quarantine file; unreadable entries are ignored.</summary>
    private HashSet<(long, ulong)> ReadEarlier()
    {
        var earlier = new HashSet<(long, ulong)>();
        if (!File.Exists(_path))
        {
            return earlier;
        }

        foreach (var entry in File.ReadLines(_path))
        {
            try
            {
                using var document = JsonDocument.Parse(entry);
                var root = document.RootElement;
                if (root.TryGetProperty("source", out var source) && source.ValueEquals(_source)
                    && root.TryGetProperty("line", out var line) && root.TryGetProperty("raw", out var raw))
                {
                    var place = root.TryGetProperty("place", out var p) ? p.GetString() : $"{_source}:{line.GetInt64()}";
                    earlier.Add((line.GetInt64(), Hash(place + "\u0000" + (raw.GetString() ?? string.Empty))));
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
            {
                // A damaged quarantine line only means that line may be quarantined again.
            }
        }

        return earlier;
    }

    /// <summary>64-bit FNV-1a over the UTF-16 code units: stable across processes, unlike string.GetHashCode.</summary>
    private static ulong Hash(string text)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }
}
