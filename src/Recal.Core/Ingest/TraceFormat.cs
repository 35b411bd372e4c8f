using System.IO.Compression;
using System.Text.Json;

namespace Recal.Ingest;

/// <summary>The trace formats <c>recal ingest --format</c> reads (docs/trace-format.md).</summary>
public enum TraceFormat
{
    /// <summary>Detected from the content (<see cref="TraceFormats.Detect(string)"/>).</summary>
    Auto,

    /// <summary>Recal's own JSONL, one trace per line.</summary>
    Jsonl,

    /// <summary>OTLP/JSON: a TracesData or LogsData per line (the file exporter), or one whole document.</summary>
    OtlpJson,

    /// <summary>OTLP protobuf: one ExportTraceServiceRequest (or ExportLogsServiceRequest) body, or a stream of them each prefixed by its 4-byte big-endian length.</summary>
    OtlpProto,

    /// <summary>Langfuse traces, observations and scores (API JSON or export JSONL).</summary>
    Langfuse,

    /// <summary>LangSmith runs and feedback (JSONL, JSON, or the Parquet bulk export).</summary>
    LangSmith,

    /// <summary>Any JSON or JSONL read through the <c>ingest:</c> mapping of recal.yaml.</summary>
    Mapped,
}

/// <summary>Format names and detection.</summary>
public static class TraceFormats
{
    public static IReadOnlyList<string> Names { get; } = ["auto", "jsonl", "otlp-json", "otlp-proto", "langfuse", "langsmith", "mapped"];

    public static string Name(TraceFormat format) => Names[(int)format];

    public static bool TryParse(string text, out TraceFormat format)
    {
        var index = Names.ToList().FindIndex(n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
        format = index < 0 ? default : (TraceFormat)index;
        return index >= 0;
    }

    /// <summary>How many bytes (decompressed) detection looks at.</summary>
    public const int DetectionBytes = 1 << 20;

    /// <summary>
    /// The format of a file from its first bytes (gzip is looked through): Parquet's magic, protobuf (a field-1
    /// length-delimited tag, or a 4-byte big-endian length before one), or JSON whose first record names OTLP
    /// (<c>resourceSpans</c>/<c>resourceLogs</c>), LangSmith (<c>run_type</c>, <c>run_id</c> with <c>key</c>) or
    /// Langfuse (<c>observations</c>, <c>traceId</c>, <c>sessionId</c>, …) fields. Anything else is Recal's JSONL,
    /// so a JSONL file (even a damaged one) reads exactly as it always has.
    /// </summary>
    public static TraceFormat Detect(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        var gzip = file.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        file.Position = 0;
        using var stream = gzip ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        var head = new byte[DetectionBytes];
        var length = 0;
        int read;
        while (length < head.Length && (read = stream.Read(head, length, head.Length - length)) > 0)
        {
            length += read;
        }

        return Detect(head.AsSpan(0, length));
    }

    public static TraceFormat Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("PAR1"u8))
        {
            return TraceFormat.LangSmith;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            head = head[3..];
        }

        if (LooksLikeProtobuf(head))
        {
            return TraceFormat.OtlpProto;
        }

        var text = head.TrimStart(" \t\r\n"u8);
        if (text.IsEmpty)
        {
            return TraceFormat.Jsonl;
        }

        if (text[0] is not ((byte)'{' or (byte)'['))
        {
            return IsLangfuseCsvHeader(text) ? TraceFormat.Langfuse : TraceFormat.Jsonl;
        }

        // The first record's top-level names: read from the first line, or from the document when it spans lines.
        var names = TopLevelNames(text);
        if (names.Contains("resourceSpans") || names.Contains("resource_spans") || names.Contains("resourceLogs") || names.Contains("resource_logs"))
        {
            return TraceFormat.OtlpJson;
        }

        if (names.Contains("run_type") || (names.Contains("run_id") && names.Contains("key")) || names.Contains("child_runs"))
        {
            return TraceFormat.LangSmith;
        }

        if (names.Contains("observations") || names.Contains("traceId") || names.Contains("sessionId") || names.Contains("projectId")
            || names.Contains("providedModelName") || (names.Contains("dataType") && names.Contains("value")))
        {
            return TraceFormat.Langfuse;
        }

