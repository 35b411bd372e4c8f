using System.Text;

namespace Recal.Ingest.Exports;

/// <summary>
/// The records of a CSV file (Langfuse's blob and UI exports) as payloads: one per record, its text with the line breaks
/// of quoted fields kept, numbered by the line it starts on. The first record is the header. A quoted field that never
/// closes (at the end of the file, or past <see cref="TraceFileReader.MaxLineBytes"/>) is not allowed to swallow the
/// rest: its first line is given alone (the parser reports the unclosed quote) and reading goes on from the next line;
/// so does a record over several lines whose fields are not the header's (its quote was closed by a stray one later).
/// </summary>
internal sealed class CsvRecords : IPayloadSource
{
    private readonly TraceFileReader _lines;
    private readonly LinkedList<(long Number, byte[] Bytes, bool TooLong)> _ahead = new();
    private readonly List<RawLine> _read = new(256);
    private byte[] _arena = new byte[1 << 16];
    private bool _eof;

    public CsvRecords(string path)
    {
        _lines = new TraceFileReader(path);
        while (NextLine(out var line))
        {
            if (line.Bytes.AsSpan().Trim(" \t"u8).IsEmpty && !line.TooLong)
            {
                continue;
            }

            _ahead.AddFirst(line);
            if (NextRecord() is { } header && CsvFields.TrySplit(Encoding.UTF8.GetString(header.Bytes.Span), out var names, out _))
            {
                Header = [.. names];
                HeaderLine = header.Number;
            }

            break;
        }
    }

    /// <summary>The header's column names (empty for an empty file or a header that is not CSV).</summary>
    public IReadOnlyList<string> Header { get; } = [];

    public long HeaderLine { get; }

    public long Length => _lines.Length;

    public long Position => _lines.Position;

    /// <summary>Whether a Langfuse file is CSV: its first non-blank text is not JSON.</summary>
    public static bool IsCsv(string path) => PayloadReader.FirstLine(path) is { } text && text[0] is not ((byte)'{' or (byte)'[');

    public bool ReadBatch(List<RawLine> batch, ref byte[] arena, int maxPayloads, int maxBytes)
    {
        batch.Clear();
        var used = 0;
        while (batch.Count < maxPayloads && used < maxBytes && NextRecord() is { } record)
        {
            batch.Add(record);
            used += record.Bytes.Length;
        }

        return batch.Count > 0;
    }

    private RawLine? NextRecord()
    {
        if (!NextLine(out var first))
        {
            return null;
        }

        if (first.TooLong || !CsvFields.OpensQuote(first.Bytes, false))
        {
            return new RawLine(first.Number, first.Bytes, first.TooLong);
        }

        // A quoted field goes on over the next lines until its quote closes.
        var lines = new List<(long Number, byte[] Bytes, bool TooLong)> { first };
        var size = first.Bytes.Length;
        var open = true;
        while (open)
        {
            if (size > TraceFileReader.MaxLineBytes || !NextLine(out var next) || next.TooLong)
            {
                // Never closed: the first line alone is the record; the lines after it are read again as records.
                for (var i = lines.Count - 1; i >= 1; i--)
                {
                    _ahead.AddFirst(lines[i]);
                }

                return new RawLine(first.Number, first.Bytes, false);
            }

            lines.Add(next);
            size += next.Bytes.Length + 1;
            open = CsvFields.OpensQuote(next.Bytes, true);
        }

        var joined = new byte[size];
        var at = 0;
        foreach (var (_, bytes, _) in lines)
        {
            if (at > 0)
            {
                joined[at++] = (byte)'\n';
            }

            bytes.CopyTo(joined, at);
            at += bytes.Length;
        }

        // A quote that never closed is closed by the next stray one: lines that do not make a record of the header's
        // fields are read again, one by one, from the second.
        if (Header.Count > 0 && (!CsvFields.TrySplit(Encoding.UTF8.GetString(joined), out var fields, out _) || fields.Count != Header.Count))
        {
            for (var i = lines.Count - 1; i >= 1; i--)
            {
                _ahead.AddFirst(lines[i]);
            }

            return new RawLine(first.Number, first.Bytes, false);
        }

        return new RawLine(first.Number, joined, false);
    }

    private bool NextLine(out (long Number, byte[] Bytes, bool TooLong) line)
    {
        if (_ahead.Count == 0 && !_eof)
        {
            if (!_lines.ReadBatch(_read, ref _arena, 256, 1 << 20))
            {
                _eof = true;
            }

            foreach (var read in _read)
            {
                var bytes = read.Bytes.Span;
                _ahead.AddLast((read.Number, (bytes.EndsWith("\r"u8) ? bytes[..^1] : bytes).ToArray(), read.TooLong));
            }
        }

        if (_ahead.First is { } node)
        {
            line = node.Value;
            _ahead.RemoveFirst();
            return true;
        }

        line = default;
        return false;
    }

    public void Dispose() => _lines.Dispose();
}

/// <summary>Splitting CSV records (RFC 4180: fields separated by commas, quoted with <c>"</c>, a quote inside written <c>""</c>).</summary>
internal static class CsvFields
{
    /// <summary>Whether a quoted field is open at the end of the line, given whether one was open at its start.</summary>
    public static bool OpensQuote(ReadOnlySpan<byte> line, bool open)
    {
        foreach (var b in line)
        {
            if (b == (byte)'"')
            {
                open = !open;
            }
        }

        return open;
    }

    /// <summary>The fields of one record; false with what is wrong when a quoted field does not close.</summary>
    public static bool TrySplit(string record, out List<string> fields, out string? error)
    {
        fields = [];
        error = null;
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            field.Clear();
            if (i < record.Length && record[i] == '"')
            {
                var start = i++;
                while (true)
                {
                    if (i >= record.Length)
                    {
                        error = $"the quoted field that starts at character {start + 1} never closes: a field's closing '\"' is missing (a '\"' inside a quoted field is written '\"\"')";
                        return false;
                    }

                    if (record[i] == '"')
                    {
                        if (i + 1 < record.Length && record[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    field.Append(record[i++]);
                }

                // Text between the closing quote and the next comma is kept, as spreadsheets do.
                while (i < record.Length && record[i] != ',')
                {
                    field.Append(record[i++]);
                }
            }
            else
            {
                while (i < record.Length && record[i] != ',')
                {
                    field.Append(record[i++]);
                }
            }

            fields.Add(field.ToString());
            if (i >= record.Length)
            {
                return true;
            }

            i++;
        }
    }
}
