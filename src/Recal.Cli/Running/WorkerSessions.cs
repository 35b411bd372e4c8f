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
    public static WorkerSessionFactory For(EvalProject project, IRecalStore store, IRunQueue queue, int concurrency)
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
            if (pools.Contains(Pool.Holdout) && Lifecycle.HoldoutSeal.ReadRecord(project.Root) is not null)
            {
                return (null, "the run covers the sealed holdout, which workers cannot open");
            }

            if (settings.RequestsPerMinute is { } rpm)
            {
                target = target with { RequestsPerMinute = rpm };
            }

            var cases = EvalRunner.SelectCases(project, pools);
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
}
