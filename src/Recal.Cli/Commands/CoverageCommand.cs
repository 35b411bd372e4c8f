using System.CommandLine;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Project;
using Recal.Providers.OpenAI;
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
        var embedder = new Option<string>("--embedder")
        {
            Description = "Which embedder: builtin (hashed n-grams, no model) or openai (an OpenAI-compatible /v1/embeddings endpoint)",
            DefaultValueFactory = _ => "builtin",
            HelpName = "name",
        };
        embedder.AcceptOnlyFromAmong("builtin", "openai");
        var url = new Option<string?>("--embedding-url") { Description = "--embedder openai: the API root, e.g. http://127.0.0.1:8000/v1", HelpName = "url" };
        var model = new Option<string?>("--embedding-model") { Description = "--embedder openai: the embedding model", HelpName = "model" };
        var keyVariable = new Option<string?>("--embedding-key-env") { Description = "--embedder openai: the environment variable holding the API key", HelpName = "variable" };
        var dimensions = new Option<int?>("--embedding-dimensions") { Description = "--embedder openai: ask the model for this many dimensions", HelpName = "n" };
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
        var pools = new Option<Pool[]>("--pool")
        {
            Description = "Which pools make up the eval set (default: gold); repeat for several",
            AllowMultipleArgumentsPerToken = true,
        };
        var clusters = new Option<int?>("--clusters") { Description = "Split the uncovered traffic into this many blind spots (default: chosen by the silhouette)", HelpName = "k" };
        var noBlindSpots = new Option<bool>("--no-blind-spots") { Description = "Do not cluster the uncovered traffic" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the report as JSON (docs/schemas/coverage-report.schema.json)", HelpName = "file" };

        var command = new Command("coverage", "The share of a traffic window, overall and per stratum, whose nearest eval case lies within a calibrated similarity radius");
        foreach (var option in new Option[] { embedder, url, model, keyVariable, dimensions, radius, percentile, maxTraces, seed, from, to, pools, clusters, noBlindSpots, json })
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(embedder) == "openai" && (string.IsNullOrEmpty(result.GetValue(url)) || string.IsNullOrEmpty(result.GetValue(model))))
            {
                result.AddError("--embedder openai needs --embedding-url and --embedding-model");
            }
        });

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

            IEmbeddingGenerator<string, Embedding<float>> inner;
            string embedderId;
            if (parse.GetValue(embedder) == "openai")
            {
                if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
                {
                    context.Error.MarkupLine($"[red]error[/]: --embedding-url {Markup.Escape(parse.GetValue(url)!)} is not an http(s) URL.");
                    return ExitCodes.CannotRun;
                }

                var settings = new OpenAICompatibleSettings(baseUrl, parse.GetValue(model)!, parse.GetValue(keyVariable));
                var (client, error) = OpenAICompatibleEmbeddingGenerator.Create(settings, parse.GetValue(dimensions), timeout: project.Settings.Run.EffectiveTimeout);
                if (client is null)
                {
                    context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)}");
                    return ExitCodes.CannotRun;
                }

                inner = new RetryingEmbeddingGenerator(client, RetryPolicy.Create(new RetrySettings(project.Settings.Run.Retries)));
                embedderId = client.Id;
            }
            else
            {
                var builtin = new HashedEmbeddingGenerator();
                inner = builtin;
                embedderId = builtin.Id;
            }

            await using var store = await ProjectSession.OpenStoreAsync(project, cancellationToken).ConfigureAwait(false);
            using var cached = new CachedEmbeddingGenerator(inner, store, embedderId);
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
                outcome = await CoverageAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, cached, embedderId, request, cancellationToken).ConfigureAwait(false);
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
            CoverageConsoleRenderer.Render(context.Out, report);
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
