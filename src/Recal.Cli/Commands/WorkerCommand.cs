using System.CommandLine;
using System.Globalization;
using Recal.Cli.Running;
using Recal.Running;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal worker</c>: executes the cases of the project's distributed runs, on any machine that reaches the store.</summary>
internal static class WorkerCommand
{
    public static Command Create(CliContext context)
    {
        var concurrency = new Option<int?>("--concurrency", "-c") { Description = "Cases in flight at once (default run.concurrency)", HelpName = "n" };
        var once = new Option<bool>("--once") { Description = "Exit when no distributed run of the project is open, instead of waiting for the next" };
        var lease = new Option<double>("--lease") { Description = "Seconds a claimed case stays leased without a heartbeat: how soon a killed worker's cases go to others", DefaultValueFactory = _ => 30, HelpName = "seconds" };
        var poll = new Option<double>("--poll") { Description = "Seconds between looks for work when there is none, and for runs cancelled or finished elsewhere", DefaultValueFactory = _ => 1, HelpName = "seconds" };
        var keyFile = HoldoutCommand.KeyFileOption();
        var command = new Command("worker", "Work on the project's distributed runs (recal run --distributed): claim cases from the store, run and score them, store each result once");
        foreach (var option in new Option[] { concurrency, once, lease, poll, keyFile })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var (leaseSeconds, pollSeconds) = (parse.GetValue(lease), parse.GetValue(poll));
            if (leaseSeconds is < 0.3 or > 3600 || pollSeconds is < 0.01 or > 600 || parse.GetValue(concurrency) is < 1)
            {
                context.Error.MarkupLine("[red]error[/]: --lease takes 0.3 to 3600 seconds, --poll 0.01 to 600 seconds, and --concurrency a positive number.");
                return ExitCodes.CannotRun;
            }

            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreAsync(context, project, cancellationToken).ConfigureAwait(false);
            if (DistributedRunCommand.QueueOf(context, project, store) is not { } queue)
            {
                return ExitCodes.CannotRun;
            }

            var options = new WorkerOptions(parse.GetValue(concurrency) ?? project.Settings.Run.Concurrency)
            {
                Lease = TimeSpan.FromSeconds(leaseSeconds),
                Poll = TimeSpan.FromSeconds(pollSeconds),
                Once = parse.GetValue(once),
            };
            var worker = new DistributedWorker(queue, project.Settings.Name, WorkerSessions.For(context, project, store, queue, options.Concurrency, parse.GetValue(keyFile)), options, context.Logger);
            context.Error.MarkupLine($"Worker [bold]{Markup.Escape(worker.Name)}[/] on {Markup.Escape(project.Settings.Store.Display)}: concurrency {options.Concurrency}, lease {leaseSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s{(options.Once ? ", until no run is open" : string.Empty)}.");
            var events = new SynchronousProgress<WorkerEvent>(e => context.Error.MarkupLine(e.Kind switch
            {
                WorkerEventKind.Joined => $"Joined run [bold]{Markup.Escape(e.RunId)}[/].",
                WorkerEventKind.Skipped => $"[yellow]warning[/]: skipping run {Markup.Escape(e.RunId)}: {Markup.Escape(e.Detail ?? string.Empty)}.",
                WorkerEventKind.Left => $"Left run [bold]{Markup.Escape(e.RunId)}[/] ({Markup.Escape(e.Detail ?? string.Empty)}): no more of its cases start here; its target and judges are freed once those in flight are scored.",
                _ => $"Run [bold]{Markup.Escape(e.RunId)}[/] finished ({Markup.Escape(e.Detail ?? string.Empty)}): this worker wrote its last case.",
            }));
            try
            {
                await worker.RunAsync(events, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Render(context, worker.Summary, stopped: true);
                return ExitCodes.Cancelled;
            }
            catch (Exception e) when (RecalCli.StoreFailure(e, context) is { } failure)
            {
                ProjectSession.WriteDiagnostics(context.Error, [failure.ToDiagnostic()]);
                context.Error.MarkupLine("Every result committed before the failure is kept; cases this worker held are claimed again once their lease expires.");
                return ExitCodes.CannotRun;
            }

            Render(context, worker.Summary, stopped: false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Render(CliContext context, WorkerSummary s, bool stopped) =>
        context.Out.MarkupLine($"Worker {Markup.Escape(s.Worker)} {(stopped ? "stopped (the cases it held went back to the queue)" : "done")}: {s.Done:N0} case(s) stored, {s.Calls:N0} call(s), {s.CacheHits:N0} from the cache, {s.Errors:N0} error(s), {s.Discarded:N0} duplicate(s) discarded, {s.RunsFinished:N0} run(s) finished here.");
}
