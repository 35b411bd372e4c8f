using System.Numerics.Tensors;
using Recal.Embeddings;

namespace Recal.Drift;

/// <summary>Which numbers of clusters the silhouette compares, and on how many points.</summary>
/// <param name="MaxClusters">The largest k compared ...</param>
/// <param name="PointsPerCluster">... and at most one cluster per this many points, so a cluster holds a topic, not a handful of points.</param>
/// <param name="SilhouetteSample">The silhouettes are measured on at most this many points: they need all pairwise distances.</param>
/// <param name="Grid">The candidates to compare (those from 2 to the largest k, and the largest k itself); null for every k from 2.</param>
internal sealed record ClusterCountRule(int MaxClusters, int PointsPerCluster, int SilhouetteSample, IReadOnlyList<int>? Grid = null)
{
    /// <summary>The largest k compared for <paramref name="points"/> points (below 2: too few to compare).</summary>
    public int MaxK(int points) => Math.Min(MaxClusters, points / PointsPerCluster);

    public IReadOnlyList<int> Candidates(int maxK) => Grid is null
        ? [.. Enumerable.Range(2, Math.Max(0, maxK - 1))]
        : [.. Grid.Where(k => k >= 2 && k < maxK).Append(maxK).Distinct().Order()];
}

/// <summary>A clustering of points with how its k was decided and each cluster's silhouette.</summary>
/// <param name="Sample">The points (indices) the silhouettes were measured on.</param>
/// <param name="Choice">The candidates' silhouettes, when k was chosen by them.</param>
/// <param name="ClusterSilhouette">Each cluster's mean silhouette over its points in the sample (absent when undefined).</param>
internal sealed record TextClustering(
    KMeansResult KMeans,
    ClusterCountSource Source,
    int MaxK,
    int[] Sample,
    ClusterCountChoice? Choice,
    IReadOnlyDictionary<int, double> ClusterSilhouette);

/// <summary>
/// Clusters embedded texts and picks what shows a cluster: the one clusterer behind blind spots
/// (<see cref="BlindSpotFinder"/>) and the intents <c>recal init --from-traces</c> proposes. Spherical k-means with k
/// given or chosen by the mean silhouette on a seeded subsample; representatives nearest the centroid, skipping near-repeats.
/// </summary>
internal static class TextClusterer
{
    /// <param name="points">Unit vectors, row-major, in a fixed order (the clusters depend on it only through the seed).</param>
    /// <param name="clusters">The number of clusters to make; null to choose it by the silhouette.</param>
    public static TextClustering Cluster(float[] points, int dimensions, int? clusters, ClusterCountRule rule, int seed)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(rule);
        var n = points.Length / dimensions;
        var sample = SphericalKMeans.Subsample(n, rule.SilhouetteSample, seed);
        var samplePoints = new float[sample.Length * dimensions];
        for (var i = 0; i < sample.Length; i++)
        {
            points.AsSpan(sample[i] * dimensions, dimensions).CopyTo(samplePoints.AsSpan(i * dimensions, dimensions));
        }

        var distances = Silhouette.CosineDistances(samplePoints, dimensions);
        var maxK = rule.MaxK(n);
        ClusterCountChoice? choice = null;
        var (k, source) = clusters is { } given ? (Math.Min(given, n), ClusterCountSource.Given)
            : maxK < 2 ? (1, ClusterCountSource.TooFew)
            : ((choice = SphericalKMeans.ChooseK(samplePoints, dimensions, distances, rule.Candidates(maxK), seed)).K, ClusterCountSource.Silhouette);
        var clustering = SphericalKMeans.Cluster(points, dimensions, k, seed);
        var sampleLabels = sample.Select(i => clustering.Assignments[i]).ToArray();
        var silhouettes = sampleLabels.Distinct().Count() is > 1 and var labels && labels < sample.Length
            ? Silhouette.Samples(distances, sampleLabels)
            : null;
        IReadOnlyDictionary<int, double> clusterSilhouette = silhouettes is null ? new Dictionary<int, double>() : Enumerable.Range(0, sample.Length)
            .GroupBy(i => sampleLabels[i])
            .ToDictionary(g => g.Key, g => g.Average(i => silhouettes[i]));
        return new TextClustering(clustering, source, source == ClusterCountSource.Silhouette ? maxK : 0, sample, choice, clusterSilhouette);
    }

    /// <summary>
    /// Up to <paramref name="count"/> of a cluster's points nearest its centroid (ties by key), skipping any at least
    /// <paramref name="repeat"/> similar to one already taken: positions into <paramref name="indices"/>, in the order taken.
    /// </summary>
    /// <param name="indices">The cluster's points, as rows of <paramref name="vectors"/>.</param>
    /// <param name="centroidSimilarity">Their similarities to the centroid, in the same order.</param>
    /// <param name="key">A point's stable key, by row.</param>
    public static List<int> Representatives(
        IReadOnlyList<int> indices, IReadOnlyList<float> centroidSimilarity, float[] vectors, int dimensions, Func<int, string> key, int count, float repeat)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(centroidSimilarity);
        ArgumentNullException.ThrowIfNull(key);
        var taken = new List<int>();
        foreach (var r in Enumerable.Range(0, indices.Count).OrderByDescending(r => centroidSimilarity[r]).ThenBy(r => key(indices[r]), StringComparer.Ordinal))
        {
            if (taken.Count == count)
            {
                break;
            }

            var vector = vectors.AsSpan(indices[r] * dimensions, dimensions);
            var near = false;
            foreach (var t in taken)
            {
                near |= TensorPrimitives.Dot(vector, vectors.AsSpan(indices[t] * dimensions, dimensions)) >= repeat;
            }

            if (!near)
            {
                taken.Add(r);
            }
        }

        return taken;
    }
}
