using Recal.Embeddings;

namespace Recal.Drift;

/// <summary>How the number of clusters of uncovered traffic was decided.</summary>
public enum ClusterCountSource
{
    /// <summary>The k from 2 to the maximum with the highest mean silhouette.</summary>
    Silhouette,

    /// <summary>Given by the caller (<c>--clusters</c>).</summary>
    Given,

    /// <summary>Too few uncovered traces to compare clusterings: one cluster.</summary>
    TooFew,
}

/// <summary>A blind spot's traffic in one week of the window (7 days from the window's start; the last may be shorter).</summary>
/// <param name="Traces">The blind spot's traces that week (estimated from the sample when the window was sampled).</param>
/// <param name="Share">Their share of the week's traffic.</param>
public sealed record BlindSpotWeek(DateTimeOffset Start, long Traces, double Share);

/// <summary>A stratum among a blind spot's traces.</summary>
/// <param name="Measured">The blind spot's measured traces in the stratum.</param>
/// <param name="Share">The stratum's share of the blind spot's traffic.</param>
public sealed record BlindSpotStratum(string Stratum, long Measured, double Share);

/// <summary>A word that sets a blind spot apart from the rest of the window (docs/embeddings.md#distinctive-terms).</summary>
/// <param name="BlindSpotShare">Share of the blind spot's traces that contain it (p).</param>
/// <param name="WindowShare">Share of the window's traces that contain it (q).</param>
/// <param name="Score"><c>p · ln(p / q)</c>.</param>
public sealed record DistinctiveTerm(string Term, double BlindSpotShare, double WindowShare, double Score);

/// <summary>A trace close to a blind spot's centroid, to show what it is about.</summary>
/// <param name="Key">The trace's key in the store.</param>
/// <param name="TraceId">The trace's own id, when it had one.</param>
/// <param name="Text">Its input (user turns joined by newlines).</param>
/// <param name="CentroidSimilarity">Cosine similarity to the blind spot's centroid.</param>
/// <param name="NearestCaseSimilarity">Cosine similarity to its nearest eval case.</param>
public sealed record RepresentativeTrace(string Key, string? TraceId, string Stratum, DateTimeOffset Timestamp, string Text, double CentroidSimilarity, double NearestCaseSimilarity);

/// <summary>One cluster of uncovered traffic: what part of the window the eval set has no case near.</summary>
/// <param name="Id">1, 2, ...: focused blind spots first, each group by share of traffic, largest first.</param>
/// <param name="Measured">Uncovered measured traces in the cluster.</param>
/// <param name="Traces">Traces of the window it stands for: <see cref="Measured"/> for a census, weighted by the sample otherwise.</param>
/// <param name="TrafficShare">Its share of the window's traffic.</param>
/// <param name="FirstHalfShare">Its share of the traffic of the window's first half; null when that half had none.</param>
/// <param name="SecondHalfShare">The same for the second half.</param>
/// <param name="Growth">Second-half share over first-half share; null when either is missing or the first is 0 (new in the second half).</param>
/// <param name="Strata">The strata it holds, largest first (at most five).</param>
/// <param name="Terms">Its distinctive words, most distinctive first.</param>
/// <param name="Examples">Traces nearest its centroid, with distinct texts.</param>
/// <param name="MedianNearestCaseSimilarity">Median similarity of its traces to their nearest eval case: how far the set is.</param>
/// <param name="Cohesion">Mean similarity of its traces to its centroid.</param>
/// <param name="Focus">The largest share of its traffic that contains one of its distinctive words.</param>
/// <param name="Focused">Whether <see cref="Focus"/> reaches a third: a topic its words name, rather than a loose grouping.</param>
/// <param name="Silhouette">Mean silhouette of its traces in the silhouette subsample: near 0 or below, a loose grouping rather than a topic.</param>
public sealed record BlindSpot(
    int Id,
    long Measured,
    long Traces,
    double TrafficShare,
    double? FirstHalfShare,
    double? SecondHalfShare,
    double? Growth,
    IReadOnlyList<BlindSpotWeek> Weeks,
    IReadOnlyList<BlindSpotStratum> Strata,
    IReadOnlyList<DistinctiveTerm> Terms,
    IReadOnlyList<RepresentativeTrace> Examples,
    double MedianNearestCaseSimilarity,
    double Cohesion,
    double? Silhouette,
    double Focus,
    bool Focused);

/// <summary>The uncovered traffic, clustered: the eval set's blind spots (docs/embeddings.md#blind-spots).</summary>
/// <param name="Uncovered">Measured traces outside the radius: what was clustered.</param>
/// <param name="K">Clusters made (0 when nothing was uncovered).</param>
/// <param name="Source">How <see cref="K"/> was decided.</param>
/// <param name="MaxK">The largest k the silhouette compared (0 unless <see cref="Source"/> is the silhouette).</param>
/// <param name="Sampled">Uncovered traces the silhouettes were measured on (all of them, or a seeded subsample).</param>
/// <param name="Silhouettes">Each candidate k's mean silhouette.</param>
/// <param name="MinSize">Clusters with fewer measured traces are not listed.</param>
/// <param name="SmallClusters">Clusters below <see cref="MinSize"/>.</param>
/// <param name="SmallClusterTraces">Measured traces in them.</param>
/// <param name="Spots">The listed clusters: focused ones first, each group by share of traffic.</param>
public sealed record BlindSpotReport(
    long Uncovered,
    int K,
    ClusterCountSource Source,
    int MaxK,
    int Sampled,
    IReadOnlyList<ClusterCountScore> Silhouettes,
    int MinSize,
    int SmallClusters,
    long SmallClusterTraces,
    IReadOnlyList<BlindSpot> Spots);

/// <summary>A listed blind spot's traces and vectors, to draw drafts from (not part of the report).</summary>
/// <param name="Keys">The traces' keys, in key order.</param>
/// <param name="Vectors">Their unit vectors, row-major in the same order.</param>
public sealed record BlindSpotMembers(int Id, IReadOnlyList<string> Keys, float[] Vectors, int Dimensions);
