using Recal.Cli.Commands;
using Recal.Domain;
using Recal.Running;
using Recal.Scoring;
using Recal.Storage;

namespace Recal.Cli.Running;

/// <summary>
/// How <c>recal worker</c> sets up each distributed run it joins: the run checked against this machine's project (as a
/// resume is), its target and judges built as a local run builds them, with their rate limits kept in the store.
/// </summary>
internal static class WorkerSessions
{
    /// <param name="keyFile">The holdout key's file (<c>--key-file</c>; else <c>RECAL_HOLDOUT_KEY</c>), for runs that cover the sealed holdout.</param>
    public static WorkerSessionFactory For(CliContext context, EvalProject project, IRecalStore store, IRunQueue queue, int concurrency, FileInfo? keyFile)
    {
        var redactor = SecretRedactor.For(project.Settings);
        return async (run, settings, cancellationToken) =>
        {
            var (target, problem) = RunCompatibility.Check(project, run, redactor);
            if (target is null)
            {
                return (null, problem + "; this worker leaves the run to workers with the run's project");
            }

            var pools = run.Pools.ToList();
            var (opened, sealProblem) = WithSealedHoldout(context, project, pools, settings, keyFile);
            if (opened is null)
            {
                return (null, sealProblem);
            }

            if (settings.RequestsPerMinute is { } rpm)
            {
                target = target with { RequestsPerMinute = rpm };
            }

            var cases = EvalRunner.SelectCases(opened, pools);
            var factory = new TargetFactory
            {
                Retry = new RetrySettings(project.Settings.Run.Retries),
                Limiter = (key, limit) => new SharedRequestRateLimiter(queue, key, limit),
            };
            var (built, error) = await factory.CreateTargetAsync(project, target, store, cases, settings.UseCache, cancellationToken).ConfigureAwait(false);
            Judging.JudgePanel? panel = null;
            if (built is not null && settings.UseJudges && project.Settings.Judge is { } judge)
            {
                (panel, error) = factory.CreateJudges(project, store, settings.UseCache, judge.ReviewQueuePath);
            }

            if (built is null || (settings.UseJudges && panel is null))
            {
                await factory.DisposeAsync().ConfigureAwait(false);
                return (null, redactor.Redact(error ?? "the run has judges and this project configures none"));
            }

            var options = new RunOptions(concurrency, settings.MaxErrorShare) { Redactor = redactor };
            return (new WorkerRunSession(cases.ToDictionary(c => c.Id, StringComparer.Ordinal), built, [new AssertionScorer(), new ReferenceScorer()], panel, target.Price, options, factory, () => factory.Retries), null);
        };
    }

    /// <summary>
    /// The project with the sealed holdout opened in memory, when the run covers it, under the guarantees of a local run:
    /// this worker's own key, the commitment verified (and the one the submitter verified), the sealed-until date unless the
    /// submitter opened it early. Nothing of it is written anywhere; a worker that cannot open it leaves the run to others.
    /// </summary>
    private static (EvalProject? Project, string? Problem) WithSealedHoldout(CliContext context, EvalProject project, IReadOnlyList<Pool> pools, DistributedRunSettings settings, FileInfo? keyFile)
    {
        var seal = pools.Contains(Pool.Holdout) ? Lifecycle.HoldoutSeal.ReadRecord(project.Root) : null;
        if (seal is null)
        {
            return settings.Holdout is null ? (project, null) : (null, "the run covers the sealed holdout and this worker's project has no seal (holdout/seal.json)");
        }

        if (settings.Holdout is not { } use)
        {
            return (null, "the run covers the holdout, which this worker's project keeps sealed, and was queued without it");
        }

        if (!string.Equals(use.Commitment, seal.Commitment, StringComparison.Ordinal))
        {
            return (null, $"the run was queued for the holdout sealed with commitment {use.Commitment[..Math.Min(16, use.Commitment.Length)]}…, this worker's seal has {seal.Commitment[..16]}…");
        }

        var (holdout, error) = HoldoutCommand.OpenForRun(context, project, keyFile, use.Early);
        return holdout is null
            ? (null, $"{error}; this worker leaves the run to workers that have the key")
            : (project with { Cases = [.. project.Cases, .. holdout] }, null);
    }
}
