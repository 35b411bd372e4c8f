using System.Buffers;
using System.IO.Compression;

namespace Recal.Ingest;

/// <summary>One raw line of a trace file: 1-based number and its bytes without the line ending.</summary>
public readonly record struct RawLine(long Number, ReadOnlyMemory<byte> Bytes, bool TooLong);

/// <summary>
/// Streams a trace file line by line with bounded memory. Gzip is detected by its magic bytes, not the
/// extension. A UTF-8 byte order mark at the start is skipped. CRLF and LF endings are both accepted. Lines longer than <see cref="MaxLineBytes"/> are reported
/// as too long (and skipped) instead of being buffered.
/// </summary>
public sealed class TraceFileReader : IDisposable, IPayloadSource
{
    /// <summary>The longest line read whole: 16 MiB, comfortably above a 10 MB trace.</summary>
    public const int MaxLineBytes = 16 * 1024 * 1024;

    private readonly FileStream _file;
    private readonly Stream _stream;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
    private int _start;
    private int _end;
    private bool _eof;
    private long _lineNumber;

    public TraceFileReader(string path)
    {
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Span<byte> magic = stackalloc byte[2];
        var read = _file.Read(magic);
        _file.Position = 0;
        IsGzip = read == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        _stream = IsGzip ? new GZipStream(_file, CompressionMode.Decompress) : _file;
        SkipByteOrderMark();
    }

    public bool IsGzip { get; }

    /// <summary>Whether the text started with a UTF-8 byte order mark (skipped, as editors on Windows write one).</summary>
    public bool HadByteOrderMark { get; private set; }

    /// <summary>The file's length on disk (compressed length for gzip).</summary>
    public long Length => _file.Length;

    /// <summary>How far into the file on disk the reader is, for progress.</summary>
    public long Position => _file.Position;

    /// <summary>
    /// Reads up to <paramref name="maxLines"/> lines into <paramref name="lines"/>, copying their bytes into
    /// <paramref name="arena"/> (grown as needed) so the batch outlives the read buffer. Returns false at the end.
    /// </summary>
    public bool ReadBatch(List<RawLine> lines, ref byte[] arena, int maxLines, int maxArenaBytes)
    {
        ArgumentNullException.ThrowIfNull(lines);
        lines.Clear();
        var used = 0;
        while (lines.Count < maxLines && used < maxArenaBytes && TryReadLine(out var line, out var tooLong))
        {
            _lineNumber++;
            if (tooLong)
            {
                lines.Add(new RawLine(_lineNumber, ReadOnlyMemory<byte>.Empty, true));
                continue;
            }

            if (arena.Length < used + line.Length)
            {
                Array.Resize(ref arena, Math.Max(arena.Length * 2, used + line.Length));
            }

            line.CopyTo(arena.AsSpan(used));
            lines.Add(new RawLine(_lineNumber, new ReadOnlyMemory<byte>(arena, used, line.Length), false));
            used += line.Length;
        }

        Rebase(lines, arena);
        return lines.Count > 0;
    }

    /// <summary>
    /// Points a batch's slices at <paramref name="arena"/>, where their bytes lie one after another: growing the arena
    /// moved them, and the earlier slices still name the old array.
    /// </summary>
    internal static void Rebase(List<RawLine> lines, byte[] arena)
    {
        var offset = 0;
        for (var i = 0; i < lines.Count; i++)
        {
            if (!lines[i].TooLong)
            {
                lines[i] = lines[i] with { Bytes = new ReadOnlyMemory<byte>(arena, offset, lines[i].Bytes.Length) };
                offset += lines[i].Bytes.Length;
            }
        }
    }

    private void SkipByteOrderMark()
    {
        while (_end < 3)
        {
            var read = _stream.Read(_buffer, _end, 3 - _end);
            if (read == 0)
            {
                _eof = true;
                break;
            }

            _end += read;
        }

        if (_buffer.AsSpan(0, _end).StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            _start = 3;
            HadByteOrderMark = true;
        }
    }

    private bool TryReadLine(out ReadOnlySpan<byte> line, out bool tooLong)
    {
        tooLong = false;
        var skipping = false;
        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0 || (_eof && (_end > _start || skipping)))
            {
                var length = newline >= 0 ? newline : _end - _start;
                var lineStart = _start;
                _start = newline >= 0 ? _start + newline + 1 : _end;
                tooLong = skipping;
                if (!skipping && length > 0 && _buffer[lineStart + length - 1] == (byte)'\r')
                {
                    length--;
                }

                line = skipping ? default : _buffer.AsSpan(lineStart, length);
                return true;
            }

            if (_eof)
            {
                line = default;
                return false;
            }

            // No newline in the buffered bytes: compact, grow (up to the line limit) or start skipping, then read more.
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                if (_buffer.Length >= MaxLineBytes)
                {
                    skipping = true;
                    _start = _end = 0;
                }
                else
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(_buffer.Length * 2, MaxLineBytes));
                    Buffer.BlockCopy(_buffer, 0, bigger, 0, _end);
                    ArrayPool<byte>.Shared.Return(_buffer);
                    _buffer = bigger;
                }
            }

            var read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0)
            {
                _eof = true;
            }

            _end += read;
        }
    }

    public void Dispose()
    {
        _stream.Dispose();
        _file.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }
}
