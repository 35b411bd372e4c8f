using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Recal.Classification;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Judging;
using Recal.Project;
using Recal.Scoring;
using Recal.Storage;

namespace Recal.Running;

/// <summary>A run's totals, read back from the store so a resumed run counts every case once.</summary>
/// <param name="Done">Cases with a stored result.</param>
/// <param name="Calls">Cases answered by a call in this execution of the run (a resume counts its own; cache hits, replays and failed calls excluded).</param>
/// <param name="CacheHits">Cases answered from the response cache in this execution of the run.</param>
public sealed record RunSummary(RunInfo Run, int Done, int Passed, int Failed, int Errors, int Calls, int CacheHits, double? Cost, bool Degraded)
{
    /// <summary>Passes over cases with a verdict; errors are apart and never passes.</summary>
    public double PassRate => Passed + Failed == 0 ? double.NaN : (double)Passed / (Passed + Failed);

    public double ErrorShare => Done == 0 ? 0 : (double)Errors / Done;
}

/// <summary>Runs a target over a project's cases, storing every case's result the moment it is known.</summary>
public static class EvalRunner
{
    /// <summary>The cases of the given pools, in id order, optionally the first <paramref name="limit"/>.</summary>
    public static IReadOnlyList<EvalCase> SelectCases(EvalProject project, IReadOnlyCollection<Pool> pools, int? limit = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(pools);
        var selected = project.Cases.Where(c => pools.Contains(c.Pool)).OrderBy(c => c.Id, StringComparer.Ordinal);
        return limit is { } n ? [.. selected.Take(n)] : [.. selected];
    }

    /// <summary>
    /// The suite version a run scores: the project's suite version (cases, intents, policy version) combined with
    /// the rubric's id when judges score the run.
    /// </summary>
    public static string SuiteVersion(EvalProject project, Rubric? rubric)
    {
        ArgumentNullException.ThrowIfNull(project);
        var suite = ProjectHasher.SuiteVersion(project);
        if (rubric is null)
        {
            return suite;
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{suite}\u001frubric:{rubric.Id}"));
        return Convert.ToHexStringLower(hash)[..12];
    }

    /// <summary>A new run id: UTC start time and the target's name.</summary>
    public static string NewRunId(string target, DateTimeOffset started) => $"{started.UtcDateTime:yyyyMMdd-HHmmss}-{target}";

    /// <summary>
    /// <paramref name="started"/>, or the first second after it whose run id (<see cref="NewRunId"/>) no stored run has:
    /// ids are stamped to the second, and two runs of one target can start within one.
    /// </summary>
    public static async ValueTask<DateTimeOffset> FreeStartAsync(Storage.IRunStore store, string target, DateTimeOffset started, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        while (await store.GetRunAsync(NewRunId(target, started), cancellationToken).ConfigureAwait(false) is not null)
        {
            started = started.AddSeconds(1);
        }

        return started;
    }

    /// <summary>
    /// Runs the cases of <paramref name="run"/> that have no stored result yet (all of them for a new run), storing
    /// each result as it completes. Cancelling marks the run interrupted; completed cases stay stored.
    /// </summary>
    public static async Task<RunSummary> ExecuteAsync(
        IRecalStore store,
        RunInfo run,
        IReadOnlyList<EvalCase> cases,
        ITarget target,
        IReadOnlyList<IScorer> scorers,
        JudgePanel? judges,
        TokenPrice? price,
        RunOptions options,
        IProgress<RunProgress>? progress = null,
        CancellationToken cancellationToken = default,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        var stored = await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false);
        var done = stored.Select(r => r.CaseId).ToHashSet(StringComparer.Ordinal);
        var remaining = cases.Where(c => !done.Contains(c.Id)).ToList();
        logger ??= NullLogger.Instance;
        using var activity = RecalTelemetry.StartRun(run, cases.Count);
        RecalLog.RunStarted(logger, run.Id, run.Target, run.Pools.ToString(), remaining.Count, cases.Count);
        var start = new RunProgress(stored.Count, cases.Count, stored.Count(r => r.Passed), stored.Count(r => r.Error is not null)) { Resumed = stored.Count };
        progress?.Report(start);
        int calls = 0, hits = 0;
        if (run.Status != RunStatus.Running)
        {
            await store.FinishRunAsync(run.Id, RunStatus.Running, null, cancellationToken).ConfigureAwait(false);
        }

        var writer = new RunCaseWriter(store, run.Id);
        ValueTask Record(EvalCase evalCase, CaseResult result)
        {
            var (call, hit) = HowAnswered(result);
            if (hit)
            {
                Interlocked.Increment(ref hits);
            }
            else if (call)
            {
                Interlocked.Increment(ref calls);
            }

            var record = ToRecord(evalCase, result, price, options.Redactor);
            if (record.Error is { } error)
            {
                RecalLog.CaseFailed(logger, run.Id, evalCase.Id, error);
            }

            return new ValueTask(writer.AddAsync(record));
        }

        try
        {
            await RunExecutor.ExecuteAsync(remaining, target.InvokeAsync, scorers, options, progress, cancellationToken, judges, Record, start, run.Id).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Every completed case is stored before the run is marked interrupted.
            await writer.CompleteAsync().ConfigureAwait(false);
            await store.FinishRunAsync(run.Id, RunStatus.Interrupted, null, CancellationToken.None).ConfigureAwait(false);
            RecalLog.RunInterrupted(logger, run.Id);
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "interrupted");
            throw;
        }
        finally
        {
            await writer.CompleteAsync().ConfigureAwait(false);
        }

