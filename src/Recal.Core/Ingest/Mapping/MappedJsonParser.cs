using System.Text.Json;
using Recal.Domain;
using Recal.Ingest.Exports;
using static Recal.Ingest.Otel.AttributeValues;

namespace Recal.Ingest.Mapping;

/// <summary>Reads records of any JSON or JSONL file through the <c>ingest:</c> mapping of recal.yaml.</summary>
public sealed class MappedJsonParser(IngestMapping mapping) : IPayloadParser
{
    public PayloadParts Parse(ReadOnlyMemory<byte> payload)
    {
        var parts = new PayloadParts();
        object? root;
        try
        {
            var reader = new Utf8JsonReader(payload.Span, new JsonReaderOptions { MaxDepth = 256 });
            using var document = JsonDocument.ParseValue(ref reader);
            root = FromJson(document.RootElement);
        }
        catch (JsonException e)
        {
            parts.Problems.Add(new PayloadProblem("RC2001", "payload", $"not valid JSON at byte {(e.BytePositionInLine ?? 0) + 1}"));
            return parts;
        }

        var records = mapping.Records is { } path ? path.Select(root) : root;
        if (records is IReadOnlyDictionary<string, object?> single)
        {
            parts.Spans = 1;
            Read(single, string.Empty, parts);
        }
        else if (records is object?[] list)
        {
            parts.Spans = list.Length;
            for (var i = 0; i < list.Length; i++)
            {
                if (list[i] is IReadOnlyDictionary<string, object?> record)
                {
                    Read(record, $"[{i}]", parts);
                }
                else
                {
                    parts.Problems.Add(new PayloadProblem("RC2002", $"[{i}]", "a record must be a JSON object"));
                }
            }
        }
        else
        {
            parts.Problems.Add(new PayloadProblem("RC2002", "payload", mapping.Records is null
                ? "a record must be a JSON object (or the document a list of them)"
                : $"ingest.mapping.records ({mapping.Records}) names no list or object in this document"));
        }

        return parts;
    }

    private void Read(IReadOnlyDictionary<string, object?> record, string place, PayloadParts parts)
    {
        var id = mapping.Id is { } idPath ? AsText(idPath.Select(record)) : null;
        var where = id is null ? (place.Length == 0 ? "record" : place) : $"{place} (id {id})".TrimStart();
        if (mapping.Id is not null && id is null)
        {
            parts.Problems.Add(new PayloadProblem("RC2004", where, $"field '{mapping.Id.LastName}' ({mapping.Id}) is missing"));
            return;
        }

        var timeValue = mapping.Timestamp.Select(record);
        if (ExportRecords.Time(timeValue) is not { } timestamp)
        {
            parts.Problems.Add(new PayloadProblem(timeValue is null ? "RC2004" : "RC2003", where, timeValue is null
                ? $"field '{mapping.Timestamp.LastName}' ({mapping.Timestamp}) is missing"
                : $"field '{mapping.Timestamp.LastName}' ({mapping.Timestamp}) is not a time (accepted: {TraceLineParser.TimestampForms}, or unix milliseconds)"));
            return;
        }

        if (ExportRecords.Input(mapping.Input.Select(record)) is not { } input)
        {
            parts.Problems.Add(new PayloadProblem("RC2004", where, $"field '{mapping.Input.LastName}' ({mapping.Input}) is missing or empty"));
            return;
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, path) in mapping.Metadata)
        {
            if (AsText(path.Select(record)) is { } value)
            {
                metadata[key] = value;
            }
        }

        var feedback = Feedback.None;
        foreach (var (signal, path) in mapping.Feedback)
        {
            if (path.Select(record) is { } value)
            {
                var name = FeedbackMap.SignalNames[(int)signal];
                feedback = FeedbackMap.Default.Apply(feedback, name, value, null, out var error);
                if (error is not null)
                {
                    // One unreadable signal costs that signal (Apply leaves the feedback as it was), not the trace.
                    parts.Dropped.Add(new PayloadProblem("RC2013", where, $"{error} (at {path})"));
                }
            }
        }

        var output = mapping.Output is { } outputPath ? ExportRecords.Output(outputPath.Select(record)) : null;
        var model = mapping.Model is { } modelPath ? AsText(modelPath.Select(record)) : null;
        parts.Parts.Add(TracePart.ForTrace(new Trace(id, timestamp, input, output, model, metadata, feedback, null), where));
    }
}
