using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Recal.Classification;
using Recal.Domain;

namespace Recal.Lifecycle;

/// <summary>The production context a labeller sees next to a drafted input.</summary>
/// <param name="Output">What production answered.</param>
public sealed record DraftContext(DateTimeOffset Timestamp, string? Output, string? Model, int? Thumbs, double? Csat, bool? Escalated, bool? Completed, bool? FollowUp);

/// <summary>
/// A drawn trace waiting for references: it may not gate anything until a labeller has written what a good answer
/// is (<c>recal label export</c> / <c>recal label import</c>, docs/lifecycle.md).
/// </summary>
/// <param name="Input">The input text; for a conversation, null and <see cref="Messages"/> holds it.</param>
/// <param name="Intent">The intent the trace was filed under (a label or the classifier's); the labeller may correct it.</param>
/// <param name="Pool">The pool the case joins once labelled.</param>
/// <param name="Stratum">The stratum it was drawn for.</param>
/// <param name="Note">Why it was drawn, when not by the policy's strata (a blind spot, say); it becomes the case's provenance note.</param>
public sealed record Draft(
    string Id,
    string? Input,
    IReadOnlyList<ChatMessage>? Messages,
    string Intent,
    string IntentSource,
    double Confidence,
    IReadOnlyDictionary<string, string> Cohort,
    string Pool,
    string Stratum,
    string? TraceId,
    DraftContext Context,
    string? Note = null);

/// <summary>Reads and writes draft files (JSONL, one <see cref="Draft"/> per line).</summary>
public static class DraftFile
{
    /// <summary>The project folder drafts are written to.</summary>
    public const string Folder = "drafts";

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Drafts from a sample: ids <c>{prefix}-0001</c>…, in stratum then time order.</summary>
    /// <param name="note">Why they were drawn, kept with each draft.</param>
    public static IReadOnlyList<Draft> FromSample(SampleResult sample, Pool pool, string prefix, string? note = null)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(prefix);
        var number = 0;
        return [.. sample.Drawn
            .OrderBy(d => d.Stratum, StringComparer.Ordinal)
            .ThenBy(d => d.Trace.Trace.Timestamp)
            .ThenBy(d => d.Trace.Key, StringComparer.Ordinal)
            .Select(d =>
            {
                var trace = d.Trace.Trace;
                return new Draft(
                    string.Create(CultureInfo.InvariantCulture, $"{prefix}-{++number:0000}"),
                    trace.Input.Text,
                    trace.Input.Messages,
                    d.Trace.Intent,
                    d.Trace.IntentSource.ToString().ToLowerInvariant(),
                    Math.Round(d.Trace.Confidence, 4),
                    CohortResolver.ParseKey(d.Trace.CohortKey).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
                    pool.ToString().ToLowerInvariant(),
                    d.Stratum,
                    trace.Id,
                    new DraftContext(trace.Timestamp, trace.Output, trace.Model, trace.Feedback.Thumbs, trace.Feedback.Csat, trace.Feedback.Escalated, trace.Feedback.Completed, trace.Feedback.FollowUp),
                    note);
            })];
    }

    public static string ToLine(Draft draft) => JsonSerializer.Serialize(draft, Json);

    /// <summary>Reads a draft file; a line that is not a draft is reported with its number and skipped.</summary>
    public static (IReadOnlyList<Draft> Drafts, IReadOnlyList<string> Problems) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var drafts = new List<Draft>();
        var problems = new List<string>();
        foreach (var (number, line) in Text.JsonLines.Read(path))
        {
            try
            {
                var draft = JsonSerializer.Deserialize<Draft>(line, Json);
                if (draft is null || string.IsNullOrEmpty(draft.Id) || (draft.Input is null && draft.Messages is null))
                {
                    problems.Add($"{path}:{number}: not a draft (it needs an id and an input)");
                    continue;
                }

                drafts.Add(draft);
            }
            catch (JsonException e)
            {
                problems.Add($"{path}:{number}: not a draft ({e.Message})");
            }
        }

        return (drafts, problems);
    }

    /// <summary>Writes drafts to a file of the project, whole (atomically, through the project's workspace).</summary>
    public static void Write(Project.IProjectFiles files, string path, IEnumerable<Draft> drafts)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(drafts);
        files.WriteAllLines(path, drafts.Select(ToLine));
    }
}
