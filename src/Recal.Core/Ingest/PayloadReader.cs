using System.Buffers.Binary;
using System.IO.Compression;

namespace Recal.Ingest;

/// <summary>How a file of a multi-record format is cut into payloads.</summary>
public enum PayloadFraming
{
    /// <summary>One JSON payload per line (JSONL, the OTel file exporter).</summary>
    Lines,

    /// <summary>The whole file is one payload (a JSON document, one protobuf request body).</summary>
    Document,

    /// <summary>Protobuf request bodies, each prefixed by its length as 4 bytes big-endian.</summary>
    LengthPrefixed,

    /// <summary>The rows of a Parquet file, each as one JSON object.</summary>
    Rows,
}

/// <summary>
/// Reads the payloads of a file in batches: lines through <see cref="TraceFileReader"/> (bounded memory), a whole
/// document (up to <see cref="MaxDocumentBytes"/>), or length-prefixed protobuf messages one at a time. A payload's
/// <see cref="RawLine.Number"/> is its line, or its message number for protobuf.
/// </summary>
internal sealed class PayloadReader : IPayloadSource
{
    /// <summary>The largest whole document read: beyond it, export one record per line instead.</summary>
    public const long MaxDocumentBytes = 1L << 30;

    /// <summary>The largest length-prefixed message read (OTLP exporters send a few MiB at most).</summary>
    public const int MaxMessageBytes = 256 * 1024 * 1024;

    private readonly TraceFileReader? _lines;
    private readonly FileStream? _file;
    private readonly Stream? _stream;
    private readonly PayloadFraming _framing;
    private bool _done;
    private long _messages;

    public PayloadReader(string path, PayloadFraming framing)
    {
        _framing = framing;
        if (framing == PayloadFraming.Lines)
        {
            _lines = new TraceFileReader(path);
            return;
        }

        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Span<byte> magic = stackalloc byte[2];
        var gzip = _file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        _file.Position = 0;
        _stream = gzip ? new GZipStream(_file, CompressionMode.Decompress) : _file;
    }

    public long Length => _lines?.Length ?? _file!.Length;

    public long Position => _lines?.Position ?? _file!.Position;

    /// <summary>
    /// The framing of a JSON file: lines when its first non-blank line is a whole JSON object (or it is gzip, which the
    /// line reader looks through), else one document (a pretty-printed export, a top-level list).
    /// </summary>
    public static PayloadFraming JsonFraming(string path) =>
        FirstLine(path) is { } text && !(text[0] == (byte)'{' && IsWholeJson(text)) ? PayloadFraming.Document : PayloadFraming.Lines;

    /// <summary>The file's first line that is not blank (through gzip, without the byte order mark), trimmed; null when there is none.</summary>
    public static byte[]? FirstLine(string path)
    {
        using var reader = new TraceFileReader(path);
        var lines = new List<RawLine>(1);
        var arena = new byte[1 << 16];
        while (reader.ReadBatch(lines, ref arena, 1, TraceFileReader.MaxLineBytes))
        {
            foreach (var line in lines)
            {
                var text = line.Bytes.Span.Trim(" \t\r"u8);
                if (!line.TooLong && !text.IsEmpty)
                {
                    return text.ToArray();
                }
            }
        }

        return null;
    }

    /// <summary>The framing of a protobuf file: one request body (it starts with field 1's tag) or length-prefixed bodies.</summary>
    public static PayloadFraming ProtobufFraming(string path)
    {
        using var reader = new PayloadReader(path, PayloadFraming.Document);
        var first = reader._stream!.ReadByte();
        return first == 0x0A ? PayloadFraming.Document : PayloadFraming.LengthPrefixed;
    }

    private static bool IsWholeJson(ReadOnlySpan<byte> text)
    {
        var reader = new System.Text.Json.Utf8JsonReader(text, new System.Text.Json.JsonReaderOptions { MaxDepth = 256 });
        try
        {
            reader.Read();
            reader.Skip();
            return reader.BytesConsumed == text.Length;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    public bool ReadBatch(List<RawLine> batch, ref byte[] arena, int maxPayloads, int maxBytes)
    {
        if (_lines is not null)
        {
            return _lines.ReadBatch(batch, ref arena, maxPayloads, maxBytes);
        }

        batch.Clear();
        if (_done)
        {
            return false;
        }

        if (_framing == PayloadFraming.Document)
        {
            _done = true;
            using var buffer = new MemoryStream();
            var chunk = new byte[1 << 16];
            int read;
            while ((read = _stream!.Read(chunk)) > 0)
            {
                buffer.Write(chunk, 0, read);
                if (buffer.Length > MaxDocumentBytes)
                {
                    batch.Add(new RawLine(1, ReadOnlyMemory<byte>.Empty, true));
                    return true;
                }
            }

            var bytes = buffer.ToArray();
            if (bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            {
                bytes = bytes[3..];
            }

            batch.Add(new RawLine(1, bytes, false));
            return true;
        }

        var used = 0;
        Span<byte> prefix = stackalloc byte[4];
        while (batch.Count < maxPayloads && used < maxBytes)
        {
            var got = ReadFully(prefix);
            if (got == 0)
            {
                _done = true;
                break;
            }

            _messages++;
            var length = got < 4 ? -1L : BinaryPrimitives.ReadUInt32BigEndian(prefix);
            if (length < 0 || length > MaxMessageBytes)
            {
                // A damaged prefix: nothing after it can be framed again.
                batch.Add(new RawLine(_messages, ReadOnlyMemory<byte>.Empty, true));
                _done = true;
                break;
            }

            // Messages are read into the batch's arena (grown when one does not fit), not an array each.
            if (arena.Length - used < length)
            {
                var bigger = new byte[Math.Max(arena.Length * 2, used + (int)length)];
                arena.AsSpan(0, used).CopyTo(bigger);
                arena = bigger;
            }

            var filled = ReadFully(arena.AsSpan(used, (int)length));
            batch.Add(new RawLine(_messages, new ReadOnlyMemory<byte>(arena, used, filled), false));
            used += filled;
            if (filled < length)
            {
                _done = true;
                break;
            }
        }

        TraceFileReader.Rebase(batch, arena);
        return batch.Count > 0;
    }

    private int ReadFully(Span<byte> buffer)
    {
        var total = 0;
        int read;
        while (total < buffer.Length && (read = _stream!.Read(buffer[total..])) > 0)
        {
            total += read;
        }

        return total;
    }

    public void Dispose()
    {
        _lines?.Dispose();
        _stream?.Dispose();
        _file?.Dispose();
    }
}
