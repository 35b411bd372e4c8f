using System.CommandLine;
using Recal.Gates;
using Recal.Running;
using Recal.Workflows;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary>
/// <c>recal check</c>: runs every instrument that has the data it needs and says in a few lines what is healthy,
/// what is drifting and what to do next; exit code 1 when anything drifts (docs/cli.md). The findings are
/// <see cref="CheckUseCase"/>'s; this renders them.
/// </summary>
internal static class CheckCommand
{
    public static Command Create(CliContext context)
    {
        var command = new Command("check", "Run every instrument and say what is healthy, what is drifting and what to do next; exit code 1 when anything drifts");
        command.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
            var request = new CheckRequest(project, DateTimeOffset.UtcNow, EmbedderOptions.Create(project.Settings.Embeddings, project.Settings.Run));
            var result = await CheckUseCase.RunAsync(request, store, cancellationToken).ConfigureAwait(false);
            Render(context, result.Findings, result.Run);
            return result.Drifting ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

    private static void Render(CliContext context, IReadOnlyList<Finding> findings, RunInfo? run)
    {
        context.Out.MarkupLine(run is null ? "recal check" : $"recal check — newest run {Markup.Escape(run.Id)} (target {Markup.Escape(run.Target)}, suite {run.SuiteVersion})");
        foreach (var finding in findings)
        {
            var mark = finding.Verdict switch
            {
                Verdict.Healthy => "[green]healthy [/]",
                Verdict.Drifting => "[red]drifting[/]",
                _ => "[grey]unknown [/]",
            };
            // Wrapped between words under the text's own column, so a number or a name is never cut at the edge.
            var width = Math.Max(60, context.Out.Profile.Width - 1);
            var what = Reporting.Terminal.TerminalText.Wrap(new string(' ', 31) + finding.Evidence, width, 31);
            context.Out.MarkupLine($"  {mark}  [bold]{Markup.Escape(finding.Instrument),-18}[/] {Markup.Escape(what[0].TrimStart())}");
            foreach (var line in what.Skip(1))
            {
                context.Out.MarkupLine(Markup.Escape(line));
            }

            if (finding.Next is not null && finding.Verdict != Verdict.Healthy)
            {
                var next = Reporting.Terminal.TerminalText.Wrap(new string(' ', 37) + finding.Next, width, 37);
                context.Out.MarkupLine($"            {new string(' ', 18)} [grey]next:[/] [blue]{Markup.Escape(next[0].TrimStart())}[/]");
                foreach (var line in next.Skip(1))
                {
                    context.Out.MarkupLine($"[blue]{Markup.Escape(line)}[/]");
                }
            }
        }

        var drifting = findings.Count(f => f.Verdict == Verdict.Drifting);
        var unknown = findings.Where(f => f.Verdict == Verdict.Unknown).ToList();
        if (drifting > 0)
        {
            context.Out.MarkupLine($"[red]{drifting} instrument(s) drifting.[/] The score is not to be read without the gaps above.");
        }
        else if (unknown.Count == 0)
        {
            context.Out.MarkupLine("[green]The instrument is calibrated.[/]");
        }
        else
        {
            // Nothing drifts, but not everything is measured: not "all is well".
            context.Out.MarkupLine($"No instrument drifts; {unknown.Count} instrument(s) have nothing to measure yet.");
        }

        // What the unmeasured instruments need, in order: a new project's first run ends with its next steps.
        var steps = unknown.Where(f => f.Next is not null).SelectMany(f => f.Next!.Split("; ", StringSplitOptions.RemoveEmptyEntries)).Distinct(StringComparer.Ordinal).ToList();
        if (steps.Count > 0)
        {
            context.Out.MarkupLine("What next:");
            for (var i = 0; i < steps.Count; i++)
            {
                Reporting.Terminal.TerminalText.WriteHanging(context.Out, $"  {i + 1}. {steps[i]}", 5);
            }
        }
    }
}
