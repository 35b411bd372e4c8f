using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Storage;

namespace Recal.Lifecycle;

/// <summary>
/// Which gold cases no recent traffic comes near: each case's highest cosine similarity to any trace of the given
/// cycles, against the coverage radius calibrated on the gold set (docs/lifecycle.md#retirement-by-neighbourhood).
/// </summary>
/// <param name="Radius">The coverage radius, as <c>recal coverage</c> calibrates it.</param>
/// <param name="Unmatched">Gold cases whose nearest trace stays below the radius, with that similarity.</param>
public sealed record NeighbourhoodResult(double Radius, long Traces, IReadOnlyDictionary<string, double> Unmatched)
{
    /// <summary>
    /// Measures every gold case against the distinct texts of the traffic between the first cycle's start and the
    /// last cycle's end: no trace in any cycle within the radius is the same as the nearest of them all below it.
    /// Null without traffic in the cycles, or when the gold set spans fewer than two intents (no radius).
    /// </summary>
    /// <exception cref="InvalidOperationException">The embedder returned vectors of unequal or zero length.</exception>
    public static async ValueTask<NeighbourhoodResult?> MeasureAsync(
        EvalProject project,
        IRecalStore store,
        CycleTraffic cycles,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(cycles);
        ArgumentNullException.ThrowIfNull(embedder);
        var gold = project.Cases.Where(c => c.Pool == Pool.Gold).ToList();
        if (gold.Count == 0 || cycles.Cycles.Count == 0)
        {
            return null;
        }

        var texts = new HashSet<string>(StringComparer.Ordinal);
        long traces = 0;
        await store.ScanTracesAsync(cycles.Cycles[0].From, cycles.Cycles[^1].To, trace =>
        {
            traces++;
            texts.Add(trace.Trace.Input.ClassificationText);
        }, cancellationToken).ConfigureAwait(false);
        if (texts.Count == 0)
        {
            return null;
        }

        var caseTexts = gold.Select(c => c.Input.ClassificationText).ToList();
        var trafficTexts = texts.Order(StringComparer.Ordinal).ToList();
        var (embedded, problem) = await EmbeddedTexts.EmbedAsync(caseTexts.Concat(trafficTexts), embedder, "the project's embedder", cancellationToken).ConfigureAwait(false);
        if (embedded is null)
        {
            throw new InvalidOperationException(problem);
        }

        var dimensions = embedded.Dimensions;
        var caseVectors = embedded.Matrix(caseTexts);
        if (CoverageAnalyzer.Calibrate(gold, caseVectors, dimensions, CoverageRequest.DefaultPercentile) is not { } radius)
        {
            return null;
        }

        // The traffic is the index and the cases the queries: each case's nearest trace.
        var (_, similarity) = new NearestNeighbourIndex(embedded.Matrix(trafficTexts), dimensions).Search(caseVectors);
        var unmatched = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var i = 0; i < gold.Count; i++)
        {
            if (similarity[i] < radius.Radius)
            {
                unmatched[gold[i].Id] = Math.Clamp(similarity[i], -1, 1);
            }
        }

        return new NeighbourhoodResult(radius.Radius, traces, unmatched);
    }
}
