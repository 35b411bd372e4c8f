using Recal.Domain;
using static Recal.Ingest.Exports.ExportRecords;
using static Recal.Ingest.Otel.AttributeValues;

namespace Recal.Ingest.Exports;

/// <summary>
/// Langfuse's traces, observations and scores, as its public API returns them (a page <c>{"data": [...]}</c>, one
/// trace with its <c>observations</c> and <c>scores</c>) and as its export writes them (JSON or JSONL). A trace is
/// keyed by its id; its generations (observations of type GENERATION) and scores are parts of it, in whatever file
/// they come. Which record is which is read from its fields: a score has <c>name</c> and <c>value</c>/<c>dataType</c>
/// with a <c>traceId</c>; an observation has <c>traceId</c> and <c>type</c>; a trace has neither <c>traceId</c> nor <c>type</c>.
/// </summary>
public sealed class LangfuseParser(FeedbackMap? feedback = null) : IPayloadParser
{
    private readonly FeedbackMap _feedback = feedback ?? FeedbackMap.Default;

    public PayloadParts Parse(ReadOnlyMemory<byte> payload)
    {
        var parts = new PayloadParts();
        foreach (var (record, place) in Records(payload.Span, parts, "Langfuse trace, observation or score"))
        {
            parts.Spans++;
            Read(record, place, parts);
        }

        return parts;
    }

    /// <summary>One trace, observation or score record into parts.</summary>
    internal void Read(IReadOnlyDictionary<string, object?> record, string place, PayloadParts parts)
    {
        var traceId = Field(record, "traceId");
        if (traceId is not null && record.ContainsKey("name") && (record.ContainsKey("dataType") || (record.ContainsKey("value") && !record.ContainsKey("type"))))
        {
            Score(record, traceId, place, parts);
        }
        else if (traceId is not null)
        {
            Observation(record, traceId, place, parts);
        }
        else
        {
            Trace(record, place, parts);
        }
    }

    private void Trace(IReadOnlyDictionary<string, object?> record, string place, PayloadParts parts)
    {
        var id = Field(record, "id");
        var where = $"{place} (trace {id ?? "without id"})".TrimStart();
        if (id is null)
        {
            parts.Problems.Add(new PayloadProblem("RC2004", where, "field 'id' is missing (a Langfuse trace has an id)"));
            return;
        }

        // A trace fetched with its observations and scores carries them inline.
        var generations = (List(record.GetValueOrDefault("observations")) ?? []).Select(Map).Where(o => o is not null && Field(o, "type") == "GENERATION").ToList();
        var input = Input(record.GetValueOrDefault("input"));
        var output = Output(record.GetValueOrDefault("output"));
        string? model = null;
        foreach (var generation in generations)
        {
            model = Field(generation!, "providedModelName") ?? Field(generation!, "model") ?? model;
        }

        if (input is null && generations.Count > 0)
        {
            input = Input(generations[0]!.GetValueOrDefault("input"));
            output ??= Output(generations[^1]!.GetValueOrDefault("output"));
        }

        if (Time(record.GetValueOrDefault("timestamp")) is not { } timestamp)
        {
            parts.Problems.Add(new PayloadProblem("RC2004", where, "field 'timestamp' is missing or not an ISO-8601 time"));
            return;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in (string[])["name", "release", "version", "userId", "sessionId", "environment"])
        {
            Add(metadata, key, record.GetValueOrDefault(key));
        }

        Add(metadata, "tags", record.GetValueOrDefault("tags") is object?[] { Length: > 0 } tags ? tags : null);
        AddFields(metadata, record.GetValueOrDefault("metadata"));
        var fb = Feedback.None;
        foreach (var score in (List(record.GetValueOrDefault("scores")) ?? []).Select(Map).Where(s => s is not null))
        {
            fb = ApplyScore(fb, score!, where, parts);
        }

        if (input is null)
        {
            // Its generations (in another file, or later) say what was asked: the trace's metadata waits for them.
            parts.Parts.Add(TracePart.ForFeedback(id, fb, where) with { Metadata = metadata, Model = model });
            return;
        }

        parts.Parts.Add(TracePart.ForTrace(new Trace(id, timestamp, input, output, model, metadata, fb, null), where));
    }

    private static void Observation(IReadOnlyDictionary<string, object?> record, string traceId, string place, PayloadParts parts)
    {
        var where = $"{place} (observation {Field(record, "id") ?? "without id"} of trace {traceId})".TrimStart();
        if (Field(record, "type") != "GENERATION")
        {
            // Spans and events of a trace say nothing about what the user asked or got.
            return;
        }

        var input = Input(record.GetValueOrDefault("input"));
        var time = Time(record.GetValueOrDefault("startTime"));
        var model = Field(record, "providedModelName") ?? Field(record, "model");
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Map(record.GetValueOrDefault("usageDetails") ?? record.GetValueOrDefault("usage")) is { } usage)
        {
            foreach (var (key, value) in usage)
            {
                Add(metadata, "usage." + key, value);
            }
        }

        if (input is null || time is null)
        {
            parts.Parts.Add(TracePart.ForFeedback(traceId, Feedback.None, where) with { Metadata = metadata, Model = model });
            return;
        }

