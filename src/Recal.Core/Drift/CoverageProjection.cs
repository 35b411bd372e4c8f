namespace Recal.Drift;

/// <summary>What a point of the coverage map is.</summary>
public enum MapPointKind
{
    /// <summary>A measured trace within the radius of an eval case.</summary>
    Covered,

    /// <summary>A measured trace outside it.</summary>
    Uncovered,

    /// <summary>An eval case.</summary>
    Case,
}

/// <summary>One point of the coverage map: its place on the two principal components, what it is, and its text (shortened).</summary>
/// <param name="Key">The trace's store key, or the case's id.</param>
public sealed record MapPoint(double X, double Y, MapPointKind Kind, string Key, string Label);

/// <summary>
/// The coverage map: traffic and cases projected onto the first two principal components of their vectors together.
/// <paramref name="Explained"/> is each component's share of the total variance (docs/embeddings.md#the-coverage-map).
/// </summary>
public sealed record CoverageMapModel(IReadOnlyList<MapPoint> Points, double[] Explained, int TrafficPoints, long TrafficMeasured);

/// <summary>
/// Principal components by subspace iteration on the centred rows (never forming the covariance matrix, so its cost is
/// rows × dimensions per step), checked against NumPy's SVD (tests/Recal.Core.Tests/Drift fixtures).
/// </summary>
public static class CoverageProjection
{
    /// <summary>Vectors iterated beyond those asked for, which speed convergence when eigenvalues lie close.</summary>
    private const int Oversampling = 8;

    /// <summary>Traffic points drawn on the map at most (a seeded subsample of the measured traces).</summary>
    public const int MaxTrafficPoints = 2000;

