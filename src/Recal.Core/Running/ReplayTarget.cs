using System.Text.Json;
using Recal.Domain;
using Recal.Storage;

namespace Recal.Running;

/// <summary>
/// Scores outputs that already exist instead of calling a system: the production output recorded on the trace a
/// case was sampled from, or a results file of <c>{"case_id": "...", "output": "..."}</c> lines. A case with no
/// recorded output is an error, never a pass.
/// </summary>
public sealed class ReplayTarget : ITarget
{
    private readonly IReadOnlyDictionary<string, string> _outputs;
    private readonly Func<EvalCase, string> _missing;

    private ReplayTarget(IReadOnlyDictionary<string, string> outputs, Func<EvalCase, string> missing)
    {
        _outputs = outputs;
        _missing = missing;
    }

    /// <summary>The recorded responses by case id, when they carry more than the text (a stored run's latency and tokens).</summary>
    private IReadOnlyDictionary<string, TargetResponse>? Responses { get; init; }

    /// <summary>
    /// Replays a stored run's outputs, with their latency and token counts, for re-scoring them (<c>recal regrade</c>):
    /// no call is made. A case the run has no output for (it errored) is an error again, saying so.
    /// </summary>
    public static ReplayTarget FromRun(string runId, IReadOnlyList<RunCaseRecord> results)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(results);
        var responses = new Dictionary<string, TargetResponse>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var result in results)
        {
            if (result.Output is { } output && result.Error is null)
            {
                responses[result.CaseId] = new TargetResponse(output, TimeSpan.FromMilliseconds(result.LatencyMs ?? 0), result.InputTokens, result.OutputTokens, 0, null);
            }
            else
            {
                errors[result.CaseId] = result.Error ?? "no output";
            }
        }

        return new ReplayTarget(responses.ToDictionary(kv => kv.Key, kv => kv.Value.Text, StringComparer.Ordinal), c => errors.TryGetValue(c.Id, out var error)
            ? $"run {runId} has no output for this case to re-score (it errored: {error})"
            : $"run {runId} did not run this case")
        {
            Responses = responses,
        };
    }

    /// <summary>Problems found reading a results file (line and reason); those lines are skipped.</summary>
    public IReadOnlyList<string> Problems { get; private init; } = [];

    /// <summary>Replays the outputs recorded on the cases' source traces.</summary>
    public static async Task<ReplayTarget> FromTracesAsync(IRecalStore store, IReadOnlyList<EvalCase> cases, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(cases);
        var traceIds = cases.Select(c => c.Provenance.TraceId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var byTrace = await store.GetTraceOutputsAsync(traceIds, cancellationToken).ConfigureAwait(false);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var evalCase in cases)
        {
            if (evalCase.Provenance.TraceId is { } id && byTrace.TryGetValue(id, out var output))
            {
                outputs[evalCase.Id] = output;
            }
        }

        return new ReplayTarget(outputs, c => c.Provenance.TraceId is { } id
            ? $"no output is recorded for trace '{id}' in the store (ingest the traffic that holds it)"
            : "the case names no source trace (provenance.trace_id), so there is no recorded output to replay");
    }

    /// <summary>Replays a results file; bad lines are reported in <see cref="Problems"/> and skipped.</summary>
    public static ReplayTarget FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (number, line) in Text.JsonLines.Read(path))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                if (root.ValueKind == JsonValueKind.Object
                    && root.TryGetProperty("case_id", out var id) && id.ValueKind == JsonValueKind.String
                    && root.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.String)
                {
                    if (!outputs.TryAdd(id.GetString()!, output.GetString()!))
                    {
                        problems.Add($"{path}:{number}: a second output for case '{id.GetString()}'; the first is kept");
                    }
                }
                else
                {
                    problems.Add($"{path}:{number}: expected {{\"case_id\": \"...\", \"output\": \"...\"}}");
                }
            }
            catch (JsonException e)
            {
                problems.Add($"{path}:{number}: not JSON ({e.Message})");
            }
        }

        return new ReplayTarget(outputs, _ => $"{Path.GetFileName(path)} has no output for this case") { Problems = problems };
    }

    public ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        if (Responses is not null && Responses.TryGetValue(evalCase.Id, out var recorded))
        {
            return ValueTask.FromResult(recorded);
        }

        return _outputs.TryGetValue(evalCase.Id, out var output)
            ? ValueTask.FromResult(new TargetResponse(output, TimeSpan.Zero, null, null, 0, null))
            : ValueTask.FromException<TargetResponse>(new TargetCallException(_missing(evalCase), null, null, transient: false));
    }
}
