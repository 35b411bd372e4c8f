using System.Globalization;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Running;
using Recal.Storage;

namespace Recal.Workflows;

/// <summary>What "draft cases from this cluster" is asked: the coverage measured as it was shown, the blind spot, and how many drafts.</summary>
/// <param name="Spot">The blind spot's number in the coverage report (1-based).</param>
public sealed record BlindSpotDraftRequest(
    EvalProject Project,
    CoverageRequest Coverage,
    int Spot,
    (IEmbeddingGenerator<string, Embedding<float>>? Generator, string? Id, string? Error) Embedder,
    int Size = BlindSpotDraftRequest.DefaultSize,
    int Seed = 0,
    Pool Pool = Pool.Shadow)
{
    /// <summary>Drafts drawn from a blind spot unless told otherwise (as <c>recal sample --from-blind-spot</c>).</summary>
    public const int DefaultSize = 20;
}

/// <summary>The drafts written (their file, relative to the project), or why there are none.</summary>
public sealed record BlindSpotDraftResult(int Drafted, string? File, string? Problem, BlindSpot? Spot = null);

/// <summary>
/// Drafts spread over one blind spot of the coverage report, with the policy's exclusions and near-duplicate rule, written
/// to the drafts folder for labelling: what <c>recal sample --from-blind-spot N</c> does, for the dashboard's coverage view.
/// </summary>
public static class BlindSpotDraftUseCase
{
    public static async Task<BlindSpotDraftResult> RunAsync(BlindSpotDraftRequest request, IRecalStore store, IProjectFiles files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(files);
        var project = request.Project;
        var (inner, id, error) = request.Embedder;
        if (inner is null)
        {
            return new BlindSpotDraftResult(0, null, error ?? "no embedder");
        }

        using var embedder = new CachedEmbeddingGenerator(inner, store, id!);
        CoverageOutcome outcome;
        try
        {
            outcome = await CoverageAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, embedder, id!, request.Coverage with { BlindSpots = true }, cancellationToken).ConfigureAwait(false);
        }
        catch (TargetCallException e)
        {
            return new BlindSpotDraftResult(0, null, $"the embedding endpoint failed: {e.Message}");
        }

        if (outcome.Report is not { BlindSpots: { } blindSpots } report || outcome.BlindSpots is not { } members)
        {
            return new BlindSpotDraftResult(0, null, $"no coverage to find blind spots in: {outcome.Problem}");
        }

        if (request.Spot < 1 || request.Spot > blindSpots.Spots.Count)
        {
            return new BlindSpotDraftResult(0, null, $"there are {blindSpots.Spots.Count} blind spot(s) in this window now; {request.Spot} is not one of them (the traffic changed since the page was shown)");
        }

        // Candidates spread over the blind spot, with room for exclusions and near-duplicates to turn some down.
        var spot = blindSpots.Spots[request.Spot - 1];
        var ranked = BlindSpotDraw.Rank(members[request.Spot - 1], request.Size + Sampler.Slack, request.Seed);
        var wanted = ranked.ToHashSet(StringComparer.Ordinal);
        var traces = new Dictionary<string, ClassifiedTrace>(StringComparer.Ordinal);
        await store.ScanTracesAsync(report.From, report.To, trace =>
        {
            if (wanted.Contains(trace.Key))
            {
                traces[trace.Key] = trace;
            }
        }, cancellationToken).ConfigureAwait(false);

        // The project's cases and the drafts already waiting count as covered: nothing is drafted twice.
        var sampler = new Sampler(project.Policy, project.Cases, request.Size, request.Seed);
        foreach (var waiting in LabelImportUseCase.ReadDrafts(project.Root).Drafts)
        {
            sampler.Cover(Labelling.InputText(waiting.Draft));
        }

        var drawn = sampler.DrawInOrder(ranked.Where(traces.ContainsKey).Select(key => traces[key]));
        if (drawn.Drawn.Count == 0)
        {
            return new BlindSpotDraftResult(0, null, "every trace of the blind spot is excluded by the policy or already a case or a draft", spot);
        }

        var prefix = string.Create(CultureInfo.InvariantCulture, $"blind-spot-{request.Spot}-{report.To.UtcDateTime:yyyyMMdd}-s{request.Seed}");
        var relative = Path.Combine(DraftFile.Folder, prefix + ".jsonl");
        if (File.Exists(Path.Combine(project.Root, relative)))
        {
            return new BlindSpotDraftResult(0, null, $"{relative} exists: this blind spot was already drafted with seed {request.Seed}; label those drafts first", spot);
        }

        var terms = spot.Terms.Count == 0 ? string.Empty : "; terms " + string.Join(", ", spot.Terms.Select(t => t.Term));
        var note = $"blind spot {request.Spot} of {blindSpots.Spots.Count}, coverage {report.From.UtcDateTime:yyyy-MM-dd} → {report.To.UtcDateTime:yyyy-MM-dd} (coverage seed {request.Coverage.Seed}){terms}";
        var drafts = DraftFile.FromSample(drawn, request.Pool, prefix, note);
        DraftFile.Write(files, Path.Combine(project.Root, relative), drafts);
        return new BlindSpotDraftResult(drafts.Count, relative, null, spot);
    }
}
