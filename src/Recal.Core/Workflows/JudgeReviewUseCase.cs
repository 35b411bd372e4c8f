using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recal.Domain;
using Recal.Project;
using Recal.Running;
using Recal.Storage;

namespace Recal.Workflows;

/// <summary>One case the judges split on (two valid judges more than one point apart): the votes, and the human verdict when given.</summary>
/// <param name="Verdicts">Each judge's verdict by the rubric's pass rule: pass, fail, or null when its reply was not usable.</param>
/// <param name="Resolved">The human verdict already recorded (pass or fail); null while the disagreement waits.</param>
public sealed record JudgeDisagreement(
    RunInfo Run,
    RunCaseRecord Result,
    EvalCase? Case,
    IReadOnlyDictionary<string, string?> Verdicts,
    string? Resolved)
{
    /// <summary>The item's id in the human labels: run and case.</summary>
    public string Id => $"{Run.Id}/{Result.CaseId}";
}

/// <summary>
/// The review queue's judge disagreements: the cases of recent runs the judge ensemble marked for human review, and the
/// human verdicts given on them, written to <see cref="LabelsFile"/> in the format <c>recal judge-agreement</c> reads
/// (one wide item per case: <c>id</c>, <c>segment</c> the intent, <c>human</c>, and each judge's verdict), so that every
/// resolved disagreement also measures the judges against people (docs/judging.md).
/// </summary>
public static class JudgeReviewUseCase
{
    /// <summary>Where the human verdicts go, relative to the project.</summary>
    public static readonly string LabelsFile = Path.Combine("judging", "human-labels.jsonl");

    /// <summary>The verdicts a reviewer gives.</summary>
    public static IReadOnlyList<string> Verdicts { get; } = ["pass", "fail"];

    /// <summary>The marked cases of the newest <paramref name="runs"/> finished runs that used judges, newest run first.</summary>
    public static async Task<IReadOnlyList<JudgeDisagreement>> ListAsync(EvalProject project, IRecalStore store, int runs = 20, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        var resolved = Resolutions(project.Root);
        var cases = project.Cases.ToDictionary(c => c.Id, StringComparer.Ordinal);
        var found = new List<JudgeDisagreement>();
        foreach (var run in await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished, Limit: runs), cancellationToken).ConfigureAwait(false))
        {
            if (run.Judges is null)
            {
                continue;
            }

            foreach (var result in await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false))
            {
                if (result.Judge is { NeedsReview: true } judge)
                {
                    var id = $"{run.Id}/{result.CaseId}";
                    found.Add(new JudgeDisagreement(run, result, cases.GetValueOrDefault(result.CaseId), VerdictsOf(project, judge), resolved.GetValueOrDefault(id)));
                }
            }
        }

        return found;
    }

    /// <summary>
    /// Records the human verdict on one disagreement, under the workspace's lock; a second verdict on the same case is
    /// refused (the first stands), as is a verdict other than pass or fail. Returns the problem, or null when recorded.
    /// </summary>
    public static string? Resolve(JudgeDisagreement disagreement, string verdict, string? note, ProjectWorkspace workspace, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(disagreement);
        ArgumentNullException.ThrowIfNull(workspace);
        if (!Verdicts.Contains(verdict, StringComparer.Ordinal))
        {
            return $"'{verdict}' is not a verdict: give pass or fail";
        }

        if (Resolutions(workspace.Root).TryGetValue(disagreement.Id, out var earlier))
        {
            return $"{disagreement.Id} was resolved already ({earlier}) by another reviewer: the first verdict stands";
        }

        var judges = new JsonObject();
        foreach (var (judge, given) in disagreement.Verdicts)
        {
            judges[judge] = given is null ? null : JsonValue.Create(given);
        }

        var item = new JsonObject
        {
            ["id"] = disagreement.Id,
            ["segment"] = disagreement.Result.Intent,
            ["human"] = verdict,
            ["judges"] = judges,
            ["rubric"] = disagreement.Result.Judge?.Rubric,
            ["resolved_at"] = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        };
        if (!string.IsNullOrWhiteSpace(note))
        {
            item["note"] = note.Trim();
        }

        workspace.AppendAllLines(LabelsFile, [item.ToJsonString()]);
        return null;
    }

    /// <summary>Each judge's verdict by the rubric's pass rule (null: no usable reply, or a rubric other than the project's).</summary>
    private static Dictionary<string, string?> VerdictsOf(EvalProject project, JudgeOutcome judge)
    {
        var verdicts = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var vote in judge.Votes)
        {
            verdicts[vote.Judge] = vote.Scores is { Count: > 0 } scores && project.Rubric is { } rubric && rubric.Id == judge.Rubric
                ? rubric.Passes(scores.ToDictionary(s => s.Key, s => (double)s.Value, StringComparer.Ordinal)) ? "pass" : "fail"
                : null;
        }

        return verdicts;
    }

    /// <summary>The verdicts recorded so far, by item id (lines that do not parse are left to recal judge-agreement to report).</summary>
    private static Dictionary<string, string> Resolutions(string root)
    {
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        var path = Path.Combine(root, LabelsFile);
        if (!File.Exists(path))
        {
            return resolved;
        }

        foreach (var line in File.ReadLines(path))
        {
            try
            {
                if (JsonNode.Parse(line) is JsonObject item && item["id"]?.GetValue<string>() is { } id && item["human"]?.GetValue<string>() is { } human)
                {
                    resolved.TryAdd(id, human);
                }
            }
            catch (JsonException)
            {
                // Reported by recal judge-agreement, which reads the file.
            }
            catch (InvalidOperationException)
            {
                // A field of another type: likewise.
            }
        }

        return resolved;
    }
}
