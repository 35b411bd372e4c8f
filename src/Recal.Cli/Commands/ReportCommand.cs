using System.CommandLine;
using Recal.Reporting.Runs;
using Recal.Running;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal report</c>: a stored run's score, segmented and weighted by today's traffic.</summary>
internal static class ReportCommand
{
    public static Command Create(CliContext context)
    {
        var runArgument = new Argument<string?>("run") { Description = "The run id (default: the newest run)", Arity = ArgumentArity.ZeroOrOne };
        var list = new Option<bool>("--list") { Description = "List the stored runs instead" };
        var full = new Option<bool>("--full") { Description = "Show every row in the terminal (intents, strata)" };
        var brief = new Option<bool>("--brief") { Description = "Show only the headline and the pass rate per pool in the terminal" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON (docs/schemas/run-report.schema.json)", HelpName = "file" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the report as Markdown (for a pull request comment)", HelpName = "file" };
        var html = new Option<FileInfo?>("--html") { Description = "Also write the report as one self-contained HTML page", HelpName = "file" };
        var command = new Command("report", "Show a run's pass rate with Wilson intervals per intent, cohort, difficulty and pool, and its traffic-weighted expected pass rate");
        command.Arguments.Add(runArgument);
        foreach (var option in new Option[] { list, full, brief, json, markdown, html })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForReadingAsync(context, project, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(list))
            {
                // Ids and names stay whole at any width (scripts read the first column); less important columns move below.
                var table = new Reporting.Terminal.FitTable().Column("run").Column("target").Column("suite", priority: 3).Column("pools", priority: 2)
                    .Column("cases", rightAligned: true, priority: 2).Column("status").Column("started (UTC)", "started", priority: 3);
                foreach (var stored in await store.ListRunsAsync(100, cancellationToken).ConfigureAwait(false))
                {
                    table.Row(Markup.Escape(stored.Id), Markup.Escape(stored.Target), stored.SuiteVersion, Markup.Escape(stored.Pools.ToString()), RunReportTables.Count(stored.Total), stored.Status.ToString().ToLowerInvariant(), stored.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture));
                }

                table.Render(context.Out);
                return ExitCodes.Ok;
            }

            var id = parse.GetValue(runArgument);
            var run = id is null
                ? (await store.ListRunsAsync(1, cancellationToken).ConfigureAwait(false)).FirstOrDefault()
                : await store.GetRunAsync(id, cancellationToken).ConfigureAwait(false);
            if (run is null)
            {
                context.Error.MarkupLine(id is null
                    ? "[red]error[/]: the store holds no run yet; start one with [blue]recal run[/]."
                    : $"[red]error[/]: no run '{Markup.Escape(id)}'; [blue]recal report --list[/] lists the runs.");
                return ExitCodes.CannotRun;
            }

            var results = await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false);
            var report = await RunReportBuilder.BuildAsync(run, results, project.Policy, store, cancellationToken, project.Cases.ToDictionary(c => c.Id, StringComparer.Ordinal)).ConfigureAwait(false);
            report = await Decisions.Contamination.AttachAsync(report, project, store, cancellationToken).ConfigureAwait(false);
            RunConsoleRenderer.Render(context.Out, report, parse.GetValue(full), parse.GetValue(brief), project.Policy.Alarms);
            if (run.Status is RunStatus.Running or RunStatus.Interrupted)
            {
                context.Error.MarkupLine($"[yellow]warning[/]: the run is unfinished ({results.Count:N0} of {run.Total:N0} cases); [blue]recal run --resume {Markup.Escape(run.Id)}[/] finishes it.");
            }
            else if (run.Status is RunStatus.Cancelled)
            {
                context.Error.MarkupLine($"[yellow]warning[/]: the run was cancelled: a partial run, {results.Count:N0} of {run.Total:N0} cases have results and every figure covers those only; start a new run for the rest.");
            }

            foreach (var (option, render) in new (Option<FileInfo?> Option, Func<RunReport, string> Render)[] { (json, RunReportWriters.ToJson), (markdown, RunReportWriters.ToMarkdown), (html, r => RunReportWriters.ToHtml(r, project.Policy.Alarms)) })
            {
                if (parse.GetValue(option) is { } file)
                {
                    await RunReportWriters.WriteAsync(file.FullName, render(report), cancellationToken).ConfigureAwait(false);
                    context.Out.MarkupLine($"{option.Name[2..]} report: {Markup.Escape(file.FullName)}");
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
