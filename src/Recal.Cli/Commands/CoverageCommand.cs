using System.CommandLine;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Project;
using Recal.Reporting.Json;
using Recal.Reporting.Terminal;
using Recal.Running;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal coverage</c>: how much of a traffic window has an eval case nearby (docs/embeddings.md).</summary>
internal static class CoverageCommand
{
    public static Command Create(CliContext context)
    {
        var embedder = new EmbedderOptions();
        var radius = new Option<double?>("--radius") { Description = "Cosine similarity a trace's nearest eval case must reach (default: calibrated from the eval set)", HelpName = "r" };
        var percentile = new Option<double>("--percentile")
        {
            Description = "The calibrated radius is this percentile of the cases' similarities to their nearest other case of the same intent",
            DefaultValueFactory = _ => CoverageRequest.DefaultPercentile,
            HelpName = "p",
        };
        var maxTraces = new Option<int>("--max-traces")
        {
            Description = "Measure a larger window on a stratified random sample of about this many traces",
            DefaultValueFactory = _ => CoverageRequest.DefaultMaxTraces,
            HelpName = "n",
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the sample", DefaultValueFactory = _ => 0, HelpName = "n" };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Start of the traffic window (default: the policy's traffic window before --to)", HelpName = "date" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "End of the traffic window, exclusive (default: just after the newest trace)", HelpName = "date" };
        var pools = EnumOptions.Many<Pool>("--pool", "Which pools make up the eval set (default: gold); repeat for several");
        var clusters = new Option<int?>("--clusters") { Description = "Split the uncovered traffic into this many blind spots (default: chosen by the silhouette)", HelpName = "k" };
        var noBlindSpots = new Option<bool>("--no-blind-spots") { Description = "Do not cluster the uncovered traffic" };
        var rows = RowsOption.Create("the strata table and of blind spots", 20);
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON (docs/schemas/coverage-report.schema.json)", HelpName = "file" };

        var command = new Command("coverage", "The share of a traffic window, overall and per stratum, whose nearest eval case lies within a calibrated similarity radius");
        embedder.AddTo(command);
        foreach (var option in new Option[] { radius, percentile, maxTraces, seed, from, to, pools, clusters, noBlindSpots, json, rows })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(percentile) is < 0 or > 100 || parse.GetValue(maxTraces) < 1 || parse.GetValue(clusters) is < 1)
            {
                context.Error.MarkupLine("[red]error[/]: --percentile lies between 0 and 100, and --max-traces and --clusters are at least 1.");
                return ExitCodes.CannotRun;
            }

            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            var (inner, embedderId, embedderError) = EmbedderOptions.Create(embedder.Resolve(parse, project.Settings.Embeddings), project.Settings.Run);
            if (inner is null)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(embedderError!)}");
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
            using var cached = new CachedEmbeddingGenerator(inner, store, embedderId!);
            var request = new CoverageRequest(
                parse.GetValue(from),
                parse.GetValue(to),
                parse.GetValue(pools),
                parse.GetValue(radius),
                parse.GetValue(percentile),
                parse.GetValue(maxTraces),
                parse.GetValue(seed),
                Clusters: parse.GetValue(clusters),
                BlindSpots: !parse.GetValue(noBlindSpots));
            CoverageOutcome outcome;
            try
            {
                outcome = await CoverageAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, cached, embedderId!, request, cancellationToken).ConfigureAwait(false);
            }
            catch (TargetCallException e)
            {
                context.Error.MarkupLine($"[red]error[/]: the embedding endpoint failed: {Markup.Escape(e.Message)}");
                return ExitCodes.CannotRun;
            }

            if (outcome.Report is not { } report)
            {
                var hint = outcome.Problem == "the store holds no traffic yet" ? "; run [blue]recal ingest FILE[/] first." : ".";
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(outcome.Problem!)}{hint}");
                return ExitCodes.CannotRun;
            }

            context.Error.MarkupLine($"[grey]embeddings: {cached.Computed:N0} computed, {cached.CacheHits:N0} from the store's cache[/]");
            CoverageConsoleRenderer.Render(context.Out, report, parse.GetValue(rows));
            if (parse.GetValue(json) is { } jsonFile)
            {
                await CoverageJsonWriter.WriteAsync(report, jsonFile.FullName, cancellationToken).ConfigureAwait(false);
                context.Out.MarkupLine($"JSON report: {Markup.Escape(jsonFile.FullName)}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
