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
        var suiteVersion = ProjectHasher.SuiteVersion(project);

        // The mix and the timeline count the same windows: the store is read once for both.
        var cells = new TrafficCells(store);
        var drift = request.Drift with { Timeline = request.Embedder is not null };
        var counted = await IntentDivergenceAnalyzer.CountAsync(project, suiteVersion, store, drift, cancellationToken, cells).ConfigureAwait(false);
        if (counted is null)
        {
            return new DriftOutcome(null, DriftFailure.NoTraffic, "the store holds no traffic yet");
        }

        if (request.Embedder is not var (inner, id, error))
        {
            return new DriftOutcome(await CompleteAsync(counted.Compare(cancellationToken)).ConfigureAwait(false)) { StartersOnly = StarterCases.OnlyStarters(project) };
        }

        if (inner is null)
        {
            return new DriftOutcome(null, DriftFailure.NoEmbedder, error);
        }

        using var cached = new CachedEmbeddingGenerator(inner, store, id!);
        try
        {
            // Once counted, the windows are known: their coverage (the store and the embedder) is measured while the mix's
            // calibrated comparisons, which are CPU alone and read no store, run beside it.
            var measuring = Task.Run(() => GapTimeline.MeasureCoverageAsync(project, suiteVersion, counted.Pools, store, cached, id!, counted.Windows, cancellationToken, cells).AsTask(), cancellationToken);
            DriftReport compared;
            try
            {
                compared = counted.Compare(cancellationToken);
            }
            finally
            {
                // The store is not left in use by the measurement when the comparisons fail.
                await ((Task)measuring).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            var coverage = await measuring.ConfigureAwait(false);
            var report = await CompleteAsync(compared).ConfigureAwait(false);
            report = await GapTimeline.ExtendAsync(report, project, store, cached, id!, cancellationToken, cells, coverage).ConfigureAwait(false);
            return new DriftOutcome(report) { StartersOnly = StarterCases.OnlyStarters(project) };
        }
        catch (TargetCallException e)
        {
            return new DriftOutcome(null, DriftFailure.EmbeddingFailed, $"the embedding endpoint failed: {e.Message}");
        }

        // What the store adds to the current window: a cohort's missing value named by what it holds (the metadata values
        // taxonomy.yaml does not list), and the gold-versus-shadow alarm.
        async Task<DriftReport> CompleteAsync(DriftReport report)
        {
            report = report with { Current = report.Current with { UnlistedCohorts = await UnlistedCohortScan.FindAsync(project.Taxonomy, store, report.Current, cancellationToken).ConfigureAwait(false) } };
            if (await GoldShadowCheck.EvaluateAsync(store, project.Policy, cancellationToken).ConfigureAwait(false) is { } goldShadow)
            {
                report = report with { Current = report.Current with { Alarms = [.. report.Current.Alarms, goldShadow] } };
            }

            return report;
        }
    }
}