        parts.Parts.Add(TracePart.ForTrace(new Trace(traceId, time.Value, input, Output(record.GetValueOrDefault("output")), model, metadata, Feedback.None, null), where));
    }

    private void Score(IReadOnlyDictionary<string, object?> record, string traceId, string place, PayloadParts parts)
    {
        var where = $"{place} (score {Field(record, "id") ?? Field(record, "name")} of trace {traceId})".TrimStart();
        var fb = ApplyScore(Feedback.None, record, where, parts);
        if (fb != Feedback.None)
        {
            parts.Parts.Add(TracePart.ForFeedback(traceId, fb, where));
        }
    }

    /// <summary>A score by its name: NUMERIC and BOOLEAN scores give their value, CATEGORICAL ones their string value.</summary>
    private Feedback ApplyScore(Feedback fb, IReadOnlyDictionary<string, object?> score, string where, PayloadParts parts)
    {
        var name = Field(score, "name") ?? string.Empty;
        var value = Field(score, "dataType") == "CATEGORICAL" ? score.GetValueOrDefault("stringValue") ?? score.GetValueOrDefault("value") : score.GetValueOrDefault("value");
        var applied = _feedback.Apply(fb, name, value, Field(score, "stringValue"), out var error);
        if (error is not null)
        {
            parts.Problems.Add(new PayloadProblem("RC2003", where, error));
        }

        return applied;
    }
}

/// <summary>
/// One record of a Langfuse CSV export (blob storage's <c>traces</c>, <c>observations</c> and <c>scores</c> files, or
/// the UI's export) against the file's header: columns in snake_case (<c>trace_id</c>, <c>provided_model_name</c>) or
/// camelCase, JSON-encoded values (<c>input</c>, <c>output</c>, <c>metadata</c>, <c>tags</c>, <c>usage_details</c>)
/// read as JSON, empty cells as absent; then read as the JSON export's record is. A record that is not CSV, or whose
/// field count is not the header's, is a problem (its line is quarantined) and the rest of the file is read.
/// </summary>
public sealed class LangfuseCsvParser : IPayloadParser
{
    private readonly string[] _columns;
    private readonly string[] _header;
    private readonly LangfuseParser _records;

    public LangfuseCsvParser(IReadOnlyList<string> header, FeedbackMap? feedback = null)
    {
        ArgumentNullException.ThrowIfNull(header);
        _header = [.. header];
        _columns = [.. header.Select(h => CamelCase(h.Trim()))];
        _records = new LangfuseParser(feedback);
    }

    public PayloadParts Parse(ReadOnlyMemory<byte> payload)
    {
        var parts = new PayloadParts();
        string text;
        try
        {
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload.Span);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            parts.Problems.Add(new PayloadProblem("RC2001", "(CSV record)", $"the record is not valid UTF-8 (byte {e.Index + 1})"));
            return parts;
        }

        if (_columns.Length == 0)
        {
            parts.Problems.Add(new PayloadProblem("RC2004", "(CSV record)", "the file has no readable header: its first line must name the columns (as the export writes them: id,timestamp,name,… or id,trace_id,type,…) and close every quote it opens"));
            return parts;
        }

        if (!CsvFields.TrySplit(text, out var fields, out var error))
        {
            parts.Problems.Add(new PayloadProblem("RC2001", "(CSV record)", error!));
            return parts;
        }

        if (fields.Count != _columns.Length)
        {
            parts.Problems.Add(new PayloadProblem("RC2003", "(CSV record)",
                $"the record has {fields.Count} field(s) where the header names {_columns.Length} ({string.Join(", ", _header.Take(8))}{(_header.Length > 8 ? ", …" : string.Empty)}); a field holding a comma, a quote or a line break must be quoted"));
            return parts;
        }

        var record = new Dictionary<string, object?>(_columns.Length, StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            if (fields[i].Length > 0)
            {
                record[_columns[i]] = Cell(_columns[i], fields[i]);
            }
        }

        parts.Spans++;
        _records.Read(record, string.Empty, parts);
        return parts;
    }

    /// <summary>A cell's value: JSON lists and objects as structures, a JSON-encoded string as its text, a score's value as a number.</summary>
    private static object? Cell(string column, string text)
    {
        var trimmed = text.AsSpan().Trim();
        if (trimmed.Length >= 2 && trimmed[0] is '{' or '[')
        {
            return Structure(trimmed.ToString());
        }

        if (trimmed.Length >= 2 && trimmed[0] == '"' && column is "input" or "output" or "metadata")
        {
            try
            {
                return System.Text.Json.JsonSerializer.Deserialize<string>(trimmed);
            }
            catch (System.Text.Json.JsonException)
            {
                return text;
            }
        }

        if (column == "value" && double.TryParse(trimmed, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        return text;
    }

    /// <summary><c>trace_id</c> as <c>traceId</c>; a name without underscores is kept.</summary>
    internal static string CamelCase(string name)
    {
        if (!name.Contains('_', StringComparison.Ordinal))
        {
            return name;
        }

        var builder = new System.Text.StringBuilder(name.Length);
        var upper = false;
        foreach (var c in name)
        {
            if (c == '_')
            {
                upper = builder.Length > 0;
                continue;
            }

            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }

        return builder.ToString();
    }
}
