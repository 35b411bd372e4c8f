using System.CommandLine;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Drift;
using Recal.Project;
using Recal.Reporting.Html;
using Recal.Reporting.Json;
using Recal.Reporting.Terminal;
using Recal.Storage;
using Recal.Workflows;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal drift</c>: compares the eval set's intent and cohort mix with traffic.</summary>
internal static class DriftCommand
{
    public static Command Create(CliContext context)
    {
        var over = new Option<string?>("--over")
        {
            Description = "Also compare the set with each period of traffic: daily, weekly or monthly",
            HelpName = "period",
        };
        over.AcceptOnlyFromAmong("daily", "weekly", "monthly");
        var from = new Option<DateTimeOffset?>("--from") { Description = "Start of the traffic window (default: the policy's traffic window before --to)", HelpName = "date" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "End of the traffic window, exclusive (default: just after the newest trace)", HelpName = "date" };
        var pools = EnumOptions.Many<Pool>("--pool", "Which pools make up the eval set (default: gold); repeat for several");
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON (docs/schemas/drift-report.schema.json)", HelpName = "file" };
        var html = new Option<FileInfo?>("--html") { Description = "Also write the report as one self-contained HTML page with charts", HelpName = "file" };
        var intentOnly = new Option<bool>("--intent-only") { Description = "Compare the intent and cohort mix only: no embedding coverage, online signals, runs or releases" };
        var embedder = new EmbedderOptions();

        var command = new Command("drift", "Compare the eval set with traffic over time: intent and cohort mix, embedding coverage, online signals, the runs' pool gaps and releases; exit code 1 when an alarm fires");
        embedder.AddTo(command);
        foreach (var option in new Option[] { over, from, to, pools, json, html, intentOnly })
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

            var period = Period.None;
            if (parse.GetValue(over) is { } overText)
            {
                PeriodMath.TryParse(overText, out period);
            }

            await using var store = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
            var embedderFor = parse.GetValue(intentOnly) ? ((IEmbeddingGenerator<string, Embedding<float>>?, string?, string?)?)null : EmbedderOptions.Create(embedder.Resolve(parse, project.Settings.Embeddings), project.Settings.Run);
            var request = new DriftUseCaseRequest(project, new DriftRequest(parse.GetValue(from), parse.GetValue(to), period, parse.GetValue(pools)), embedderFor);
            var outcome = await DriftUseCase.RunAsync(request, store, cancellationToken).ConfigureAwait(false);
            if (outcome.Report is not { } report)
            {
                context.Error.MarkupLine(outcome.Failure == DriftFailure.NoTraffic
                    ? "[red]error[/]: the store holds no traffic yet; run [blue]recal ingest FILE[/] first."
                    : $"[red]error[/]: {Markup.Escape(outcome.Error!)} (or compare the mix alone with --intent-only)");
                return ExitCodes.CannotRun;
            }

            DriftConsoleRenderer.Render(context.Out, report);
            if (parse.GetValue(json) is { } jsonFile)
            {
                await DriftJsonWriter.WriteAsync(report, jsonFile.FullName, cancellationToken).ConfigureAwait(false);
                context.Out.MarkupLine($"JSON report: {Markup.Escape(jsonFile.FullName)}");
            }

            if (parse.GetValue(html) is { } htmlFile)
            {
                await DriftHtmlWriter.WriteAsync(report, htmlFile.FullName, cancellationToken).ConfigureAwait(false);
                context.Out.MarkupLine($"HTML report: {Markup.Escape(htmlFile.FullName)}");
            }

            if (report.HasAlarm && outcome.StartersOnly)
            {
                // A set nobody drew from this traffic is expected to differ from it: say what to do, and fail only on
                // what users did, which no set explains.
                var online = outcome.OnlineAlarm;
                context.Out.WriteLine();
                TerminalText.WriteHanging(context.Out, $"The gold set is the {StarterCases.InGold(project)} starter case(s) recal init wrote, not a set drawn from this traffic, so its alarms against traffic are expected" +
                    (online ? "; the online signals' alarm is about your traffic alone (exit code 1)." : " and do not fail the command (exit code 0).") + " What next:", 0);
                var steps = StarterCases.FirstDraw.Split("; ").Append("recal drift again: the alarms then compare your own set with your traffic").ToList();
                for (var i = 0; i < steps.Count; i++)
                {
                    TerminalText.WriteHanging(context.Out, $"  {i + 1}. {steps[i]}", 5);
                }

            }

            return outcome.Fails ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

}
