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

/// <summary>Why no draw was made from a blind spot.</summary>
public enum BlindSpotDrawFailure
{
    None,

    /// <summary>The project's embedder cannot be made; the problem says why.</summary>
    NoEmbedder,

    /// <summary>The embedding endpoint failed; the problem has its message.</summary>
    EmbeddingFailed,

    /// <summary>Coverage could not be measured; the problem is the coverage's.</summary>
    NoCoverage,

    /// <summary>The window has fewer blind spots than the number asked for.</summary>
    NoSuchSpot,
}

/// <summary>
/// A draw spread over one blind spot: the coverage it was measured on, the blind spot, the sample drawn and the note
/// each draft keeps; or why there is none (<see cref="Failure"/>, <see cref="Problem"/>).
/// </summary>
public sealed record BlindSpotDrawOutcome(
    BlindSpotDrawFailure Failure,
    string? Problem,
    CoverageReport? Report = null,
    BlindSpotReport? BlindSpots = null,
    BlindSpot? Spot = null,
    SampleResult? Drawn = null,
    string? Note = null);

/// <summary>The drafts written (their file, relative to the project), or why there are none.</summary>
public sealed record BlindSpotDraftResult(int Drafted, string? File, string? Problem, BlindSpot? Spot = null);

/// <summary>
/// Drafts spread over one blind spot of the coverage report, with the policy's exclusions and near-duplicate rule:
/// <see cref="DrawAsync"/> draws them (<c>recal sample --from-blind-spot N</c> shows and writes them), <see cref="RunAsync"/>
/// draws and writes them for the dashboard's coverage view.
/// </summary>
public static class BlindSpotDraftUseCase
{
    /// <summary>
    /// Measures coverage as <c>recal coverage</c> does with <see cref="BlindSpotDraftRequest.Coverage"/> (the project's
    /// embedder, its cache), takes the blind spot and draws up to the request's size of its traces spread over it with
    /// the sampler <paramref name="newSampler"/> makes (made only once there is something to draw).
    /// </summary>
    public static async Task<BlindSpotDrawOutcome> DrawAsync(BlindSpotDraftRequest request, IRecalStore store, Func<Sampler> newSampler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(newSampler);
        var project = request.Project;
        var (inner, id, error) = request.Embedder;
        if (inner is null)
        {
            return new BlindSpotDrawOutcome(BlindSpotDrawFailure.NoEmbedder, error ?? "no embedder");
        }

        using var embedder = new CachedEmbeddingGenerator(inner, store, id!);
        CoverageOutcome outcome;
        try
        {
            outcome = await CoverageAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, embedder, id!, request.Coverage with { BlindSpots = true }, cancellationToken).ConfigureAwait(false);
        }
        catch (TargetCallException e)
        {
            return new BlindSpotDrawOutcome(BlindSpotDrawFailure.EmbeddingFailed, $"the embedding endpoint failed: {e.Message}");
        }

        if (outcome.Report is not { BlindSpots: { } blindSpots } report || outcome.BlindSpots is not { } members)
        {
            return new BlindSpotDrawOutcome(BlindSpotDrawFailure.NoCoverage, outcome.Problem);
        }

        if (request.Spot < 1 || request.Spot > blindSpots.Spots.Count)
        {
            return new BlindSpotDrawOutcome(BlindSpotDrawFailure.NoSuchSpot, $"there are {blindSpots.Spots.Count} blind spot(s) in this window; {request.Spot} is not one of them", report, blindSpots);
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

        var drawn = newSampler().DrawInOrder(ranked.Where(traces.ContainsKey).Select(key => traces[key]));
        var terms = spot.Terms.Count == 0 ? string.Empty : "; terms " + string.Join(", ", spot.Terms.Select(t => t.Term));
        var note = $"blind spot {request.Spot} of {blindSpots.Spots.Count}, recal coverage {report.From.UtcDateTime:yyyy-MM-dd} → {report.To.UtcDateTime:yyyy-MM-dd} (coverage seed {request.Coverage.Seed}){terms}";
        return new BlindSpotDrawOutcome(BlindSpotDrawFailure.None, null, report, blindSpots, spot, drawn, note);
    }

    /// <summary>A sampler over the project's policy that treats its cases and the <paramref name="waiting"/> drafts as covered: nothing is drafted twice.</summary>
    public static Sampler NewSampler(EvalProject project, IEnumerable<Draft> waiting, int? size, int seed, TraceFilter? where = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(waiting);
        var sampler = new Sampler(project.Policy, project.Cases, size, seed, where);
        foreach (var draft in waiting)
        {
            sampler.Cover(draft.Input ?? string.Join('\n', draft.Messages!.Select(m => m.Content)));
        }

        return sampler;
    }

    /// <summary>Draws from the blind spot and writes the drafts to the drafts folder for labelling.</summary>
    public static async Task<BlindSpotDraftResult> RunAsync(BlindSpotDraftRequest request, IRecalStore store, IProjectFiles files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(files);
        var project = request.Project;
        var outcome = await DrawAsync(request, store, () => NewSampler(project, LabelImportUseCase.ReadDrafts(project.Root).Drafts.Select(d => d.Draft), request.Size, request.Seed), cancellationToken).ConfigureAwait(false);
        if (outcome is not { Drawn: { } drawn, Report: { } report, Spot: { } spot })
        {
            var problem = outcome.Failure switch
            {
                BlindSpotDrawFailure.NoCoverage => $"no coverage to find blind spots in: {outcome.Problem}",
                BlindSpotDrawFailure.NoSuchSpot => $"{outcome.Problem} now (the traffic changed since the page was shown)",
                _ => outcome.Problem,
            };
            return new BlindSpotDraftResult(0, null, problem);
        }

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

        var drafts = DraftFile.FromSample(drawn, request.Pool, prefix, outcome.Note);
        DraftFile.Write(files, Path.Combine(project.Root, relative), drafts);
        return new BlindSpotDraftResult(drafts.Count, relative, null, spot);
    }
}
