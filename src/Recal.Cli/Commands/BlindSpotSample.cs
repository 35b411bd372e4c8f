using System.Globalization;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Reporting.Terminal;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal sample --from-blind-spot N</c>: drafts spread over one blind spot of <c>recal coverage</c>.</summary>
internal static class BlindSpotSample
{
    /// <summary>
    /// Measures coverage as <c>recal coverage</c> does with the same options (the project's embedder, its cache), takes
    /// blind spot <paramref name="number"/> and draws up to <paramref name="size"/> of its traces spread over it,
    /// with the policy's exclusions and near-duplicate rule. Null when it cannot (the reason is written).
    /// </summary>
    public static async Task<(SampleResult Result, string Note)?> DrawAsync(
        CliContext context, EvalProject project, IRecalStore store, CoverageRequest request, int number, int size, int seed, CancellationToken cancellationToken)
    {
        var (inner, id, error) = EmbedderOptions.Create(project.Settings.Embeddings, project.Settings.Run);
        if (inner is null)
        {
            context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)}");
            return null;
        }

        using var embedder = new CachedEmbeddingGenerator(inner, store, id!);
        CoverageOutcome outcome;
        try
        {
            outcome = await CoverageAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, embedder, id!, request, cancellationToken).ConfigureAwait(false);
        }
        catch (Recal.Running.TargetCallException e)
        {
            context.Error.MarkupLine($"[red]error[/]: the embedding endpoint failed: {Markup.Escape(e.Message)}");
            return null;
        }

        if (outcome.Report is not { BlindSpots: { } blindSpots } report)
        {
            context.Error.MarkupLine($"[red]error[/]: no coverage to find blind spots in: {Markup.Escape(outcome.Problem!)}.");
            return null;
        }

        var window = $"{report.From.UtcDateTime:yyyy-MM-dd} → {report.To.UtcDateTime:yyyy-MM-dd}";
        var count = blindSpots.Spots.Count;
        if (number < 1 || number > count)
        {
            var have = count == 0 ? "there is no blind spot" : count == 1 ? "there is 1 blind spot (#1)" : $"there are {count} blind spots (#1 to #{count})";
            context.Error.MarkupLine($"[red]error[/]: {have} in the traffic from {window} (coverage seed {request.Seed}); --from-blind-spot {number} is not one of them. [blue]recal coverage[/] lists them.");
            return null;
        }

        var spot = blindSpots.Spots[number - 1];
        context.Out.MarkupLine($"Blind spot #{number} of {count} in the traffic from {window} (embedder {Markup.Escape(id!)}, r = {report.Radius.Radius.ToString("0.000", CultureInfo.InvariantCulture)}, coverage seed {request.Seed}):");
        CoverageConsoleRenderer.RenderBlindSpot(context.Out, spot);

        // Candidates spread over the blind spot, with room for exclusions and near-duplicates to turn some down.
        var ranked = BlindSpotDraw.Rank(outcome.BlindSpots![number - 1], size + Sampler.Slack, seed);
        var wanted = ranked.ToHashSet(StringComparer.Ordinal);
        var traces = new Dictionary<string, ClassifiedTrace>(StringComparer.Ordinal);
        await store.ScanTracesAsync(report.From, report.To, trace =>
        {
            if (wanted.Contains(trace.Key))
            {
                traces[trace.Key] = trace;
            }
        }, cancellationToken).ConfigureAwait(false);

        var result = SampleCommand.NewSampler(context, project, size, seed).DrawInOrder(ranked.Select(key => traces[key]));
        context.Out.MarkupLine($"Drawn: {result.Drawn.Count:N0} of its {spot.Measured:N0} measured traces, spread over it (seed {seed}); {result.Seen:N0} offered.");
        SampleCommand.RenderExcluded(context, result);
        var terms = spot.Terms.Count == 0 ? string.Empty : "; terms " + string.Join(", ", spot.Terms.Select(t => t.Term));
        return (result, $"blind spot {number} of {count}, recal coverage {window} (coverage seed {request.Seed}){terms}");
    }
}
