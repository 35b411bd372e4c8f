using Recal.Domain;
using Recal.Scoring;

namespace Recal.Running;

/// <summary>Where a stored run stands.</summary>
public enum RunStatus
{
    /// <summary>Started and not finished: running now, or killed (resume it with <c>recal run --resume</c>).</summary>
    Running,

    /// <summary>Stopped by Ctrl-C; resumable.</summary>
    Interrupted,

    /// <summary>Every case has a result and errors stayed within the allowed share.</summary>
    Completed,

    /// <summary>Every case has a result but errors exceeded the allowed share.</summary>
    Degraded,

    /// <summary>
    /// A distributed run stopped for good by <c>recal run --cancel</c>: the results stored are kept (a partial run), the
    /// cases without one are never run; not resumable.
    /// </summary>
    Cancelled,
}

/// <summary>A stored run: what ran, against which suite, and how it ended.</summary>
/// <param name="Id">The run id, e.g. <c>20261129-183012-baseline</c>.</param>
/// <param name="SuiteVersion">The hash of the cases, taxonomy, policy version and rubric version the run scored.</param>
/// <param name="TargetJson">The target's configuration with secrets excluded (environment variable names only).</param>
/// <param name="Pools">The pools run, in the order they were asked for.</param>
/// <param name="Total">How many cases the run covers.</param>
/// <param name="Judges">The rubric id and judges, or null when the run had no judge.</param>
public sealed record RunInfo(
    string Id,
    string Project,
    string Target,
    string TargetJson,
    string SuiteVersion,
    PoolSet Pools,
    int Total,
    string? Judges,
    DateTimeOffset Started,
    DateTimeOffset? Finished,
    RunStatus Status);

/// <summary>A judge's vote on one case, as stored.</summary>
public sealed record JudgeVote(string Judge, IReadOnlyDictionary<string, int>? Scores, string? Rationale, string? Error, bool Repaired, bool FromCache);

/// <summary>The ensemble's outcome on one case, as stored.</summary>
public sealed record JudgeOutcome(string Rubric, IReadOnlyDictionary<string, double>? Median, bool Passed, int Failures, bool NeedsReview, IReadOnlyList<string> Disagreements, IReadOnlyList<JudgeVote> Votes);

/// <summary>One case's stored result in a run: enough to report on it without the case files.</summary>
/// <param name="CohortKey">The cohort as <c>dim=value|dim=value</c>, sorted by dimension.</param>
/// <param name="Error">Why no verdict could be given; an errored case is never a pass.</param>
/// <param name="Cost">The call's cost from the target's token prices; null when unknown.</param>
/// <param name="FromCache">The output came from the response cache: no call was made.</param>
public sealed record RunCaseRecord(
    string CaseId,
    string Intent,
    string CohortKey,
    string? Difficulty,
    string Pool,
    string? Output,
    string? Error,
    bool Passed,
    IReadOnlyList<ScoreResult> Scores,
    JudgeOutcome? Judge,
    double? LatencyMs,
    long? InputTokens,
    long? OutputTokens,
    double? Cost,
    int Attempts,
    bool FromCache,
    DateTimeOffset Finished);
