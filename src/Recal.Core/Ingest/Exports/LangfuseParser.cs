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

    private void Read(IReadOnlyDictionary<string, object?> record, string place, PayloadParts parts)
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
