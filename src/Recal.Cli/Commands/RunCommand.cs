using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Recal.Cli.Running;
using Recal.Domain;
using Recal.Judging;
using Recal.Running;
using Recal.Scoring;
using Recal.Statistics;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal run</c>: runs a target over a pool of the eval set, storing every case as it completes.</summary>
internal static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var target = new Option<string?>("--target", "-t") { Description = "Which target of recal.yaml to run (default: the only one, or the first)", HelpName = "name" };
        var pools = EnumOptions.Many<Pool>("--pool", "Which pools to run (default: gold); repeat for several");
        var concurrency = new Option<int?>("--concurrency", "-c") { Description = "Cases in flight at once (default: the target's, then run.concurrency); with --distributed, the run's cap on cases in flight across all its workers (default: no cap beyond each worker's --concurrency)", HelpName = "n" };
        var rpm = new Option<double?>("--rpm") { Description = "At most this many target calls per minute", HelpName = "n" };
        var noCache = new Option<bool>("--no-cache") { Description = "Call the target and judges even when the response cache holds an answer" };
        var noJudge = new Option<bool>("--no-judge") { Description = "Score without the judge ensemble" };
        var limit = new Option<int?>("--limit") { Description = "Run only the first N cases (by id)", HelpName = "n" };
        var resume = new Option<string?>("--resume")
        {
            Description = "Finish an interrupted run without repeating completed cases (default: the newest unfinished run)",
            HelpName = "run",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var keyFile = HoldoutCommand.KeyFileOption();
        var unseal = new Option<bool>("--unseal") { Description = "Run the sealed holdout before its sealed-until date (needs the key)" };
        var distributed = new Option<bool>("--distributed") { Description = "Queue the cases in the store (PostgreSQL) for recal worker processes on any machine, and return" };
        var wait = new Option<bool>("--wait") { Description = "With --distributed: watch the run until its workers finish it" };
        var attach = new Option<string?>("--attach") { Description = "Show a distributed run's progress (cases done, leased, queued; workers; errors) until it finishes", HelpName = "run" };
        var cancel = new Option<string?>("--cancel") { Description = "Cancel a distributed run: its workers stop claiming its cases, the results stored are kept (a partial run)", HelpName = "run" };
        var maxErrors = new Option<double?>("--max-error-share") { Description = "Above this share of errored cases the run is degraded (exit code 3); default run.max_error_share", HelpName = "share" };

        var command = new Command("run", "Run a target over the eval set: bounded concurrency, retries, response cache, resumable; exit code 3 when degraded");
        foreach (var option in new Option[] { target, pools, concurrency, rpm, noCache, noJudge, limit, resume, distributed, wait, attach, cancel, maxErrors, keyFile, unseal })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            StartupTrace.Mark("action");
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            StartupTrace.Mark("loaded");
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            var request = new RunRequest(
                parse.GetValue(target),
                parse.GetValue(pools) is { Length: > 0 } p ? p : [Pool.Gold],
                parse.GetValue(concurrency),
                parse.GetValue(rpm),
                parse.GetValue(noCache),
                parse.GetValue(noJudge),
                parse.GetValue(limit),
                parse.GetResult(resume) is not null,
                parse.GetValue(resume),
                parse.GetValue(maxErrors),
                parse.GetValue(keyFile),
                parse.GetValue(unseal))
            {
                Distributed = parse.GetValue(distributed),
                Wait = parse.GetValue(wait),
                Attach = parse.GetValue(attach),
                Cancel = parse.GetValue(cancel),
            };
            if (request is { Distributed: false, Wait: true } || ((request.Attach ?? request.Cancel) is not null && (request.Distributed || request.Resume || request.Attach is not null == request.Cancel is not null)))
            {
                context.Error.MarkupLine("[red]error[/]: --wait goes with --distributed, and --attach RUN and --cancel RUN each stand alone (they act on a run already queued).");
                return ExitCodes.CannotRun;
            }

            if (request.Concurrency is < 1)
            {
                context.Error.MarkupLine("[red]error[/]: --concurrency takes a positive number of cases.");
                return ExitCodes.CannotRun;
            }

            return await ExecuteAsync(context, project, request, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> ExecuteAsync(CliContext context, EvalProject project, RunRequest request, CancellationToken cancellationToken)
    {
        await using var store = await ProjectSession.OpenStoreAsync(context, project, cancellationToken).ConfigureAwait(false);
        StartupTrace.Mark("store");
        var queued = request.Distributed || request.Attach is not null || request.Cancel is not null;
        var queue = queued ? DistributedRunCommand.QueueOf(context, project, store) : null;
        if (queue is null && queued)
        {
            return ExitCodes.CannotRun;
        }

        if (request.Attach is { } attached)
        {
            return await DistributedRunCommand.AttachAsync(context, store, queue!, attached, cancellationToken).ConfigureAwait(false);
        }

        if (request.Cancel is { } cancelled)
        {
            return await DistributedRunCommand.CancelAsync(context, project, queue!, cancelled, cancellationToken).ConfigureAwait(false);
        }

        var redactor = SecretRedactor.For(project.Settings);
        RunInfo run;
        IReadOnlyList<EvalCase> cases;
        TargetSettings? settings;
        var suite = EvalRunner.SuiteVersion(project, request.NoJudge ? null : project.Rubric);
        StartupTrace.Mark("suite");
        if (request.Resume)
        {
            var found = request.ResumeId is { } id
                ? await store.GetRunAsync(id, cancellationToken).ConfigureAwait(false)
                : (await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Resumable, Limit: 1), cancellationToken).ConfigureAwait(false)).FirstOrDefault();
            if (found is null)
            {
                context.Error.MarkupLine(request.ResumeId is null
                    ? "[red]error[/]: there is no unfinished run to resume; start one with [blue]recal run[/]."
                    : $"[red]error[/]: no run '{Markup.Escape(request.ResumeId)}' in the store; [blue]recal report --list[/] lists the runs.");
                return ExitCodes.CannotRun;
            }

            if (found.Status is RunStatus.Completed or RunStatus.Degraded)
            {
                context.Error.MarkupLine($"[red]error[/]: run {Markup.Escape(found.Id)} already finished ({found.Status.ToString().ToLowerInvariant()}); [blue]recal report {Markup.Escape(found.Id)}[/] shows it.");
                return ExitCodes.CannotRun;
            }

            if (found.Status is RunStatus.Cancelled)
            {
                context.Error.MarkupLine($"[red]error[/]: run {Markup.Escape(found.Id)} was cancelled (a partial run, kept as it is); start a new run for its cases.");
                return ExitCodes.CannotRun;
            }

            if (store is IRunQueue runQueue && await runQueue.GetRunStateAsync(found.Id, cancellationToken).ConfigureAwait(false) is not null)
            {
                context.Error.MarkupLine($"[red]error[/]: run {Markup.Escape(found.Id)} is a distributed run: its workers finish it ([blue]recal worker[/]); [blue]recal run --attach {Markup.Escape(found.Id)}[/] shows its progress.");
                return ExitCodes.CannotRun;
            }

            var judged = found.Judges is not null;
            (settings, var problem) = RunCompatibility.Check(project, found, redactor);
            if (settings is null)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(problem!)}. Start a new run instead.");
                return ExitCodes.CannotRun;
            }

            var poolNames = found.Pools.ToList();
            if (WithHoldout(context, project, poolNames, request) is not { } opened)
            {
                return ExitCodes.CannotRun;
            }

            project = opened;
            cases = EvalRunner.SelectCases(project, poolNames, found.Total < project.Cases.Count(c => poolNames.Contains(c.Pool)) ? found.Total : null);
            run = found;
            request = request with { NoJudge = !judged };
        }
        else
        {
            settings = SelectTarget(context, project, request.Target);
            if (settings is null)
            {
                return ExitCodes.CannotRun;
            }

            // A distributed run opens the sealed holdout here as a local run does (the key, the commitment, the date), so it
            // is refused where a local run is; its workers then open it again with their own keys (WorkerSessions).
            var seal = request.Pools.Contains(Pool.Holdout) ? Lifecycle.HoldoutSeal.ReadRecord(project.Root) : null;
            if (WithHoldout(context, project, request.Pools, request) is not { } opened)
            {
                return ExitCodes.CannotRun;
            }

            project = opened;
            cases = EvalRunner.SelectCases(project, request.Pools, request.Limit);
            if (cases.Count == 0)
            {
                context.Error.MarkupLine($"[red]error[/]: the pool(s) {string.Join(", ", request.Pools.Select(p => p.ToString().ToLowerInvariant()))} hold no case.");
                return ExitCodes.CannotRun;
            }

            var started = await EvalRunner.FreeStartAsync(store, settings.Name, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
            var judges = request.NoJudge || project.Settings.Judge is null ? null : $"{project.Rubric!.Id}: {string.Join(", ", project.Settings.Judge.Judges.Select(j => j.Name))}";
            run = new RunInfo(EvalRunner.NewRunId(settings.Name, started), project.Settings.Name, settings.Name, TargetFactory.Describe(settings, redactor), suite,
                PoolSet.Of(request.Pools), cases.Count, judges, started, null, RunStatus.Running);
            if (queue is not null)
            {
                var distributed = new DistributedRunSettings(!request.NoCache, judges is not null, request.Rpm, request.MaxErrorShare ?? project.Settings.Run.MaxErrorShare, request.Concurrency)
                {
                    Holdout = seal is null ? null : new SealedHoldoutUse(seal.Commitment, request.Unseal),
                };
                return await DistributedRunCommand.SubmitAsync(context, project, store, queue, run, cases, distributed, request.Wait, cancellationToken).ConfigureAwait(false);
            }

            await store.CreateRunAsync(run, cancellationToken).ConfigureAwait(false);
            StartupTrace.Mark("created");
        }

        // One process at a time per run: a second resume would call the endpoint again for the cases in flight.
        var (lease, heldBy) = await RunLease.AcquireAsync(store, run.Id, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            context.Error.MarkupLine($"[red]error[/]: run {Markup.Escape(run.Id)} is being executed by {Markup.Escape(heldBy!.Owner)} (host:process:claim; its lease runs to {heldBy.Until.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z and is renewed while it runs). Wait for it to finish, or stop it; a lease of a process that was killed elsewhere expires within {RunLease.Duration.TotalSeconds:0} s.");
            return ExitCodes.CannotRun;
        }

        await using var held = lease;
        StartupTrace.Mark("lease");
        if (request.Rpm is { } rpmOverride)
        {
            settings = settings with { RequestsPerMinute = rpmOverride };
        }

        await using var factory = new TargetFactory { Retry = new RetrySettings(project.Settings.Run.Retries) };
        var (targetImpl, error) = await factory.CreateTargetAsync(project, settings, store, cases, !request.NoCache, cancellationToken).ConfigureAwait(false);
        StartupTrace.Mark("target");
        if (targetImpl is null)
        {
            context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(redactor.Redact(error!))}");
            await store.FinishRunAsync(run.Id, RunStatus.Interrupted, null, CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.CannotRun;
        }

        if (targetImpl is ReplayTarget { Problems.Count: > 0 } replay)
        {
            foreach (var problem in replay.Problems)
            {
                context.Error.MarkupLine($"[yellow]warning[/]: {Markup.Escape(problem)}");
            }
        }

        JudgePanel? panel = null;
        if (!request.NoJudge && project.Settings.Judge is not null)
        {
            (panel, error) = factory.CreateJudges(project, store, !request.NoCache, project.Settings.Judge.ReviewQueuePath);
            if (panel is null)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(redactor.Redact(error!))}");
                await store.FinishRunAsync(run.Id, RunStatus.Interrupted, null, CancellationToken.None).ConfigureAwait(false);
                return ExitCodes.CannotRun;
            }
        }

        var options = new RunOptions(request.Concurrency ?? settings.Concurrency ?? project.Settings.Run.Concurrency, request.MaxErrorShare ?? project.Settings.Run.MaxErrorShare) { Redactor = redactor };
        context.Error.MarkupLine($"Run [bold]{Markup.Escape(run.Id)}[/]: target [bold]{Markup.Escape(settings.Name)}[/] over {cases.Count:N0} case(s) of {Markup.Escape(run.Pools.ToString())}, suite {run.SuiteVersion}, concurrency {options.Concurrency}{(panel is null ? string.Empty : $", judges {Markup.Escape(run.Judges!)}")}{(request.NoCache ? ", cache off" : string.Empty)}.");
        var watch = Stopwatch.StartNew();
        StartupTrace.Mark("executing");
        RunSummary summary;
        try
        {
            summary = await WithProgressAsync(context, progress =>
                EvalRunner.ExecuteAsync(store, run, cases, targetImpl, [new AssertionScorer(), new ReferenceScorer()], panel, settings.Price, options, progress, cancellationToken, context.Logger)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            var stored = await store.GetRunCasesAsync(run.Id, CancellationToken.None).ConfigureAwait(false);
            context.Error.MarkupLine($"[yellow]Stopped.[/] {stored.Count:N0} of {cases.Count:N0} case results are stored; [blue]recal run --resume {Markup.Escape(run.Id)}[/] finishes the run without repeating them.");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (RecalCli.StoreFailure(e, context) is { } failure)
        {
            // A full disk or a damaged store mid-run: say what is kept and how to finish, never a stack trace.
            ProjectSession.WriteDiagnostics(context.Error, [failure.ToDiagnostic()]);
            var kept = await CountStoredAsync(store, run.Id).ConfigureAwait(false);
            context.Error.MarkupLine($"{(kept is { } n ? $"{n:N0} of {cases.Count:N0} case results are stored" : "Every case result committed before the failure is kept")}; after fixing the cause, [blue]recal run --resume {Markup.Escape(run.Id)}[/] finishes the run without repeating them.");
            return ExitCodes.CannotRun;
        }

        StartupTrace.Mark("ran");
        Render(context, summary, panel, project.Settings.Judge?.ReviewQueuePath, factory.Retries, watch.Elapsed);
        StartupTrace.Mark("rendered");
        return summary.Degraded ? ExitCodes.Degraded : ExitCodes.Ok;
    }

    /// <summary>How many results of a run are stored; null when the store cannot even be read.</summary>
    private static async Task<int?> CountStoredAsync(IRecalStore store, string runId)
    {
        try
        {
            return (await store.GetRunCasesAsync(runId, CancellationToken.None).ConfigureAwait(false)).Count;
        }
        catch (Exception e) when (e is StoreException or IOException or System.Data.Common.DbException)
        {
            return null;
        }
    }

    private static TargetSettings? SelectTarget(CliContext context, EvalProject project, string? name)
    {
        var targets = project.Settings.Targets;
        if (targets.Count == 0)
        {
            context.Error.MarkupLine("[red]error[/]: recal.yaml configures no target; add one under [blue]targets:[/] (docs/running.md).");
            return null;
        }

        if (name is null)
        {
            return targets[0];
        }

        var found = targets.FirstOrDefault(t => t.Name == name);
        if (found is null)
        {
            var hint = Text.Spelling.Hint(name, [.. targets.Select(t => t.Name)]);
            context.Error.MarkupLine($"[red]error[/]: no target '{Markup.Escape(name)}' in recal.yaml; {Markup.Escape(hint ?? $"the targets are {string.Join(", ", targets.Select(t => t.Name))}")}.");
        }

        return found;
    }

    internal static async Task<RunSummary> WithProgressAsync(CliContext context, Func<IProgress<RunProgress>, Task<RunSummary>> work)
    {
        var watch = Stopwatch.StartNew();
        string Describe(RunProgress p) => Reporting.Runs.RunProgressText.Describe(p, watch.Elapsed);

        if (!context.Error.Profile.Capabilities.Interactive)
        {
            var last = TimeSpan.Zero;
            RunProgress? latest = null;
            var lines = new Progress<RunProgress>(p =>
            {
                latest = p;
                if (watch.Elapsed - last >= TimeSpan.FromSeconds(5))
                {
                    last = watch.Elapsed;
                    context.Error.WriteLine(Describe(p));
                }
            });
            var result = await work(lines).ConfigureAwait(false);
            if (latest is { } final && last > TimeSpan.Zero)
            {
                context.Error.WriteLine(Describe(final));
            }

            return result;
        }

        RunSummary? summary = null;
        await context.Error.Progress()
            .AutoClear(false)
            .Columns(new ProgressBarColumn(), new PercentageColumn(), new TaskDescriptionColumn { Alignment = Justify.Left })
            .StartAsync(async progressContext =>
            {
                var task = progressContext.AddTask("starting", maxValue: 1);
                var progress = new Progress<RunProgress>(p =>
                {
                    task.MaxValue = Math.Max(1, p.Total);
                    task.Value = p.Done;
                    task.Description = Markup.Escape(Describe(p));
                });
                summary = await work(progress).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return summary!;
    }

    internal static void Render(CliContext context, RunSummary summary, JudgePanel? panel, string? reviewQueue, int retries, TimeSpan elapsed)
    {
        var console = context.Out;
        var (lower, upper) = summary.Passed + summary.Failed == 0 ? (double.NaN, double.NaN) : Proportion.WilsonInterval(summary.Passed, summary.Passed + summary.Failed);
        var status = summary.Run.Status is RunStatus.Cancelled
            ? $"[yellow]cancelled[/] (a partial run: {summary.Done:N0} of {summary.Run.Total:N0} case(s) have results)"
            : summary.Degraded ? "[red]degraded[/]" : "[green]completed[/]";
        console.MarkupLine($"Run [bold]{Markup.Escape(summary.Run.Id)}[/] {status} in {elapsed.TotalSeconds:0.0} s.");
        var table = new Table().Border(TableBorder.Simple).HideHeaders();
        table.AddColumns("what", "value");
        table.AddRow("cases", $"{summary.Done:N0}");
        table.AddRow("pass rate", summary.Passed + summary.Failed == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"[bold]{summary.PassRate:0.0%}[/] (95% CI {lower:0.0%}–{upper:0.0%}; {summary.Passed:N0} passed, {summary.Failed:N0} failed)"));
        table.AddRow("errors", summary.Errors == 0 ? "0" : string.Create(CultureInfo.InvariantCulture, $"[{(summary.Degraded ? "red" : "yellow")}]{summary.Errors:N0} ({summary.ErrorShare:0.0%}) — never counted as passes[/]"));
        table.AddRow("calls", $"{summary.Calls:N0} answered by a call, {summary.CacheHits:N0} from the cache, {retries:N0} retries");
        if (panel is not null)
        {
            var failures = panel.FailedVotes > 0 ? $"[red]{panel.FailedVotes:N0} failed judge votes[/]" : "0 failed judge votes";
            table.AddRow("judges", $"{Markup.Escape(panel.Rubric.Id)} × {panel.Judges.Count}: {panel.Calls:N0} calls, {failures}, {panel.Repairs:N0} repair requests, {panel.Reviews:N0} case(s) sent to review");
        }

        if (summary.Cost is { } cost)
        {
            table.AddRow("cost", cost.ToString("0.####", CultureInfo.InvariantCulture));
        }

        console.Write(table);
        if (panel is { Reviews: > 0 } && reviewQueue is not null)
        {
            console.MarkupLine($"Cases for human review were appended to {Markup.Escape(reviewQueue)}.");
        }

        console.MarkupLine($"Details: [blue]recal report {Markup.Escape(summary.Run.Id)}[/]");
    }

    private sealed record RunRequest(string? Target, IReadOnlyList<Pool> Pools, int? Concurrency, double? Rpm, bool NoCache, bool NoJudge, int? Limit, bool Resume, string? ResumeId, double? MaxErrorShare, FileInfo? KeyFile, bool Unseal)
    {
        public bool Distributed { get; init; }

        public bool Wait { get; init; }

        public string? Attach { get; init; }

        public string? Cancel { get; init; }
    }

    /// <summary>The project with its sealed holdout opened, when the run asks for the holdout and it is sealed.</summary>
    private static EvalProject? WithHoldout(CliContext context, EvalProject project, IReadOnlyCollection<Pool> pools, RunRequest request)
    {
        if (!pools.Contains(Pool.Holdout) || Lifecycle.HoldoutSeal.ReadRecord(project.Root) is null)
        {
            return project;
        }

        var (holdout, error) = HoldoutCommand.OpenForRun(context, project, request.KeyFile, request.Unseal);
        if (holdout is null)
        {
            context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)}");
            return null;
        }

        context.Error.MarkupLine($"The sealed holdout was opened in memory: {holdout.Count:N0} case(s), commitment verified.");
        return project with { Cases = [.. project.Cases, .. holdout] };
    }
}
