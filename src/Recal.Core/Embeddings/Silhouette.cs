using System.Numerics.Tensors;

namespace Recal.Embeddings;

/// <summary>
/// The silhouette of a clustering (Rousseeuw, 1987) under cosine distance, as scikit-learn's
/// <c>silhouette_score(X, labels, metric="cosine")</c> computes it: for each point, <c>a</c> is its mean distance to
/// the other members of its cluster and <c>b</c> the smallest mean distance to the members of another cluster;
/// its silhouette is <c>(b − a) / max(a, b)</c>, and 0 when it is alone in its cluster. The score is the mean.
/// </summary>
public static class Silhouette
{
    /// <summary>
    /// The pairwise cosine distances <c>1 − cos</c> of row-major vectors (each scaled to unit length first, as
    /// scikit-learn does; a zero vector is at distance 1 from everything), clipped to [0, 2]: an <c>n × n</c> matrix.
    /// </summary>
    public static float[] CosineDistances(float[] points, int dimensions)
    {
        ArgumentNullException.ThrowIfNull(points);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        var n = points.Length / dimensions;
        var unit = new float[n * dimensions];
        for (var i = 0; i < n; i++)
        {
            var row = unit.AsSpan(i * dimensions, dimensions);
            points.AsSpan(i * dimensions, dimensions).CopyTo(row);
            var norm = TensorPrimitives.Norm(row);
            if (norm > 0)
            {
                TensorPrimitives.Divide(row, norm, row);
            }
        }

        var distances = new float[n * n];
        Parallel.For(0, n, i =>
        {
            var row = unit.AsSpan(i * dimensions, dimensions);
            for (var j = i + 1; j < n; j++)
            {
                var d = Math.Clamp(1 - TensorPrimitives.Dot(row, unit.AsSpan(j * dimensions, dimensions)), 0, 2);
                distances[(i * n) + j] = d;
                distances[(j * n) + i] = d;
            }
        });
        return distances;
    }

    /// <summary>The mean silhouette of <paramref name="labels"/> given the <c>n × n</c> distance matrix.</summary>
    /// <exception cref="ArgumentException">Fewer than two clusters, or as many as points: the silhouette is undefined.</exception>
    public static double Mean(ReadOnlySpan<float> distances, ReadOnlySpan<int> labels)
    {
        var samples = Samples(distances, labels);
        var sum = 0.0;
        foreach (var s in samples)
        {
            sum += s;
        }

        return sum / samples.Length;
    }

    /// <summary>Each point's silhouette.</summary>
    public static double[] Samples(ReadOnlySpan<float> distances, ReadOnlySpan<int> labels)
    {
        var n = labels.Length;
        if (distances.Length != n * n)
        {
            throw new ArgumentException($"{n} labels need a {n} × {n} distance matrix, not {distances.Length} entries", nameof(distances));
        }

        var clusters = new Dictionary<int, int>();
        var index = new int[n];
        for (var i = 0; i < n; i++)
        {
            if (!clusters.TryGetValue(labels[i], out var c))
            {
                clusters[labels[i]] = c = clusters.Count;
            }

            index[i] = c;
        }

        if (clusters.Count < 2 || clusters.Count > n - 1)
        {
            throw new ArgumentException($"the silhouette needs between 2 and {n - 1} clusters; these labels make {clusters.Count}", nameof(labels));
        }

        var k = clusters.Count;
        var sizes = new int[k];
        foreach (var c in index)
        {
            sizes[c]++;
        }

        var result = new double[n];
        var sums = new double[k];
        for (var i = 0; i < n; i++)
        {
            Array.Clear(sums);
            var row = distances.Slice(i * n, n);
            for (var j = 0; j < n; j++)
            {
                sums[index[j]] += row[j];
            }

            var own = index[i];
            if (sizes[own] == 1)
            {
                result[i] = 0;
                continue;
            }

            var a = sums[own] / (sizes[own] - 1);
            var b = double.PositiveInfinity;
            for (var c = 0; c < k; c++)
            {
                if (c != own)
                {
                    b = Math.Min(b, sums[c] / sizes[c]);
                }
            }

            var denominator = Math.Max(a, b);
            result[i] = denominator > 0 ? (b - a) / denominator : 0;
        }

        return result;
    }
}
