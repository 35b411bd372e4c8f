using System.CommandLine;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Project;
using Recal.Reporting.Html;
using Recal.Reporting.Json;
using Recal.Reporting.Terminal;
using Recal.Running;
using Recal.Storage;
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
            var request = new DriftRequest(parse.GetValue(from), parse.GetValue(to), period, parse.GetValue(pools), Timeline: !parse.GetValue(intentOnly));
            // The mix and the timeline count the same windows: the store is read once for both.
            var cells = new TrafficCells(store);
            var report = await IntentDivergenceAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, request, cancellationToken, cells).ConfigureAwait(false);
            if (report is null)
            {
                context.Error.MarkupLine("[red]error[/]: the store holds no traffic yet; run [blue]recal ingest FILE[/] first.");
                return ExitCodes.CannotRun;
            }

            // A cohort's missing value named by what it holds: the metadata values taxonomy.yaml does not list.
            report = report with { Current = report.Current with { UnlistedCohorts = await UnlistedCohortScan.FindAsync(project.Taxonomy, store, report.Current, cancellationToken).ConfigureAwait(false) } };
            if (await GoldShadowCheck.EvaluateAsync(store, project.Policy, cancellationToken).ConfigureAwait(false) is { } goldShadow)
            {
                report = report with { Current = report.Current with { Alarms = [.. report.Current.Alarms, goldShadow] } };
            }

            if (!parse.GetValue(intentOnly))
            {
                var (inner, id, error) = EmbedderOptions.Create(embedder.Resolve(parse, project.Settings.Embeddings), project.Settings.Run);
                if (inner is null)
                {
                    context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)} (or compare the mix alone with --intent-only)");
                    return ExitCodes.CannotRun;
                }

                using var cached = new CachedEmbeddingGenerator(inner, store, id!);
                try
                {
                    report = await GapTimeline.ExtendAsync(report, project, store, cached, id!, cancellationToken, cells).ConfigureAwait(false);
                }
                catch (TargetCallException e)
                {
                    context.Error.MarkupLine($"[red]error[/]: the embedding endpoint failed: {Markup.Escape(e.Message)} (or compare the mix alone with --intent-only)");
                    return ExitCodes.CannotRun;
                }
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

            if (report.HasAlarm && StarterCases.OnlyStarters(project))
            {
                // A set nobody drew from this traffic is expected to differ from it: say what to do, and fail only on
                // what users did, which no set explains.
                var online = report.Current.Alarms.Any(a => a.Instrument is GapTimeline.ThumbsUpDrop or GapTimeline.EscalationRise);
                context.Out.WriteLine();
                TerminalText.WriteHanging(context.Out, $"The gold set is the {StarterCases.InGold(project)} starter case(s) recal init wrote, not a set drawn from this traffic, so its alarms against traffic are expected" +
                    (online ? "; the online signals' alarm is about your traffic alone (exit code 1)." : " and do not fail the command (exit code 0).") + " What next:", 0);
                var steps = StarterCases.FirstDraw.Split("; ").Append("recal drift again: the alarms then compare your own set with your traffic").ToList();
                for (var i = 0; i < steps.Count; i++)
                {
                    TerminalText.WriteHanging(context.Out, $"  {i + 1}. {steps[i]}", 5);
                }

                return online ? ExitCodes.Findings : ExitCodes.Ok;
            }

            return report.HasAlarm ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

}
