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

    /// <summary>Queues the run's cases; with <paramref name="wait"/>, watches it to the end as <c>--attach</c> does.</summary>
    public static async Task<int> SubmitAsync(CliContext context, IRecalStore store, IRunQueue queue, RunInfo run, IReadOnlyList<EvalCase> cases, DistributedRunSettings settings, bool wait, CancellationToken cancellationToken)
    {
        await DistributedRuns.EnqueueAsync(queue, run, cases, settings, cancellationToken).ConfigureAwait(false);
        context.Error.MarkupLine($"Run [bold]{Markup.Escape(run.Id)}[/] queued: {cases.Count:N0} case(s) of {Markup.Escape(run.Pools.ToString())} for target [bold]{Markup.Escape(run.Target)}[/], suite {run.SuiteVersion}{(settings.UseCache ? string.Empty : ", cache off")}.");
        context.Error.MarkupLine($"Start workers on any machine that reaches the store: [blue]recal worker --project DIR[/]; watch it with [blue]recal run --attach {Markup.Escape(run.Id)}[/].");
        return wait ? await AttachAsync(context, store, queue, run.Id, cancellationToken).ConfigureAwait(false) : ExitCodes.Ok;
    }

    /// <summary>Shows the run's progress until it finishes, then its summary as a local run shows it, and its workers.</summary>
    public static async Task<int> AttachAsync(CliContext context, IRecalStore store, IRunQueue queue, string runId, CancellationToken cancellationToken)
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
        catch (OperationCanceledException)
        {
            context.Error.MarkupLine($"[yellow]Stopped watching.[/] The run goes on with its workers; [blue]recal run --attach {Markup.Escape(runId)}[/] watches it again.");
            return ExitCodes.Cancelled;
        }

        if (state is null)
        {
            context.Error.MarkupLine($"[red]error[/]: no distributed run '{Markup.Escape(runId)}' in the store; [blue]recal report --list[/] lists the runs.");
            return ExitCodes.CannotRun;
        }

        var summary = await DistributedRuns.SummarizeAsync(store, state, cancellationToken).ConfigureAwait(false);
        var elapsed = (state.Run.Finished ?? DateTimeOffset.UtcNow) - state.Run.Started;
        RunCommand.Render(context, summary, null, null, 0, elapsed);
        foreach (var line in DistributedRunText.Workers(state))
        {
            context.Out.WriteLine(line);
        }

        return summary.Degraded ? ExitCodes.Degraded : ExitCodes.Ok;
    }
}
