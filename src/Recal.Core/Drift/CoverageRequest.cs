using Recal.Domain;

namespace Recal.Drift;

/// <summary>What the coverage instrument measures: the eval pools, the traffic window, the radius and the sample size.</summary>
/// <param name="From">Start of the window (inclusive); default: the policy's traffic window before <paramref name="To"/>.</param>
/// <param name="To">End of the window (exclusive); default: just after the newest stored trace.</param>
/// <param name="Radius">The similarity radius; null to calibrate it from the eval set (docs/embeddings.md#the-radius).</param>
/// <param name="Percentile">Which percentile of the cases' similarities to their nearest case of another intent the calibrated radius is.</param>
/// <param name="MaxTraces">A window with more traces is measured on a stratified random sample of about this many.</param>
/// <param name="Seed">Seeds the sample and the clustering: the same seed, store and project give the same report.</param>
/// <param name="Clusters">How many clusters to split the uncovered traffic into; null to choose by the silhouette.</param>
/// <param name="BlindSpots">Whether to cluster the uncovered traffic into blind spots at all.</param>
/// <param name="Anchors">
/// Texts besides the cases (the taxonomy's examples) whose nearest similarity, with the cases', says how novel each
/// measured trace is (docs/drift.md#novelty); null not to measure it.
/// </param>
public sealed record CoverageRequest(
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    IReadOnlyList<Pool>? Pools = null,
    double? Radius = null,
    double Percentile = CoverageRequest.DefaultPercentile,
    int MaxTraces = CoverageRequest.DefaultMaxTraces,
    int Seed = 0,
    double Confidence = 0.95,
    int? Clusters = null,
    bool BlindSpots = true,
    IReadOnlyList<string>? Anchors = null,
    bool Map = false)
{
    public const double DefaultPercentile = 95;

    public const int DefaultMaxTraces = 20_000;

    public IReadOnlyList<Pool> EffectivePools => Pools is { Count: > 0 } ? Pools : [Pool.Gold];
}