        var results = await store.GetRunCasesAsync(run.Id, CancellationToken.None).ConfigureAwait(false);
        var summary = Summarize(run, results, options.MaxErrorShare) with { Calls = calls, CacheHits = hits };
        var finished = DateTimeOffset.UtcNow;
        await store.FinishRunAsync(run.Id, summary.Degraded ? RunStatus.Degraded : RunStatus.Completed, finished, CancellationToken.None).ConfigureAwait(false);
        summary = summary with { Run = run with { Status = summary.Degraded ? RunStatus.Degraded : RunStatus.Completed, Finished = finished } };
        RecalTelemetry.EndRun(activity, summary);
        RecalLog.RunFinished(logger, run.Id, summary.Run.Status.ToString().ToLowerInvariant(), summary.Passed, summary.Failed, summary.Errors, summary.Calls, summary.CacheHits);
        return summary;
    }

    /// <summary>Totals over stored results; degraded when the error share exceeds <paramref name="maxErrorShare"/>.</summary>
    public static RunSummary Summarize(RunInfo run, IReadOnlyList<RunCaseRecord> results, double maxErrorShare)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(results);
        var errors = results.Count(r => r.Error is not null);
        var passed = results.Count(r => r.Passed);
        var costs = results.Where(r => r.Cost is not null).ToList();
        var degraded = results.Count > 0 && (double)errors / results.Count > maxErrorShare;
        return new RunSummary(run, results.Count, passed, results.Count - errors - passed, errors, 0, 0, costs.Count == 0 ? null : costs.Sum(r => r.Cost!.Value), degraded);
    }

    /// <summary>Whether a case was answered by a call or from the response cache; failed calls count as errors, replays make no call.</summary>
    internal static (bool Call, bool CacheHit) HowAnswered(CaseResult result) =>
        (result.Response is { FromCache: false, Attempts: > 0 }, result.Response is { FromCache: true });

    /// <summary>A case's result as stored: its cost, and every error text redacted.</summary>
    internal static RunCaseRecord ToRecord(EvalCase evalCase, CaseResult result, TokenPrice? price, SecretRedactor redactor)
    {
        var response = result.Response;
        // A cached answer cost nothing this time; a call costs its tokens at the target's prices when both are known.
        double? cost = price is null || response is null ? null
            : response.FromCache ? 0
            : response.InputTokens is not null || response.OutputTokens is not null ? price.Cost(response.InputTokens, response.OutputTokens)
            : null;
        return new RunCaseRecord(
            evalCase.Id,
            evalCase.Intent,
            CohortResolver.FormatKey(evalCase.Cohort.OrderBy(c => c.Key, StringComparer.Ordinal)),
            evalCase.Difficulty?.ToString().ToLowerInvariant(),
            evalCase.Pool.ToString().ToLowerInvariant(),
            result.Output,
            redactor.RedactOrNull(result.Error),
            result.Passed,
            result.Scores,
            result.Judge is { } judge ? judge with { Votes = [.. judge.Votes.Select(v => v with { Error = redactor.RedactOrNull(v.Error) })] } : null,
            response is null ? null : response.Latency.TotalMilliseconds,
            response?.InputTokens,
            response?.OutputTokens,
            cost,
            response?.Attempts ?? result.Attempts,
            response?.FromCache ?? false,
            DateTimeOffset.UtcNow);
    }
}
