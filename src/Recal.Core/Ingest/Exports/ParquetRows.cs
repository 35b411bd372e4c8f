using System.Text.Json;
using Parquet;
using Parquet.Serialization;

namespace Recal.Ingest.Exports;

/// <summary>
/// The rows of a Parquet file (LangSmith's bulk export) as JSON payloads, one row group in memory at a time. Columns
/// become fields; nested structures stay nested; JSON text in string columns (LangSmith's inputs, outputs, extra)
/// is read by the parser.
/// </summary>
internal sealed class ParquetRows : IPayloadSource
{
    private readonly FileStream _file;
    private readonly int _rowGroups;
    private int _nextGroup;
    private IList<Dictionary<string, object>>? _rows;
    private int _nextRow;
    private long _rowNumber;

    public ParquetRows(string path)
    {
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var reader = ParquetReader.CreateAsync(_file, leaveStreamOpen: true).GetAwaiter().GetResult();
        _rowGroups = reader.RowGroupCount;
        reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    public static bool IsParquet(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 16);
        Span<byte> magic = stackalloc byte[4];
        return file.Read(magic) == 4 && magic.SequenceEqual("PAR1"u8);
    }

    public long Length => _file.Length;

    public long Position => _rowGroups == 0 ? _file.Length : _file.Length * _nextGroup / _rowGroups;

    public bool ReadBatch(List<RawLine> batch, ref byte[] arena, int maxPayloads, int maxBytes)
    {
        batch.Clear();
        var used = 0;
        while (batch.Count < maxPayloads && used < maxBytes)
        {
            if (_rows is null || _nextRow >= _rows.Count)
            {
                if (_nextGroup >= _rowGroups)
                {
                    break;
                }

                _file.Position = 0;
                _rows = ParquetSerializer.DeserializeUntypedAsync(_file, null, _nextGroup++).GetAwaiter().GetResult().Data;
                _nextRow = 0;
                continue;
            }

            var bytes = JsonSerializer.SerializeToUtf8Bytes(Plain(_rows[_nextRow++]));
            _rowNumber++;
            batch.Add(new RawLine(_rowNumber, bytes, false));
            used += bytes.Length;
        }

        return batch.Count > 0;
    }

    /// <summary>Parquet values as JSON-serialisable ones: times as ISO-8601 UTC text, nested rows and lists kept.</summary>
    private static object? Plain(object? value) => value switch
    {
        null => null,
        DateTime t => DateTime.SpecifyKind(t, t.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : t.Kind).ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        DateTimeOffset t => t.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        IDictionary<string, object> map => map.ToDictionary(kv => kv.Key, kv => Plain(kv.Value), StringComparer.Ordinal),
        string s => s,
        byte[] b => Convert.ToBase64String(b),
        System.Collections.IEnumerable list => list.Cast<object?>().Select(Plain).ToArray(),
        _ => value,
    };

    public void Dispose() => _file.Dispose();
}
