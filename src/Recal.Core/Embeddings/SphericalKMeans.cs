using System.Numerics.Tensors;

namespace Recal.Embeddings;

/// <summary>A clustering of unit vectors: the centroids and, for each point, its cluster and its similarity to the centroid.</summary>
/// <param name="Centroids">Row-major <c>K × dimensions</c>, each of unit length.</param>
/// <param name="Assignments">Each point's cluster, 0 to K − 1.</param>
/// <param name="Similarity">Each point's cosine similarity to its cluster's centroid.</param>
/// <param name="Iterations">Assignment steps taken.</param>
/// <param name="Converged">Whether the last step changed no assignment (rather than stopping at the iteration limit).</param>
public sealed record KMeansResult(int K, float[] Centroids, int[] Assignments, float[] Similarity, int Iterations, bool Converged);

/// <summary>One candidate number of clusters and the mean silhouette of the clustering it gave.</summary>
public sealed record ClusterCountScore(int K, double Silhouette);

/// <summary>The number of clusters chosen by the silhouette, and every candidate's score.</summary>
/// <param name="Sampled">Points the candidates were clustered and scored on (a seeded subsample of a large set).</param>
public sealed record ClusterCountChoice(int K, int Sampled, IReadOnlyList<ClusterCountScore> Scores);

/// <summary>
/// Spherical k-means on unit vectors (cosine similarity; centroids scaled back to unit length after every update),
/// seeded by k-means++ with a seeded random generator (docs/embeddings.md#blind-spots).
/// </summary>
/// <remarks>
/// The same points in the same order, k and seed give the same clusters on every machine: seeding draws from
/// <see cref="Random"/> with the seed, the assignment step is <see cref="NearestNeighbourIndex"/>'s exact search (ties
/// to the lowest centroid, independent of the number of threads), and centroids are summed in point order.
/// </remarks>
public static class SphericalKMeans
{
    public const int DefaultMaxIterations = 100;

    /// <summary>Candidates for the number of clusters are compared after at most this many iterations: enough to settle their silhouette.</summary>
    public const int CandidateMaxIterations = 30;


