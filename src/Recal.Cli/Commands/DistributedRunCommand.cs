using System.Diagnostics;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Reporting.Runs;
using Recal.Running;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal run --distributed</c> and <c>recal run --attach RUN</c>: a run's cases queued for workers, and its progress watched from anywhere.</summary>
internal static class DistributedRunCommand
{
    /// <summary>How often <c>--attach</c> reads the run's state.</summary>
    internal static TimeSpan AttachInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The store's queue, or RC1017 at the <c>store:</c> setting when the store has none (SQLite).</summary>
    public static IRunQueue? QueueOf(CliContext context, EvalProject project, IRecalStore store)
    {
        if (store is IRunQueue queue)
        {
            return queue;
        }

        ProjectSession.WriteDiagnostics(context.Error, [new Diagnostic(
            Severity.Error,
            "RC1017",
            $"distributed runs need a store every worker reaches, and 'store' is {project.Settings.Store.Display}, a file on this machine",
            project.Settings.Store.Setting ?? new SourceLocation(Path.Combine(project.Root, "recal.yaml")),
            "put the store in PostgreSQL (store: postgres://USER@HOST/DATABASE, docs/store.md#postgresql), or run without --distributed")]);
        return null;
    }

    /// <summary>
    /// Queues the run's cases; with <paramref name="wait"/>, watches it to the end as <c>--attach</c> does, and Ctrl-C then
    /// cancels the run (as Ctrl-C stops a local run): the one who started it stops it.
    /// </summary>
    public static async Task<int> SubmitAsync(CliContext context, EvalProject project, IRecalStore store, IRunQueue queue, RunInfo run, IReadOnlyList<EvalCase> cases, DistributedRunSettings settings, bool wait, CancellationToken cancellationToken)
    {
        await DistributedRuns.EnqueueAsync(queue, run, cases, settings, cancellationToken).ConfigureAwait(false);
        var cap = settings.MaxInFlight is { } n ? $", at most {n:N0} case(s) in flight across its workers" : string.Empty;
        var holdout = settings.Holdout is null ? string.Empty : ", the sealed holdout opened by each worker with its own key";
        context.Error.MarkupLine($"Run [bold]{Markup.Escape(run.Id)}[/] queued: {cases.Count:N0} case(s) of {Markup.Escape(run.Pools.ToString())} for target [bold]{Markup.Escape(run.Target)}[/], suite {run.SuiteVersion}{(settings.UseCache ? string.Empty : ", cache off")}{cap}{holdout}.");
        context.Error.MarkupLine($"Start workers on any machine that reaches the store: [blue]recal worker --project DIR[/]{(settings.Holdout is null ? string.Empty : " [blue]--key-file FILE[/]")}; watch it with [blue]recal run --attach {Markup.Escape(run.Id)}[/], stop it with [blue]recal run --cancel {Markup.Escape(run.Id)}[/].");
        if (!wait)
        {
            return ExitCodes.Ok;
        }

        try
        {
            return await AttachAsync(context, store, queue, run.Id, cancellationToken, detach: false).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.Error.MarkupLine("[yellow]Stopped.[/] Cancelling the run (its workers stop claiming its cases; the results stored are kept).");
            await CancelAsync(context, project, queue, run.Id, CancellationToken.None).ConfigureAwait(false);
            return ExitCodes.Cancelled;
        }
    }