    /// <summary>
    /// The first <paramref name="components"/> principal axes of the rows (row-major, <paramref name="dimensions"/> wide),
    /// each a unit vector whose entry of largest magnitude is positive; the rows' mean; and each axis's share of the variance.
    /// </summary>
    public static (double[][] Axes, double[] Mean, double[] Explained) Fit(float[] rows, int dimensions, int components = 2, int seed = 0)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        var n = rows.Length / dimensions;
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 2, nameof(rows));
        components = Math.Min(components, Math.Min(n, dimensions));

        var mean = new double[dimensions];
        for (var i = 0; i < n; i++)
        {
            for (var d = 0; d < dimensions; d++)
            {
                mean[d] += rows[(i * dimensions) + d];
            }
        }

        for (var d = 0; d < dimensions; d++)
        {
            mean[d] /= n;
        }

        double total = 0;
        for (var i = 0; i < n; i++)
        {
            for (var d = 0; d < dimensions; d++)
            {
                var x = rows[(i * dimensions) + d] - mean[d];
                total += x * x;
            }
        }

        // Subspace iteration with a few extra vectors, V ← orth(Xᵀ X V), and the Rayleigh–Ritz step on the small
        // matrix Vᵀ Xᵀ X V: the axes converge at the rate of the first eigenvalue left out over the last one kept.
        var width = Math.Min(components + Oversampling, Math.Min(n, dimensions));
        var random = new Random(seed);
        var block = new double[width][];
        for (var c = 0; c < width; c++)
        {
            block[c] = [.. Enumerable.Range(0, dimensions).Select(_ => random.NextDouble() - 0.5)];
        }

        Orthonormalise(block);
        var scores = new double[n];
        double[][] axes = [];
        for (var iteration = 0; iteration < 300; iteration++)
        {
            var product = new double[width][];
            for (var c = 0; c < width; c++)
            {
                product[c] = Gram(rows, dimensions, n, mean, block[c], scores);
            }

            var ritz = RitzAxes(block, product, components);
            Orthonormalise(product);
            block = product;
            var turned = axes.Length == 0 ? 1.0 : Enumerable.Range(0, components).Max(c => 1 - Math.Abs(Dot(ritz[c], axes[c])));
            axes = ritz;
            if (turned < 1e-15)
            {
                break;
            }
        }

        // Order by variance, then the sign convention: the entry of largest magnitude is positive.
        var variance = new double[components];
        for (var c = 0; c < components; c++)
        {
            Project(rows, dimensions, n, mean, axes[c], scores);
            variance[c] = scores.Sum(s => s * s);
        }

        var order = Enumerable.Range(0, components).OrderByDescending(c => variance[c]).ToArray();
        axes = [.. order.Select(c => axes[c])];
        var explained = order.Select(c => total > 0 ? variance[c] / total : 0).ToArray();
        foreach (var axis in axes)
        {
            var largest = 0;
            for (var d = 1; d < dimensions; d++)
            {
                if (Math.Abs(axis[d]) > Math.Abs(axis[largest]))
                {
                    largest = d;
                }
            }

            if (axis[largest] < 0)
            {
                for (var d = 0; d < dimensions; d++)
                {
                    axis[d] = -axis[d];
                }
            }
        }

        return (axes, mean, explained);
    }

    /// <summary>Each row's coordinates on the axes (centred by <paramref name="mean"/>), row by row.</summary>
    public static double[][] Transform(float[] rows, int dimensions, double[][] axes, double[] mean)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(axes);
        ArgumentNullException.ThrowIfNull(mean);
        var n = rows.Length / dimensions;
        var result = new double[n][];
        for (var i = 0; i < n; i++)
        {
            result[i] = new double[axes.Length];
            for (var c = 0; c < axes.Length; c++)
            {
                double s = 0;
                for (var d = 0; d < dimensions; d++)
                {
                    s += (rows[(i * dimensions) + d] - mean[d]) * axes[c][d];
                }

                result[i][c] = s;
            }
        }

        return result;
    }

    /// <summary>
    /// The <paramref name="components"/> leading Ritz vectors of the orthonormal <paramref name="block"/> V, given
    /// <paramref name="product"/> = Xᵀ X V: the eigenvectors of H = Vᵀ Xᵀ X V (Jacobi rotations), mapped back by V.
    /// </summary>
    private static double[][] RitzAxes(double[][] block, double[][] product, int components)
    {
        var m = block.Length;
        var h = new double[m, m];
        for (var a = 0; a < m; a++)
        {
            for (var b = 0; b < m; b++)
            {
                h[a, b] = Dot(block[a], product[b]);
            }
        }

        var (values, vectors) = Jacobi(h);
        var order = Enumerable.Range(0, m).OrderByDescending(i => values[i]).Take(components).ToArray();
        var dimensions = block[0].Length;
        var axes = new double[order.Length][];
        for (var c = 0; c < order.Length; c++)
        {
            axes[c] = new double[dimensions];
            for (var a = 0; a < m; a++)
            {
                var weight = vectors[a, order[c]];
                for (var d = 0; d < dimensions; d++)
                {
                    axes[c][d] += weight * block[a][d];
                }
            }
        }

        return axes;
    }

    /// <summary>Eigenvalues and eigenvectors (columns) of a small symmetric matrix by cyclic Jacobi rotations.</summary>
    private static (double[] Values, double[,] Vectors) Jacobi(double[,] matrix)
    {
        var m = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var v = new double[m, m];
        for (var i = 0; i < m; i++)
        {
            v[i, i] = 1;
        }

        for (var sweep = 0; sweep < 100; sweep++)
        {
            double off = 0, scale = 0;
            for (var p = 0; p < m; p++)
            {
                for (var q = 0; q < m; q++)
                {
                    (off, scale) = p == q ? (off, scale + (a[p, q] * a[p, q])) : (off + (a[p, q] * a[p, q]), scale);
                }
            }

            if (off <= 1e-30 * Math.Max(scale, double.Epsilon))
            {
                break;
            }

            for (var p = 0; p < m - 1; p++)
            {
                for (var q = p + 1; q < m; q++)
                {
                    if (a[p, q] == 0)
                    {
                        continue;
                    }

                    var theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    var t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    var c = 1 / Math.Sqrt((t * t) + 1);
                    var s = t * c;
                    for (var k = 0; k < m; k++)
                    {
                        var (akp, akq) = (a[k, p], a[k, q]);
                        a[k, p] = (c * akp) - (s * akq);
                        a[k, q] = (s * akp) + (c * akq);
                    }

                    for (var k = 0; k < m; k++)
                    {
                        var (apk, aqk) = (a[p, k], a[q, k]);
                        a[p, k] = (c * apk) - (s * aqk);
                        a[q, k] = (s * apk) + (c * aqk);
                    }

                    for (var k = 0; k < m; k++)
                    {
                        var (vkp, vkq) = (v[k, p], v[k, q]);
                        v[k, p] = (c * vkp) - (s * vkq);
                        v[k, q] = (s * vkp) + (c * vkq);
                    }
                }
            }
        }

        var values = new double[m];
        for (var i = 0; i < m; i++)
        {
            values[i] = a[i, i];
        }

        return (values, v);
    }

    /// <summary>Xᵀ X v for the centred rows, through the scores X v.</summary>
    private static double[] Gram(float[] rows, int dimensions, int n, double[] mean, double[] v, double[] scores)
    {
        Project(rows, dimensions, n, mean, v, scores);
        var result = new double[dimensions];
        for (var i = 0; i < n; i++)
        {
            var s = scores[i];
            for (var d = 0; d < dimensions; d++)
            {
                result[d] += (rows[(i * dimensions) + d] - mean[d]) * s;
            }
        }

        return result;
    }

    private static void Project(float[] rows, int dimensions, int n, double[] mean, double[] v, double[] scores)
    {
        for (var i = 0; i < n; i++)
        {
            double s = 0;
            for (var d = 0; d < dimensions; d++)
            {
                s += (rows[(i * dimensions) + d] - mean[d]) * v[d];
            }

            scores[i] = s;
        }
    }

    private static void Orthonormalise(double[][] vectors)
    {
        for (var c = 0; c < vectors.Length; c++)
        {
            for (var p = 0; p < c; p++)
            {
                var dot = Dot(vectors[c], vectors[p]);
                for (var d = 0; d < vectors[c].Length; d++)
                {
                    vectors[c][d] -= dot * vectors[p][d];
                }
            }

            var norm = Math.Sqrt(Dot(vectors[c], vectors[c]));
            for (var d = 0; d < vectors[c].Length; d++)
            {
                vectors[c][d] = norm > 0 ? vectors[c][d] / norm : 0;
            }
        }
    }

    private static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (var i = 0; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }
}
