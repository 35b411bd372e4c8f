using System.Text;
using System.Text.Json;

namespace Recal.Ingest;

/// <summary>
/// Appends rejected lines to a JSONL quarantine file: source, line number, reason, and the raw line
/// (invalid UTF-8 replaced by U+FFFD; cut at 64 KiB with <c>truncated: true</c>). Flushed after every batch.
/// </summary>
public sealed class QuarantineWriter : IDisposable
{
    public const int MaxRawBytes = 64 * 1024;

    private readonly string _path;
    private FileStream? _stream;
    private Utf8JsonWriter? _json;

    public QuarantineWriter(string path) => _path = path ?? throw new ArgumentNullException(nameof(path));

    public long Count { get; private set; }

    public void Write(string source, long line, string code, string reason, ReadOnlySpan<byte> raw)
    {
        if (_stream is null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
            _stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
            _json = new Utf8JsonWriter(_stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        }

        var truncated = raw.Length > MaxRawBytes;
        var text = Encoding.UTF8.GetString(truncated ? raw[..MaxRawBytes] : raw);
        _json!.Reset(_stream);
        _json.WriteStartObject();
        _json.WriteString("source", source);
        _json.WriteNumber("line", line);
        _json.WriteString("code", code);
        _json.WriteString("reason", reason);
        _json.WriteString("raw", text);
        _json.WriteBoolean("truncated", truncated);
        _json.WriteEndObject();
        _json.Flush();
        _stream!.WriteByte((byte)'\n');
        Count++;
    }

    public void Flush() => _stream?.Flush(flushToDisk: false);

    public void Dispose()
    {
        _json?.Dispose();
        _stream?.Dispose();
    }
}
