using System.Globalization;
using Recal.Domain;
using Recal.Drift;
using Recal.Lifecycle;
using Recal.Reporting.Terminal;
using Recal.Storage;
using Recal.Workflows;
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
        var embedder = EmbedderOptions.Create(project.Settings.Embeddings, project.Settings.Run);
        var outcome = await BlindSpotDraftUseCase.DrawAsync(
            new BlindSpotDraftRequest(project, request, number, embedder, size, seed), store, () => SampleCommand.NewSampler(context, project, size, seed), cancellationToken).ConfigureAwait(false);
        if (outcome is { Failure: BlindSpotDrawFailure.NoSuchSpot, Report: { } shown, BlindSpots: { } listed })
        {
            var window = $"{shown.From.UtcDateTime:yyyy-MM-dd} → {shown.To.UtcDateTime:yyyy-MM-dd}";
            var count = listed.Spots.Count;
            var have = count == 0 ? "there is no blind spot" : count == 1 ? "there is 1 blind spot (#1)" : $"there are {count} blind spots (#1 to #{count})";
            context.Error.MarkupLine($"[red]error[/]: {have} in the traffic from {window} (coverage seed {request.Seed}); --from-blind-spot {number} is not one of them. [blue]recal coverage[/] lists them.");
            return null;
        }

        if (outcome is not { Drawn: { } result, Report: { } report, BlindSpots: { } blindSpots, Spot: { } spot, Note: { } note })
        {
            context.Error.MarkupLine(outcome.Failure == BlindSpotDrawFailure.NoCoverage
                ? $"[red]error[/]: no coverage to find blind spots in: {Markup.Escape(outcome.Problem!)}."
                : $"[red]error[/]: {Markup.Escape(outcome.Problem!)}");
            return null;
        }

        // Shown after the draw, as before it: the blind spot, then what was drawn from it.
        context.Out.MarkupLine($"Blind spot #{number} of {blindSpots.Spots.Count} in the traffic from {report.From.UtcDateTime:yyyy-MM-dd} → {report.To.UtcDateTime:yyyy-MM-dd} (embedder {Markup.Escape(embedder.Id!)}, r = {report.Radius.Radius.ToString("0.000", CultureInfo.InvariantCulture)}, coverage seed {request.Seed}):");
        CoverageConsoleRenderer.RenderBlindSpot(context.Out, spot);
        context.Out.MarkupLine($"Drawn: {result.Drawn.Count:N0} of its {spot.Measured:N0} measured traces, spread over it (seed {seed}); {result.Seen:N0} offered.");
        SampleCommand.RenderExcluded(context, result);
        return (result, note);
    }
}