    public static KMeansResult Cluster(float[] points, int dimensions, int k, int seed, int maxIterations = DefaultMaxIterations)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxIterations, 1);
        var n = Count(points, dimensions);
        if (k > n)
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, $"{n} points cannot make {k} clusters");
        }

        var centroids = new float[k * dimensions];
        var seeds = PlusPlus(points, dimensions, k, new Random(seed));
        for (var c = 0; c < k; c++)
        {
            points.AsSpan(seeds[c] * dimensions, dimensions).CopyTo(centroids.AsSpan(c * dimensions, dimensions));
        }

        var assignments = new int[n];
        assignments.AsSpan().Fill(-1);
        var similarity = new float[n];
        var sizes = new int[k];
        var iterations = 0;
        var converged = false;
        while (iterations < maxIterations)
        {
            iterations++;
            var (nearest, nearestSimilarity) = new NearestNeighbourIndex(centroids, dimensions).Search(points);
            nearestSimilarity.CopyTo(similarity, 0);
            if (nearest.AsSpan().SequenceEqual(assignments))
            {
                converged = true;
                break;
            }

            nearest.CopyTo(assignments, 0);
            Update(points, dimensions, assignments, similarity, centroids, sizes);
        }

        if (!converged)
        {
            // The last update moved the centroids: measure each point against the centroid it ends with.
            for (var i = 0; i < n; i++)
            {
                similarity[i] = TensorPrimitives.Dot(points.AsSpan(i * dimensions, dimensions), centroids.AsSpan(assignments[i] * dimensions, dimensions));
            }
        }

        return new KMeansResult(k, centroids, assignments, similarity, iterations, converged);
    }

    /// <summary>
    /// The number of clusters from 2 to <paramref name="maxK"/> whose clustering of <paramref name="points"/> has the
    /// highest mean silhouette (the smallest such k on a tie), each candidate clustered with the same seed (at most
    /// <see cref="CandidateMaxIterations"/> iterations).
    /// </summary>
    /// <param name="distances">The points' pairwise cosine distances (<see cref="Silhouette.CosineDistances"/>).</param>
    public static ClusterCountChoice ChooseK(float[] points, int dimensions, float[] distances, int maxK, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxK, 2);
        return ChooseK(points, dimensions, distances, [.. Enumerable.Range(2, maxK - 1)], seed);
    }

    /// <summary>
    /// Among <paramref name="candidates"/> (each at least 2; those not below the number of points are skipped), the
    /// number of clusters whose clustering has the highest mean silhouette (the smallest such k on a tie).
    /// </summary>
    public static ClusterCountChoice ChooseK(float[] points, int dimensions, float[] distances, IReadOnlyList<int> candidates, int seed)
    {
        ArgumentNullException.ThrowIfNull(distances);
        ArgumentNullException.ThrowIfNull(candidates);
        var n = Count(points, dimensions);
        var scores = new List<ClusterCountScore>();
        foreach (var k in candidates.Where(k => k >= 2 && k <= n - 1).Distinct().Order())
        {
            var clustering = Cluster(points, dimensions, k, seed, CandidateMaxIterations);
            if (clustering.Assignments.Distinct().Count() >= 2)
            {
                scores.Add(new ClusterCountScore(k, Silhouette.Mean(distances, clustering.Assignments)));
            }
        }

        var best = scores.Count == 0 ? 1 : scores.MaxBy(s => s.Silhouette)!.K;
        return new ClusterCountChoice(best, n, scores);
    }

    /// <summary>
    /// <paramref name="size"/> of the indices 0 to <paramref name="count"/> − 1 drawn uniformly without replacement
    /// (a partial Fisher–Yates shuffle with the seed), in increasing order; all of them when there are no more.
    /// </summary>
    public static int[] Subsample(int count, int size, int seed)
    {
        var indices = Enumerable.Range(0, count).ToArray();
        if (count <= size)
        {
            return indices;
        }

        var random = new Random(seed);
        for (var i = 0; i < size; i++)
        {
            var j = random.Next(i, count);
            (indices[i], indices[j]) = (indices[j], indices[i]);
        }

        return [.. indices.Take(size).Order()];
    }

    /// <summary>
    /// k-means++ seeding: the first point uniformly at random, each next one with probability proportional to its
    /// squared Euclidean distance to the nearest point already chosen (<c>2 − 2 cos</c> on unit vectors), so the
    /// choices spread over the data. When every remaining point coincides with a chosen one, the next is uniform among
    /// those not chosen yet. Returns <paramref name="count"/> distinct point indices in the order chosen.
    /// </summary>
    public static int[] PlusPlus(float[] points, int dimensions, int count, Random random)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentNullException.ThrowIfNull(random);
        var n = Count(points, dimensions);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, n);
        var chosen = new int[count];
        var taken = new bool[n];
        var distance = new double[n];
        distance.AsSpan().Fill(double.PositiveInfinity);
        for (var c = 0; c < count; c++)
        {
            var next = c == 0 ? random.Next(n) : Draw(distance, taken, random);
            chosen[c] = next;
            taken[next] = true;
            var centre = points.AsSpan(next * dimensions, dimensions);
            for (var i = 0; i < n; i++)
            {
                var d = Math.Max(0, 2 - (2 * (double)TensorPrimitives.Dot(points.AsSpan(i * dimensions, dimensions), centre)));
                distance[i] = taken[i] ? 0 : Math.Min(distance[i], d);
            }
        }

        return chosen;
    }

    private static int Draw(double[] distance, bool[] taken, Random random)
    {
        var total = 0.0;
        foreach (var d in distance)
        {
            total += d;
        }

        if (total > 0)
        {
            var target = random.NextDouble() * total;
            var last = -1;
            for (var i = 0; i < distance.Length; i++)
            {
                if (distance[i] <= 0)
                {
                    continue;
                }

                last = i;
                target -= distance[i];
                if (target < 0)
                {
                    return i;
                }
            }

            // Rounding left a sliver of the total: the last point with any weight.
            return last;
        }

        var free = Enumerable.Range(0, taken.Length).Where(i => !taken[i]).ToList();
        return free[random.Next(free.Count)];
    }

    /// <summary>
    /// Each centroid becomes its members' normalised sum. A cluster left empty takes the point farthest from its own
    /// centroid (the worst served), so k clusters stay k.
    /// </summary>
    private static void Update(float[] points, int dimensions, int[] assignments, float[] similarity, float[] centroids, int[] sizes)
    {
        var k = sizes.Length;
        Array.Clear(centroids);
        Array.Clear(sizes);
        for (var i = 0; i < assignments.Length; i++)
        {
            var centroid = centroids.AsSpan(assignments[i] * dimensions, dimensions);
            TensorPrimitives.Add(centroid, points.AsSpan(i * dimensions, dimensions), centroid);
            sizes[assignments[i]]++;
        }

        for (var c = 0; c < k; c++)
        {
            var centroid = centroids.AsSpan(c * dimensions, dimensions);
            if (sizes[c] == 0)
            {
                var farthest = -1;
                for (var i = 0; i < assignments.Length; i++)
                {
                    if (sizes[assignments[i]] > 1 && (farthest < 0 || similarity[i] < similarity[farthest]))
                    {
                        farthest = i;
                    }
                }

                if (farthest >= 0)
                {
                    points.AsSpan(farthest * dimensions, dimensions).CopyTo(centroid);
                    sizes[assignments[farthest]]--;
                    sizes[c] = 1;
                    similarity[farthest] = 1;
                }

                continue;
            }

            var norm = TensorPrimitives.Norm(centroid);
            if (norm > 0)
            {
                TensorPrimitives.Divide(centroid, norm, centroid);
            }
        }
    }

    private static int Count(float[] points, int dimensions)
    {
        if (points.Length % dimensions != 0)
        {
            throw new ArgumentException($"{points.Length} floats are not a whole number of {dimensions}-dimensional points", nameof(points));
        }

        return points.Length / dimensions;
    }
}
