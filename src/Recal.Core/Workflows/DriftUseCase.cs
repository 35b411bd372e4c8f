using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Project;
using Recal.Running;
using Recal.Storage;

namespace Recal.Workflows;

/// <summary>What <c>recal drift</c> is asked: the project, the windows, and the host's embedder for the gap timeline.</summary>
/// <param name="Embedder">The project's embedder, its cache id, or why there is none; null compares the mix alone (no coverage, online signals, runs or releases).</param>
public sealed record DriftUseCaseRequest(EvalProject Project, DriftRequest Drift, (IEmbeddingGenerator<string, Embedding<float>>? Generator, string? Id, string? Error)? Embedder);

/// <summary>
/// The drift report, or why there is none. <see cref="Fails"/> is the command's verdict: an alarm fires, except that the
/// alarms of a set of starter cases against traffic are expected, and only the online signals (about the traffic
/// alone) fail it then.
/// </summary>
public sealed record DriftOutcome(DriftReport? Report, DriftFailure Failure = DriftFailure.None, string? Error = null)
{
    /// <summary>The gold set is the starter cases recal init wrote, not a set drawn from this traffic.</summary>
    public bool StartersOnly { get; init; }

    /// <summary>An alarm on the online signals fired (thumbs-up drop, escalation rise).</summary>
    public bool OnlineAlarm => Report?.Current.Alarms.Any(a => a.Instrument is GapTimeline.ThumbsUpDrop or GapTimeline.EscalationRise) == true;

    public bool Fails => Report is { HasAlarm: true } && (!StartersOnly || OnlineAlarm);
}

/// <summary>Why a drift report could not be made.</summary>
public enum DriftFailure
{
    None,

    /// <summary>The store holds no traffic yet.</summary>
    NoTraffic,

    /// <summary>The project's embedder cannot be made (settings); <see cref="DriftOutcome.Error"/> says why.</summary>
    NoEmbedder,

    /// <summary>The embedding endpoint failed; <see cref="DriftOutcome.Error"/> has its message.</summary>
    EmbeddingFailed,
}

/// <summary>
/// The drift report as the command and the dashboard show it: the intent and cohort mix against the reference, the
/// metadata values the taxonomy does not list, gold against shadow, and (with an embedder) the gap timeline.
/// </summary>
public static class DriftUseCase
{
    public static async Task<DriftOutcome> RunAsync(DriftUseCaseRequest request, IRecalStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(store);
        var project = request.Project;

        // The mix and the timeline count the same windows: the store is read once for both.
        var cells = new TrafficCells(store);
        var drift = request.Drift with { Timeline = request.Embedder is not null };
        var report = await IntentDivergenceAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, drift, cancellationToken, cells).ConfigureAwait(false);
        if (report is null)
        {
            return new DriftOutcome(null, DriftFailure.NoTraffic, "the store holds no traffic yet");
        }

        // A cohort's missing value named by what it holds: the metadata values taxonomy.yaml does not list.
        report = report with { Current = report.Current with { UnlistedCohorts = await UnlistedCohortScan.FindAsync(project.Taxonomy, store, report.Current, cancellationToken).ConfigureAwait(false) } };
        if (await GoldShadowCheck.EvaluateAsync(store, project.Policy, cancellationToken).ConfigureAwait(false) is { } goldShadow)
        {
            report = report with { Current = report.Current with { Alarms = [.. report.Current.Alarms, goldShadow] } };
        }

        if (request.Embedder is var (inner, id, error))
        {
            if (inner is null)
            {
                return new DriftOutcome(null, DriftFailure.NoEmbedder, error);
            }

            using var cached = new CachedEmbeddingGenerator(inner, store, id!);
            try
            {
                report = await GapTimeline.ExtendAsync(report, project, store, cached, id!, cancellationToken, cells).ConfigureAwait(false);
            }
            catch (TargetCallException e)
            {
                return new DriftOutcome(null, DriftFailure.EmbeddingFailed, $"the embedding endpoint failed: {e.Message}");
            }
        }

        return new DriftOutcome(report) { StartersOnly = StarterCases.OnlyStarters(project) };
    }
}
