using Recal.Domain;
using static Recal.Ingest.Exports.ExportRecords;
using static Recal.Ingest.Otel.AttributeValues;

namespace Recal.Ingest.Exports;

/// <summary>
/// LangSmith's runs and feedback, as the SDK's <c>list_runs</c> / <c>list_feedback</c> and the bulk export write them
/// (JSONL, JSON, or Parquet rows through <see cref="ParquetRows"/>). A trace is keyed by <c>trace_id</c>: its root run
/// (no <c>parent_run_id</c>) gives the interaction's inputs and outputs, its <c>llm</c> runs the model and the chat
/// messages; feedback (<c>run_id</c>, <c>key</c>, <c>score</c>/<c>value</c>) attaches to the run's trace.
/// </summary>
public sealed class LangSmithParser(FeedbackMap? feedback = null) : IPayloadParser
{
    private readonly FeedbackMap _feedback = feedback ?? FeedbackMap.Default;

    public PayloadParts Parse(ReadOnlyMemory<byte> payload)
    {
        var parts = new PayloadParts();
        foreach (var (record, place) in Records(payload.Span, parts, "LangSmith run or feedback"))
        {
            parts.Spans++;
            if (record.ContainsKey("run_type"))
            {
                Run(record, place, parts);
                foreach (var child in List(Structure(record.GetValueOrDefault("child_runs"))) ?? [])
                {
                    if (Map(child) is { } childRun)
                    {
                        parts.Spans++;
                        Run(childRun, place + ".child_runs", parts);
                    }
                }
            }
            else if (record.ContainsKey("key") && (record.ContainsKey("run_id") || record.ContainsKey("trace_id")))
            {
                Feedback(record, place, parts);
            }
            else
            {
                parts.Problems.Add(new PayloadProblem("RC2002", place.Length == 0 ? "record" : place, "neither a run (it has no 'run_type') nor feedback (it has no 'key' and 'run_id')"));
            }
        }

        return parts;
    }

    private static void Run(IReadOnlyDictionary<string, object?> run, string place, PayloadParts parts)
    {
        var id = Field(run, "id");
        var traceId = Field(run, "trace_id") ?? (Field(run, "parent_run_id") is null ? id : null);
        var where = $"{place} (run {id ?? "without id"})".TrimStart();
        if (traceId is null)
        {
            parts.Problems.Add(new PayloadProblem("RC2004", where, "field 'trace_id' is missing (a run that is not a root needs its trace id)"));
            return;
        }

        var isRoot = Field(run, "parent_run_id") is null || traceId == id;
        var isLlm = Field(run, "run_type") == "llm";
        if (!isRoot && !isLlm)
        {
            return;
        }

        var extra = Map(Structure(run.GetValueOrDefault("extra")));
        var invocation = Map(extra?.GetValueOrDefault("invocation_params"));
        var runMetadata = Map(Structure(extra?.GetValueOrDefault("metadata")));
        var model = isLlm
            ? Get(invocation ?? Empty, "model") ?? Get(invocation ?? Empty, "model_name") ?? Get(runMetadata ?? Empty, "ls_model_name")
            : null;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (isRoot)
        {
            Add(metadata, "name", run.GetValueOrDefault("name"));
            Add(metadata, "session_id", run.GetValueOrDefault("session_id"));
            Add(metadata, "tags", Structure(run.GetValueOrDefault("tags")) is object?[] { Length: > 0 } tags ? tags : null);
            AddFields(metadata, runMetadata);
        }

        foreach (var key in (string[])["prompt_tokens", "completion_tokens", "total_tokens"])
        {
            if (isLlm)
            {
                Add(metadata, key, run.GetValueOrDefault(key));
            }
        }

        var inputs = Structure(run.GetValueOrDefault("inputs"));
        var input = Input(inputs);
        if (Time(run.GetValueOrDefault("start_time")) is not { } time)
        {
            parts.Problems.Add(new PayloadProblem("RC2004", where, "field 'start_time' is missing or not an ISO-8601 time"));
            return;
        }

        if (input is null)
        {
            parts.Parts.Add(TracePart.ForFeedback(traceId, Domain.Feedback.None, where) with { Metadata = metadata, Model = model });
            return;
        }

        parts.Parts.Add(TracePart.ForTrace(new Trace(traceId, time, input, Output(run.GetValueOrDefault("outputs")), model, metadata, Domain.Feedback.None, null), where));
    }

    private void Feedback(IReadOnlyDictionary<string, object?> record, string place, PayloadParts parts)
    {
        // Feedback names its run; a run id is its trace's id when it is the root run, as feedback usually is given on.
        var target = Field(record, "trace_id") ?? Field(record, "run_id")!;
        var where = $"{place} (feedback {Field(record, "id") ?? Field(record, "key")} on run {Field(record, "run_id")})".TrimStart();
        var applied = _feedback.Apply(Domain.Feedback.None, Field(record, "key")!, record.GetValueOrDefault("score") ?? record.GetValueOrDefault("value"), Field(record, "value"), out var error);
        if (error is not null)
        {
            parts.Problems.Add(new PayloadProblem("RC2003", where, error));
        }

        if (applied != Domain.Feedback.None)
        {
            parts.Parts.Add(TracePart.ForFeedback(target, applied, where));
        }
    }

    private static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();
}