        return TraceFormat.Jsonl;
    }

    /// <summary>
    /// Whether the first line is the header of a Langfuse CSV export: an observations or scores file (<c>trace_id</c>
    /// with <c>type</c>, <c>name</c> or <c>data_type</c>), or a traces file (<c>id</c> and <c>timestamp</c> with
    /// <c>session_id</c>, <c>user_id</c>, <c>release</c> or <c>input</c>), in snake_case or camelCase.
    /// </summary>
    private static bool IsLangfuseCsvHeader(ReadOnlySpan<byte> text)
    {
        var end = text.IndexOfAny("\r\n"u8);
        var line = System.Text.Encoding.UTF8.GetString(end < 0 ? text : text[..end]);
        if (!Exports.CsvFields.TrySplit(line, out var fields, out _) || fields.Count < 3)
        {
            return false;
        }

        var names = fields.Select(f => Exports.LangfuseCsvParser.CamelCase(f.Trim())).ToHashSet(StringComparer.Ordinal);
        return (names.Contains("traceId") && (names.Contains("type") || names.Contains("dataType") || names.Contains("name")))
            || (names.Contains("id") && names.Contains("timestamp") && (names.Contains("sessionId") || names.Contains("userId") || names.Contains("release") || names.Contains("input")));
    }

    private static bool LooksLikeProtobuf(ReadOnlySpan<byte> head)
    {
        // Text never starts a protobuf file: a JSONL file may start with a blank line (0x0A), as a request body does.
        var text = true;
        foreach (var b in head[..Math.Min(head.Length, 64)])
        {
            text &= b is >= 0x20 and < 0x7F or (byte)'\r' or (byte)'\n' or (byte)'\t';
        }

        if (text)
        {
            return false;
        }

        // ExportTraceServiceRequest / ExportLogsServiceRequest: field 1 (0x0A), a varint length, then the resource
        // message's own field 1 or 2 (0x0A or 0x12). The length-prefixed stream: 4 bytes big-endian before that.
        return IsRequestStart(head) || (head.Length > 4 && head[0] < 0x80 && IsRequestStart(head[4..]));
    }

    private static bool IsRequestStart(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 3 || bytes[0] != 0x0A)
        {
            return false;
        }

        var position = 1;
        for (var shift = 0; position < bytes.Length && shift < 35; shift += 7)
        {
            if (bytes[position++] < 0x80)
            {
                return position < bytes.Length && bytes[position] is 0x0A or 0x12;
            }
        }

        return false;
    }

    private static HashSet<string> TopLevelNames(ReadOnlySpan<byte> text)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(text, isFinalBlock: false, new JsonReaderState(new JsonReaderOptions { MaxDepth = 256 }));
        try
        {
            // Into a top-level list ([{…}, …]) or an API page ({"data": [{…}]}) to the first record.
            var depth = 0;
            var wrapped = false;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.StartArray && reader.CurrentDepth == 0)
                {
                    wrapped = true;
                    continue;
                }

                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    depth = reader.CurrentDepth;
                    break;
                }
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == depth + 1)
                {
                    var name = reader.GetString()!;
                    if (name == "data" && !wrapped && depth == 0)
                    {
                        reader.Read();
                        if (reader.TokenType == JsonTokenType.StartArray && reader.Read() && reader.TokenType == JsonTokenType.StartObject)
                        {
                            depth = reader.CurrentDepth;
                            names.Clear();
                            wrapped = true;
                        }

                        continue;
                    }

                    names.Add(name);
                }
                else if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == depth)
                {
                    break;
                }
            }
        }
        catch (JsonException)
        {
            // A damaged first record: what was read before the damage is all detection has.
        }

        return names;
    }

    internal static string Describe(TraceFormat format) => format switch
    {
        TraceFormat.Jsonl => "Recal JSONL",
        TraceFormat.OtlpJson => "OTLP/JSON",
        TraceFormat.OtlpProto => "OTLP protobuf",
        TraceFormat.Langfuse => "Langfuse export",
        TraceFormat.LangSmith => "LangSmith export",
        TraceFormat.Mapped => "mapped JSON",
        _ => "auto",
    };
}
