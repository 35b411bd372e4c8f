using Recal.Drift;
using Recal.Embeddings;

namespace Recal.Project;

/// <summary>
/// The settings of <c>recal init --from-traces</c> (docs/taxonomy-from-traces.md). The defaults were chosen on
/// CLINC150 traffic and are reported, unchanged, on HWU64.
/// </summary>
/// <param name="SampleSize">Traces clustered: a seeded sample of what was read.</param>
/// <param name="MaxIntents">The largest number of clusters the silhouette compares ...</param>
/// <param name="TracesPerIntent">... and at most one per this many sampled traces.</param>
/// <param name="Intents">The number of clusters to make; null to choose it by the silhouette.</param>
/// <param name="Examples">Taxonomy examples per intent (the classifier trains on them).</param>
/// <param name="EdgeExamples">Further inputs per intent shown as comments: those farthest from its centre.</param>
/// <param name="MinIntentTraces">A cluster with fewer sampled traces proposes no intent.</param>
/// <param name="MinCohortValues">A metadata field proposes a cohort dimension with at least this many values ...</param>
/// <param name="MaxCohortValues">... and at most this many ...</param>
/// <param name="MinCohortCoverage">... when at least this share of the traces carry it ...</param>
/// <param name="MinTracesPerValue">... and it has at least this many traces per value on average (a field of ids in a small file is not a cohort).</param>
public sealed record TaxonomyProposalOptions(
    int SampleSize = TaxonomyProposalOptions.DefaultSampleSize,
    int MaxIntents = 200,
    int TracesPerIntent = 20,
    int? Intents = null,
    int Examples = 8,
    int EdgeExamples = 3,
    int MinIntentTraces = 5,
    int MinCohortValues = 2,
    int MaxCohortValues = 12,
    double MinCohortCoverage = 0.5,
    int MinTracesPerValue = 5,
    int Seed = 0)
{
    public const int DefaultSampleSize = 4_000;

    /// <summary>The silhouettes are measured on at most this many sampled traces.</summary>
    public const int SilhouetteSample = 2_000;

    /// <summary>The numbers of clusters the silhouette compares (up to the largest allowed, which is always compared).</summary>
    public static IReadOnlyList<int> Grid { get; } = [2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200];

    /// <summary>Distinctive words kept per intent.</summary>
    public const int Terms = 6;

    /// <summary>A trace this similar to an example already taken is a near-repeat, not another example.</summary>
    public const float ExampleRepeat = 0.8f;

    internal ClusterCountRule CountRule => new(MaxIntents, TracesPerIntent, SilhouetteSample, Grid);
}

/// <summary>One proposed intent: a cluster of the sample.</summary>
/// <param name="Cluster">The k-means cluster it comes from.</param>
/// <param name="Members">Its traces, as indices into the sample, in key order.</param>
/// <param name="Share">Its share of the sample.</param>
/// <param name="Terms">Its distinctive words, most distinctive first.</param>
/// <param name="Focused">Whether its most distinctive word is in at least a third of its traces.</param>
/// <param name="Examples">Sample indices of its examples, nearest its centre first, without near-repeats.</param>
/// <param name="StarterCase">The sample index of the trace its starter case is drawn from (the next nearest).</param>
/// <param name="Edge">Sample indices of its traces farthest from its centre.</param>
public sealed record ProposedIntent(
    string Name,
    int Cluster,
    IReadOnlyList<int> Members,
    double Share,
    IReadOnlyList<DistinctiveTerm> Terms,
    bool Focused,
    double Cohesion,
    double? Silhouette,
    IReadOnlyList<int> Examples,
    int StarterCase,
    IReadOnlyList<int> Edge);

/// <summary>One proposed cohort dimension: a metadata field with few values.</summary>
public sealed record ProposedCohort(string Name, string Field, long Traces, IReadOnlyList<KeyValuePair<string, long>> Values, string Missing);

/// <summary>What <c>recal init --from-traces</c> proposes from a sample of traffic.</summary>
/// <param name="Read">Traces read.</param>
/// <param name="Sample">The traces clustered, in key order.</param>
/// <param name="Clusters">Each sampled trace's k-means cluster.</param>
/// <param name="K">Clusters made.</param>
/// <param name="Unplaced">Sampled traces in clusters too small to propose an intent.</param>
public sealed record TaxonomyProposal(
    long Read,
    IReadOnlyList<ProposalTrace> Sample,
    int[] Clusters,
    int K,
    ClusterCountSource Source,
    IReadOnlyList<ClusterCountScore> Silhouettes,
    IReadOnlyList<ProposedIntent> Intents,
    IReadOnlyList<ProposedCohort> Cohorts,
    int Unplaced,
    string EmbedderId);
