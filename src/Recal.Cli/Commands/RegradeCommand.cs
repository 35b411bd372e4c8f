using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Recal.Cli.Running;
using Recal.Decisions;
using Recal.Domain;
using Recal.Judging;
using Recal.Reporting.Decisions;
using Recal.Running;
using Recal.Scoring;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary>
/// <c>recal regrade RUN</c>: re-scores a stored run's outputs under the current scorers and rubric (or another
/// rubric) without calling the target, as a new run linked to its source, and shows what the change of rubric moved.
/// </summary>
internal static class RegradeCommand
{
    public static Command Create(CliContext context)
    {
        var source = new Argument<string>("run") { Description = "The run whose outputs are re-scored: a run id, or a target name (its newest finished run)" };
        var rubric = new Option<FileInfo?>("--rubric") { Description = "Grade with this rubric file instead of the project's (docs/judging.md)", HelpName = "file" };
        var noJudge = new Option<bool>("--no-judge") { Description = "Re-score with the deterministic scorers only" };
        var noCache = new Option<bool>("--no-cache") { Description = "Call the judges even for prompts they answered before" };
        var concurrency = new Option<int?>("--concurrency") { Description = "Cases scored at once (default: run.concurrency)" };
        var keyFile = new Option<FileInfo?>("--key-file") { Description = "The holdout key, when the run scored the sealed holdout (or RECAL_HOLDOUT_KEY)", HelpName = "file" };
        var command = new Command("regrade", "Re-score a stored run's outputs under a new rubric or scorer setting, calling no target: a new run linked to its source, and a diff of old and new verdicts");
        command.Arguments.Add(source);
        foreach (var option in new Option[] { rubric, noJudge, noCache, concurrency, keyFile })
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

            if (parse.GetValue(rubric) is { } rubricFile)
            {
                if (project.Settings.Judge is null)
                {
                    context.Error.MarkupLine("[red]error[/]: --rubric needs judges: recal.yaml configures no [blue]judge:[/] section (docs/judging.md).");
                    return ExitCodes.CannotRun;
                }

                var (loaded, diagnostics) = RubricLoader.Load(rubricFile.FullName);
                ProjectSession.WriteDiagnostics(context.Error, diagnostics);
                if (loaded is null)
                {
                    return ExitCodes.CannotRun;
                }

                project = project with { Rubric = loaded };
            }

            await using var store = await ProjectSession.OpenStoreAsync(context, project, cancellationToken).ConfigureAwait(false);
            var (found, error) = await RunSelector.FindAsync(store, parse.GetValue(source)!, [.. project.Settings.Targets.Select(t => t.Name)], cancellationToken).ConfigureAwait(false);
            if (found is null)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)}");
                return ExitCodes.CannotRun;
            }

            var results = await store.GetRunCasesAsync(found.Id, cancellationToken).ConfigureAwait(false);
            var pools = found.Pools.ToList();
            if (pools.Contains(Pool.Holdout) && Lifecycle.HoldoutSeal.ReadRecord(project.Root) is not null)
            {
                var (holdout, holdoutError) = HoldoutCommand.OpenForRun(context, project, parse.GetValue(keyFile), early: false);
                if (holdout is null)
                {
                    context.Error.MarkupLine($"[red]error[/]: the run scored the sealed holdout: {Markup.Escape(holdoutError!)}");
                    return ExitCodes.CannotRun;
                }

                project = project with { Cases = [.. project.Cases, .. holdout] };
            }

            // The run's cases as the project holds them now: their references and assertions are what is re-scored.
            var byId = project.Cases.ToDictionary(c => c.Id, StringComparer.Ordinal);
            var cases = results.Select(r => byId.GetValueOrDefault(r.CaseId)).OfType<EvalCase>().ToList();
            var gone = results.Count - cases.Count;
            if (gone > 0)
            {
                context.Error.MarkupLine($"[yellow]warning[/]: {gone:N0} case(s) of run {Markup.Escape(found.Id)} are no longer in the project and are not re-scored.");
            }

            if (cases.Count == 0)
            {
                context.Error.MarkupLine($"[red]error[/]: no case of run {Markup.Escape(found.Id)} is in the project any more.");
                return ExitCodes.CannotRun;
            }

            await using var factory = new TargetFactory { Retry = new RetrySettings(project.Settings.Run.Retries) };
            JudgePanel? panel = null;
            var judged = !parse.GetValue(noJudge) && project.Settings.Judge is not null && (found.Judges is not null || parse.GetValue(rubric) is not null);
            if (judged)
            {
                (panel, error) = factory.CreateJudges(project, store, !parse.GetValue(noCache), project.Settings.Judge!.ReviewQueuePath);
                if (panel is null)
                {
                    context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(SecretRedactor.For(project.Settings).Redact(error!))}");
                    return ExitCodes.CannotRun;
                }
            }

            // A cached regrade can finish within the second its source started: take the next free second.
            var started = await EvalRunner.FreeStartAsync(store, found.Target, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);

            var link = JsonNode.Parse(found.TargetJson) as JsonObject ?? [];
            link["regrade_of"] = found.Id;
            link["rubric"] = panel?.Rubric.Id;
            var run = new RunInfo(EvalRunner.NewRunId(found.Target, started), project.Settings.Name, found.Target, link.ToJsonString(), EvalRunner.SuiteVersion(project, panel?.Rubric), found.Pools, cases.Count,
                panel is null ? null : $"{panel.Rubric.Id}: {string.Join(", ", project.Settings.Judge!.Judges.Select(j => j.Name))}", started, null, RunStatus.Running);
            await store.CreateRunAsync(run, cancellationToken).ConfigureAwait(false);
            var (lease, _) = await RunLease.AcquireAsync(store, run.Id, cancellationToken: cancellationToken).ConfigureAwait(false);
            await using var held = lease;
            var options = new RunOptions(parse.GetValue(concurrency) ?? project.Settings.Run.Concurrency, project.Settings.Run.MaxErrorShare) { Redactor = SecretRedactor.For(project.Settings) };
            context.Error.MarkupLine($"Regrade [bold]{Markup.Escape(run.Id)}[/]: the outputs of run {Markup.Escape(found.Id)} ({cases.Count:N0} case(s)), no target call{(panel is null ? ", deterministic scorers only" : $", judges {Markup.Escape(run.Judges!)}")}.");
            var watch = Stopwatch.StartNew();
            RunSummary summary;
            try
            {
                summary = await RunCommand.WithProgressAsync(context, progress =>
                    EvalRunner.ExecuteAsync(store, run, cases, ReplayTarget.FromRun(found.Id, results), [new AssertionScorer(), new ReferenceScorer()], panel, null, options, progress, cancellationToken, context.Logger)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                context.Error.MarkupLine($"[yellow]Stopped.[/] The case results scored so far are kept in run {Markup.Escape(run.Id)}; regrading again starts a new run (the judges' answers are cached).");
                return ExitCodes.Cancelled;
            }

            RunCommand.Render(context, summary, panel, project.Settings.Judge?.ReviewQueuePath, factory.Retries, watch.Elapsed);

            // What the new rubric moved: the source run against its regrade, case by case.
            var regraded = await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false);
            var diff = RunDiffBuilder.Build(found, results, summary.Run, regraded, project.Policy, byId);
            context.Out.MarkupLine($"Verdicts moved by the regrade: {diff.Overall.NewlyFailing:N0} now failing, {diff.Overall.NewlyPassing:N0} now passing, {diff.Overall.BothPassed + diff.Overall.BothFailed:N0} unchanged; [blue]recal diff {Markup.Escape(found.Id)} {Markup.Escape(run.Id)}[/] shows each.");
            foreach (var (label, value) in DiffWriters.Document(diff).Lines.Where(l => l.Label == "change"))
            {
                context.Out.MarkupLine($"  [bold]{Markup.Escape(label),-17}[/] {Markup.Escape(value)}");
            }

            return summary.Degraded ? ExitCodes.Degraded : ExitCodes.Ok;
        });
        return command;
    }
}
