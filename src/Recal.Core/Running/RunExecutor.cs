using Recal.Diagnostics;
using Recal.Domain;
using Recal.Judging;
using Recal.Scoring;

namespace Recal.Running;

/// <summary>The outcome of one case in a run.</summary>
/// <param name="Error">Why the target or a scorer could not produce a verdict: recorded, never a pass, never dropped.</param>
/// <param name="Passed">No error, at least one score, and every score passed.</param>
/// <param name="Judge">The judge ensemble's outcome, when the run has judges and the target answered.</param>
public sealed record CaseResult(string CaseId, string? Output, string? Error, IReadOnlyList<ScoreResult> Scores, bool Passed, TargetResponse? Response, JudgeOutcome? Judge = null)
{
    /// <summary>The calls made for this case: the response's count, or for a failed call, how often it was tried.</summary>
    public int Attempts { get; init; }
}

/// <summary>Live figures for a progress bar.</summary>
/// <param name="Done">Cases with a result, those of an earlier process included.</param>
public sealed record RunProgress(int Done, int Total, int Passed, int Errors)
{
    /// <summary>Of <see cref="Done"/>, the cases an earlier process stored (a resumed run).</summary>
    public int Resumed { get; init; }

    /// <summary>Of <see cref="Done"/>, the cases this process answered from the response cache, making no call.</summary>
    public int Cached { get; init; }
}

/// <summary>How a run executes.</summary>
/// <param name="Concurrency">Cases in flight at once.</param>
/// <param name="MaxErrorShare">Above this share of errored cases the run is degraded (and its exit code says so).</param>
public sealed record RunOptions(int Concurrency = 8, double MaxErrorShare = 0.05)
{
    /// <summary>Removes the project's secrets from error texts before they are stored or shown.</summary>
    public SecretRedactor Redactor { get; init; } = SecretRedactor.None;
}

/// <summary>A finished run's cases and summary.</summary>
public sealed record RunResult(IReadOnlyList<CaseResult> Cases, int Passed, int Failed, int Errors, bool Degraded)
{
    /// <summary>Pass rate over the cases that got a verdict (errors are reported apart, never counted as passes).</summary>
    public double PassRate => Passed + Failed == 0 ? double.NaN : (double)Passed / (Passed + Failed);
}

/// <summary>Runs a target over cases with bounded concurrency and scores every output.</summary>
public static class RunExecutor
{
    public static async Task<RunResult> ExecuteAsync(
        IReadOnlyList<EvalCase> cases,
        Func<EvalCase, CancellationToken, ValueTask<TargetResponse>> invoke,
        IReadOnlyList<IScorer> scorers,
        RunOptions options,
        IProgress<RunProgress>? progress = null,
        CancellationToken cancellationToken = default,
        JudgePanel? judges = null,
        Func<EvalCase, CaseResult, ValueTask>? onResult = null,
        RunProgress? start = null,
        string? runId = null)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(invoke);
        ArgumentNullException.ThrowIfNull(scorers);
        ArgumentNullException.ThrowIfNull(options);
        var results = new CaseResult[cases.Count];
        int done = start?.Done ?? 0, passed = start?.Passed ?? 0, errors = start?.Errors ?? 0, cached = 0;
        var (total, resumed) = (start?.Total ?? cases.Count, start?.Resumed ?? 0);
        await Parallel.ForEachAsync(
            Enumerable.Range(0, cases.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Concurrency), CancellationToken = cancellationToken },
            async (index, token) =>
            {
                var result = await ScoreCaseAsync(cases[index], invoke, scorers, judges, runId, token).ConfigureAwait(false);
                results[index] = result;
                if (onResult is not null)
                {
                    await onResult(cases[index], result).ConfigureAwait(false);
                }

                var nowPassed = result.Passed ? Interlocked.Increment(ref passed) : Volatile.Read(ref passed);
                var nowErrors = result.Error is not null ? Interlocked.Increment(ref errors) : Volatile.Read(ref errors);
                var nowCached = result.Response is { FromCache: true } ? Interlocked.Increment(ref cached) : Volatile.Read(ref cached);
                progress?.Report(new RunProgress(Interlocked.Increment(ref done), total, nowPassed, nowErrors) { Resumed = resumed, Cached = nowCached });
            }).ConfigureAwait(false);

        var failed = results.Count(r => r.Error is null && !r.Passed);
        var degraded = cases.Count > 0 && (double)errors / cases.Count > options.MaxErrorShare;
        return new RunResult(results, passed, failed, errors, degraded);
    }

    /// <summary>One case end to end, as every run executes it (local or on a worker): the call, the scorers, the judges, traced as <c>recal.case</c>.</summary>
    internal static async Task<CaseResult> ScoreCaseAsync(EvalCase evalCase, Func<EvalCase, CancellationToken, ValueTask<TargetResponse>> invoke, IReadOnlyList<IScorer> scorers, JudgePanel? judges, string? runId, CancellationToken cancellationToken)
    {
        using var activity = RecalTelemetry.StartCase(evalCase, runId);
        var result = await RunCaseAsync(evalCase, invoke, scorers, judges, runId, cancellationToken).ConfigureAwait(false);
        RecalTelemetry.EndCase(activity, result);
        return result;
    }

    private static async Task<CaseResult> RunCaseAsync(EvalCase evalCase, Func<EvalCase, CancellationToken, ValueTask<TargetResponse>> invoke, IReadOnlyList<IScorer> scorers, JudgePanel? judges, string? runId, CancellationToken cancellationToken)
    {
        TargetResponse response;
        try
        {
            response = await invoke(evalCase, cancellationToken).ConfigureAwait(false);
        }
        catch (TargetCallException e)
        {
            return new CaseResult(evalCase.Id, null, e.Message, [], false, null) { Attempts = CallGuard.AttemptsOf(e) };
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A failure no provider classified (a connection error past its retries, a bug in a target) is still
            // this case's error: recorded, never a pass, and the other cases go on.
            return new CaseResult(evalCase.Id, null, $"{e.GetType().Name}: {e.Message}", [], false, null) { Attempts = CallGuard.AttemptsOf(e) };
        }

        var scores = new List<ScoreResult>();
        foreach (var scorer in scorers)
        {
            scores.AddRange(await scorer.ScoreAsync(evalCase, response.Text, cancellationToken).ConfigureAwait(false));
        }

        JudgeOutcome? judged = null;
        if (judges is not null)
        {
            var (score, outcome) = await judges.JudgeAsync(evalCase, response.Text, runId, cancellationToken).ConfigureAwait(false);
            scores.Add(score);
            judged = outcome;
        }

        var broken = scores.FirstOrDefault(s => s.IsError);
        if (broken is not null)
        {
            return new CaseResult(evalCase.Id, response.Text, $"{broken.Scorer}: {broken.Reason}", scores, false, response, judged);
        }

        if (scores.Count == 0)
        {
            return new CaseResult(evalCase.Id, response.Text, "no scorer applies to this case (no references, assertions or judges)", scores, false, response, judged);
        }

        return new CaseResult(evalCase.Id, response.Text, null, scores, scores.All(s => s.Passed), response, judged);
    }
}