    /// <summary>
    /// <c>recal run --cancel RUN</c>: the run is cancelled in the store, its workers stop starting its cases and give back
    /// their leases, the results already stored are kept as a partial run. Cancelling a cancelled run says so and succeeds;
    /// a finished run or an unknown id is a located error (RC1901, RC1902).
    /// </summary>
    public static async Task<int> CancelAsync(CliContext context, EvalProject project, IRunQueue queue, string runId, CancellationToken cancellationToken)
    {
        var outcome = await queue.CancelRunAsync(runId, cancellationToken).ConfigureAwait(false);
        var place = new SourceLocation($"{project.Settings.Store.Display} (run {runId})");
        if (outcome.Run is not { } run)
        {
            ProjectSession.WriteDiagnostics(context.Error, [new Diagnostic(Severity.Error, "RC1902", $"no distributed run '{runId}' in the store", place, "recal report --list lists the runs; a local run is stopped with Ctrl-C in its terminal")]);
            return ExitCodes.CannotRun;
        }

        if (run.Status is RunStatus.Completed or RunStatus.Degraded)
        {
            ProjectSession.WriteDiagnostics(context.Error, [new Diagnostic(
                Severity.Error,
                "RC1901",
                $"run {runId} already finished ({run.Status.ToString().ToLowerInvariant()}{(run.Finished is { } at ? $" at {at.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z" : string.Empty)}) with all {run.Total:N0} case(s): there is nothing to cancel",
                place,
                $"recal report {runId} shows it")]);
            return ExitCodes.CannotRun;
        }

        var when = run.Finished is { } finished ? $" at {finished.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z" : string.Empty;
        context.Error.MarkupLine(outcome.Cancelled
            ? $"Run [bold]{Markup.Escape(runId)}[/] cancelled{when}: {outcome.Stored:N0} of {run.Total:N0} case result(s) are stored and kept (a partial run), {outcome.Released:N0} leased case(s) were taken back from their workers, which start none of its cases again; [blue]recal report {Markup.Escape(runId)}[/] shows what was scored."
            : $"Run [bold]{Markup.Escape(runId)}[/] was already cancelled{when}; {outcome.Stored:N0} of {run.Total:N0} case result(s) are stored.");
        return ExitCodes.Ok;
    }

    /// <summary>Shows the run's progress until it finishes, then its summary as a local run shows it, and its workers.</summary>
    /// <param name="detach">Ctrl-C stops watching and leaves the run to its workers (<c>--attach</c>); otherwise it is rethrown to the caller.</param>
    public static async Task<int> AttachAsync(CliContext context, IRecalStore store, IRunQueue queue, string runId, CancellationToken cancellationToken, bool detach = true)
    {
        var watch = Stopwatch.StartNew();
        DistributedRunState? state;
        try
        {
            TimeSpan? last = null;
            state = await DistributedRuns.WatchAsync(queue, runId, AttachInterval, new SynchronousProgress<DistributedRunState>(s =>
            {
                // One line every few seconds: a log, not a redrawn screen, so the command reads the same in CI.
                if (last is null || watch.Elapsed - last >= TimeSpan.FromSeconds(5) || s.IsFinished)
                {
                    last = watch.Elapsed;
                    context.Error.WriteLine(DistributedRunText.Describe(s));
                }
            }), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (detach)
        {
            context.Error.MarkupLine($"[yellow]Stopped watching.[/] The run goes on with its workers; [blue]recal run --attach {Markup.Escape(runId)}[/] watches it again, [blue]recal run --cancel {Markup.Escape(runId)}[/] stops it.");
            return ExitCodes.Cancelled;
        }

        if (state is null)
        {
            context.Error.MarkupLine($"[red]error[/]: no distributed run '{Markup.Escape(runId)}' in the store; [blue]recal report --list[/] lists the runs.");
            return ExitCodes.CannotRun;
        }

        var summary = await DistributedRuns.SummarizeAsync(store, state, cancellationToken).ConfigureAwait(false);
        var elapsed = (state.Run.Finished ?? DateTimeOffset.UtcNow) - state.Run.Started;
        RunCommand.Render(context, summary, null, null, state.Retries, elapsed);
        foreach (var line in DistributedRunText.Workers(state))
        {
            context.Out.WriteLine(line);
        }

        return state.Run.Status is RunStatus.Cancelled ? ExitCodes.Cancelled : summary.Degraded ? ExitCodes.Degraded : ExitCodes.Ok;
    }
}
