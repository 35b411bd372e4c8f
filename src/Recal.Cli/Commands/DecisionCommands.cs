using System.CommandLine;
using Recal.Decisions;
using Recal.Domain;
using Recal.Reporting.Decisions;
using Recal.Running;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal diff</c> and <c>recal gate</c>: two runs compared case by case, and the upgrade decision (docs/gates.md).</summary>
internal static class DecisionCommands
{
    public static Command Diff(CliContext context)
    {
        var baseline = new Argument<string>("baseline") { Description = "The baseline run id, or a target name (its newest finished run)" };
        var candidate = new Argument<string>("candidate") { Description = "The candidate run id, or a target name" };
        var full = new Option<bool>("--full") { Description = "Show every row in the terminal" };
        var (json, markdown, html) = Outputs("diff", "run-diff");
        var command = new Command("diff", "Compare two runs case by case: flips with both outputs and the evidence, the paired change with McNemar's exact p and Newcombe's interval, per segment, judge dimensions, and where the bench is blind");
        command.Arguments.Add(baseline);
        command.Arguments.Add(candidate);
        foreach (var option in new Option[] { full, json, markdown, html })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = await LoadAsync(context, parse, parse.GetValue(baseline)!, parse.GetValue(candidate)!, cancellationToken).ConfigureAwait(false);
            if (loaded is not { } l)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = l.Store;
            var signals = await RunReportBuilder.SignalsAsync(l.Project.Policy, store, cancellationToken).ConfigureAwait(false);
            var diff = RunDiffBuilder.Build(l.Baseline, l.BaselineResults, l.Candidate, l.CandidateResults, l.Project.Policy, l.Project.Cases.ToDictionary(c => c.Id, StringComparer.Ordinal), signals);
            DiffWriters.Document(diff).Render(context.Out, parse.GetValue(full));
            WarnIfUnfinished(context, l.Baseline, l.Candidate);
            await WriteAsync(context, parse, json, markdown, html, () => DiffWriters.ToJson(diff), () => DiffWriters.ToMarkdown(diff), () => DiffWriters.ToHtml(diff), cancellationToken).ConfigureAwait(false);
            return diff.Match.Paired == 0 ? ExitCodes.CannotRun : ExitCodes.Ok;
        });
        return command;
    }

    public static Command Gate(CliContext context)
    {
        var baseline = new Option<string>("--baseline", "-b") { Description = "The baseline run id, or a target name (its newest finished run)", Required = true };
        var candidate = new Option<string>("--candidate", "-c") { Description = "The candidate run id, or a target name", Required = true };
        var explain = new Option<bool>("--explain") { Description = "Print each gate's rule and why its evidence gave the verdict, and every gold segment" };
        var junit = new Option<FileInfo?>("--junit") { Description = "Also write JUnit XML: one test case per gate and per failing or unknown segment", HelpName = "file" };
        var oldProject = new Option<DirectoryInfo?>("--old-project") { Description = "The project at the old suite version, with its own runs: the Markdown adds the eval-change table of recal compare-suites", HelpName = "dir" };
        var (json, markdown, html) = Outputs("gate decision", "gate-report");
        var command = new Command("gate", "Decide an upgrade by the policy's gates (assertions, gold segments, holdout, shadow, online signals): pass, fail or unknown with the evidence; exit code 1 unless every gate passes");
        foreach (var option in new Option[] { baseline, candidate, explain, json, markdown, html, junit, oldProject })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var loaded = await LoadAsync(context, parse, parse.GetValue(baseline)!, parse.GetValue(candidate)!, cancellationToken).ConfigureAwait(false);
            if (loaded is not { } l)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = l.Store;
            var report = await GateEvaluator.EvaluateAsync(l.Project, l.Baseline, l.BaselineResults, l.Candidate, l.CandidateResults, store, DateTimeOffset.UtcNow, cancellationToken).ConfigureAwait(false);
            var explained = parse.GetValue(explain);
            GateWriters.Document(report, explained).Render(context.Out, explained);
            WarnIfUnfinished(context, l.Baseline, l.Candidate);
            string? suiteChange = null;
            if (parse.GetValue(oldProject) is { } oldFolder && ProjectSession.Load(context, oldFolder) is { } old)
            {
                var (table, missing) = await CompareSuitesCommand.TableAsync(context, l.Project, old, l.Baseline.Target, l.Candidate.Target, cancellationToken).ConfigureAwait(false);
                suiteChange = table;
                foreach (var line in missing)
                {
                    context.Error.MarkupLine($"[yellow]warning[/]: the eval-change table needs a finished run for each target on both suites; missing: {Markup.Escape(line)}");
                }
            }

            // The diff goes into the Markdown only, so it is built only when that is written.
            string Markdown() => GateWriters.ToMarkdown(report, explained, diff: RunDiffBuilder.Build(l.Baseline, l.BaselineResults, l.Candidate, l.CandidateResults, l.Project.Policy, l.Project.Cases.ToDictionary(c => c.Id, StringComparer.Ordinal)), suiteChange: suiteChange);
            await WriteAsync(context, parse, json, markdown, html, () => GateWriters.ToJson(report), Markdown, () => GateWriters.ToHtml(report, explained), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(junit) is { } file)
            {
                await Reporting.AtomicFile.WriteAllTextAsync(file.FullName, GateWriters.ToJunit(report), cancellationToken).ConfigureAwait(false);
                context.Out.MarkupLine($"junit: {Markup.Escape(file.FullName)}");
            }

            if (string.Equals(Environment.GetEnvironmentVariable("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase))
            {
                // Workflow commands go to standard output, where the runner reads them.
                context.Out.Profile.Out.Writer.Write(GateWriters.ToGitHubAnnotations(report));
                context.Out.Profile.Out.Writer.Flush();
            }

            context.Out.MarkupLine(report.Passed ? $"[green]{Markup.Escape(GateWriters.Verdict(report))}[/]" : $"[red]{Markup.Escape(GateWriters.Verdict(report))}[/]");
            return report.Passed ? ExitCodes.Ok : ExitCodes.Findings;
        });
        return command;
    }

    private static (Option<FileInfo?> Json, Option<FileInfo?> Markdown, Option<FileInfo?> Html) Outputs(string what, string schema) =>
        (new Option<FileInfo?>("--json") { Description = $"Also write the {what} as JSON (docs/schemas/{schema}.schema.json)", HelpName = "file" },
         new Option<FileInfo?>("--markdown") { Description = $"Also write the {what} as Markdown (a pull-request comment, $GITHUB_STEP_SUMMARY)", HelpName = "file" },
         new Option<FileInfo?>("--html") { Description = $"Also write the {what} as one self-contained HTML page", HelpName = "file" });

    private static async Task WriteAsync(CliContext context, ParseResult parse, Option<FileInfo?> json, Option<FileInfo?> markdown, Option<FileInfo?>? html, Func<string> toJson, Func<string> toMarkdown, Func<string>? toHtml, CancellationToken cancellationToken)
    {
        var outputs = new List<(Option<FileInfo?>, Func<string>)> { (json, toJson), (markdown, toMarkdown) };
        if (html is not null && toHtml is not null)
        {
            outputs.Add((html, toHtml));
        }

        foreach (var (option, render) in outputs)
        {
            if (parse.GetValue(option) is { } file)
            {
                // $GITHUB_STEP_SUMMARY collects several steps' Markdown: append to it rather than replace it.
                if (option == markdown && string.Equals(file.FullName, Environment.GetEnvironmentVariable("GITHUB_STEP_SUMMARY") is { Length: > 0 } summary ? Path.GetFullPath(summary) : null, StringComparison.Ordinal))
                {
                    await File.AppendAllTextAsync(file.FullName, render() + "\n", cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await Reporting.AtomicFile.WriteAllTextAsync(file.FullName, render(), cancellationToken).ConfigureAwait(false);
                }

                context.Out.MarkupLine($"{option.Name[2..]}: {Markup.Escape(file.FullName)}");
            }
        }
    }

    private static void WarnIfUnfinished(CliContext context, params RunInfo[] runs)
    {
        foreach (var run in runs.Where(r => r.Status is RunStatus.Running or RunStatus.Interrupted))
        {
            context.Error.MarkupLine($"[yellow]warning[/]: run {Markup.Escape(run.Id)} is unfinished; only its stored cases are compared ([blue]recal run --resume {Markup.Escape(run.Id)}[/] finishes it).");
        }

        foreach (var run in runs.Where(r => r.Status is RunStatus.Cancelled))
        {
            context.Error.MarkupLine($"[yellow]warning[/]: run {Markup.Escape(run.Id)} was cancelled (a partial run); only its stored cases are compared.");
        }
    }

    private sealed record Loaded(EvalProject Project, IRecalStore Store, RunInfo Baseline, IReadOnlyList<RunCaseRecord> BaselineResults, RunInfo Candidate, IReadOnlyList<RunCaseRecord> CandidateResults);

    private static async Task<Loaded?> LoadAsync(CliContext context, ParseResult parse, string baselineName, string candidateName, CancellationToken cancellationToken)
    {
        var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
        if (project is null)
        {
            return null;
        }

        var store = await ProjectSession.OpenStoreForReadingAsync(context, project, cancellationToken).ConfigureAwait(false);
        var targets = project.Settings.Targets.Select(t => t.Name).ToList();
        var (baseline, baselineError) = await RunSelector.FindAsync(store, baselineName, targets, cancellationToken).ConfigureAwait(false);
        var (candidate, candidateError) = await RunSelector.FindAsync(store, candidateName, targets, cancellationToken).ConfigureAwait(false);
        if (baseline is null || candidate is null)
        {
            foreach (var (role, error) in new[] { ("baseline", baselineError), ("candidate", candidateError) }.Where(e => e.Item2 is not null))
            {
                context.Error.MarkupLine($"[red]error[/]: {role}: {Markup.Escape(error!)}");
            }

            await store.DisposeAsync().ConfigureAwait(false);
            return null;
        }

        if (baseline.Id == candidate.Id)
        {
            context.Error.MarkupLine($"[red]error[/]: the baseline and the candidate are the same run ({Markup.Escape(baseline.Id)}); name two runs or two targets.");
            await store.DisposeAsync().ConfigureAwait(false);
            return null;
        }

        return new Loaded(project, store, baseline, await store.GetRunCasesAsync(baseline.Id, cancellationToken).ConfigureAwait(false), candidate, await store.GetRunCasesAsync(candidate.Id, cancellationToken).ConfigureAwait(false));
    }
}
