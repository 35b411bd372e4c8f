using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Recal.Embeddings;

/// <summary>
/// Exact nearest-neighbour search by dot product (cosine similarity when the vectors are L2-normalised) over a fixed
/// set of vectors: for each query, the index of the most similar vector and the similarity. No approximation, and the
/// full query × vector similarity matrix is never held: the search keeps one 6 × 16 tile per thread (docs/embeddings.md).
/// </summary>
/// <remarks>
/// The vectors are packed into panels of <see cref="PanelWidth"/> vectors stored dimension-major, so one 256-bit load
/// reads one coordinate of 8 vectors. A micro-kernel multiplies a tile of <see cref="TileRows"/> queries by a panel
/// with 12 fused multiply-add accumulators that stay in registers (as a matrix-multiply kernel does); queries are
/// taken in blocks of <see cref="BlockQueries"/>, so a panel stays in the L1 cache across a block's tiles and a
/// block's queries stay in L2 across all panels. Blocks run in parallel. Without AVX2 and FMA the search falls back to
/// <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> per pair over the same blocks.
/// Ties go to the lowest index. Results do not depend on the number of threads.
/// </remarks>
public sealed class NearestNeighbourIndex
{
    /// <summary>Vectors per packed panel: two 256-bit registers of floats.</summary>
    public const int PanelWidth = 16;

    /// <summary>Queries per micro-kernel tile.</summary>
    public const int TileRows = 6;

    /// <summary>Queries per block: 16 tiles.</summary>
    public const int BlockQueries = TileRows * 16;

    private readonly float[] _vectors;
    private readonly float[] _panels;

    /// <param name="vectors">The vectors, row-major: <c>count × dimensions</c> floats.</param>
    public NearestNeighbourIndex(ReadOnlySpan<float> vectors, int dimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        if (vectors.Length % dimensions != 0)
        {
            throw new ArgumentException($"{vectors.Length} floats are not a whole number of {dimensions}-dimensional vectors", nameof(vectors));
        }

        Dimensions = dimensions;
        Count = vectors.Length / dimensions;
        _vectors = vectors.ToArray();
        var panels = (Count + PanelWidth - 1) / PanelWidth;
        _panels = new float[panels * PanelWidth * dimensions];
        for (var v = 0; v < Count; v++)
        {
            var panel = _panels.AsSpan((v / PanelWidth) * PanelWidth * dimensions, PanelWidth * dimensions);
            var lane = v % PanelWidth;
            var row = vectors.Slice(v * dimensions, dimensions);
            for (var k = 0; k < dimensions; k++)
            {
                panel[(k * PanelWidth) + lane] = row[k];
            }
        }
    }

    public int Count { get; }

    public int Dimensions { get; }

    /// <summary>Whether this machine runs the register-blocked kernel (AVX2 and FMA) or the portable fallback.</summary>
    public static bool IsVectorised => Avx.IsSupported && Fma.IsSupported;

    /// <summary>
    /// For each of the <c>queries.Length / Dimensions</c> row-major queries, writes the index of the most similar vector
    /// (−1 when the index is empty) and the similarity (−∞ then).
    /// </summary>
    /// <param name="maxDegreeOfParallelism">Threads to use; −1 for all cores.</param>
    public void Search(float[] queries, int[] nearest, float[] similarity, int maxDegreeOfParallelism = -1) =>
        Search(queries, nearest, similarity, maxDegreeOfParallelism, IsVectorised);

    /// <summary>The search with the kernel chosen by the caller, so tests can check both against each other.</summary>
    internal void Search(float[] queries, int[] nearest, float[] similarity, int maxDegreeOfParallelism, bool vectorised)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(nearest);
        ArgumentNullException.ThrowIfNull(similarity);
        if (queries.Length % Dimensions != 0)
        {
            throw new ArgumentException($"{queries.Length} floats are not a whole number of {Dimensions}-dimensional queries", nameof(queries));
        }

        var queryCount = queries.Length / Dimensions;
        if (nearest.Length < queryCount || similarity.Length < queryCount)
        {
            throw new ArgumentException($"the result arrays must hold {queryCount} entries");
        }

        nearest.AsSpan(0, queryCount).Fill(-1);
        similarity.AsSpan(0, queryCount).Fill(float.NegativeInfinity);
        if (Count == 0 || queryCount == 0)
        {
            return;
        }

        if (vectorised && !IsVectorised)
        {
            throw new PlatformNotSupportedException("the vectorised kernel needs AVX2 and FMA");
        }

        var blocks = (queryCount + BlockQueries - 1) / BlockQueries;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, blocks, options, block =>
        {
            var first = block * BlockQueries;
            var count = Math.Min(BlockQueries, queryCount - first);
            if (vectorised)
            {
                SearchBlockVectorised(queries, first, count, nearest, similarity);
            }
            else
            {
                SearchBlockPortable(queries, first, count, nearest, similarity);
            }
        });
    }

    /// <summary>The search over every query, as new arrays.</summary>
    public (int[] Nearest, float[] Similarity) Search(float[] queries, int maxDegreeOfParallelism = -1)
    {
        ArgumentNullException.ThrowIfNull(queries);
        var count = queries.Length / Dimensions;
        var nearest = new int[count];
        var similarity = new float[count];
        Search(queries, nearest, similarity, maxDegreeOfParallelism);
        return (nearest, similarity);
    }

    private void SearchBlockPortable(float[] queries, int first, int count, int[] nearest, float[] similarity)
    {
        var d = Dimensions;
        for (var v = 0; v < Count; v++)
        {
            var vector = _vectors.AsSpan(v * d, d);
            for (var q = first; q < first + count; q++)
            {
                var s = TensorPrimitives.Dot(queries.AsSpan(q * d, d), vector);
                if (s > similarity[q])
                {
                    similarity[q] = s;
                    nearest[q] = v;
                }
            }
        }
    }

    private void SearchBlockVectorised(float[] queries, int first, int count, int[] nearest, float[] similarity)
    {
        var d = Dimensions;
        Span<float> tile = stackalloc float[TileRows * PanelWidth];
        var panels = _panels.Length / (PanelWidth * d);
        for (var p = 0; p < panels; p++)
        {
            ref var panel = ref _panels[p * PanelWidth * d];
            var lanes = Math.Min(PanelWidth, Count - (p * PanelWidth));
            for (var t = 0; t < count; t += TileRows)
            {
                var rows = Math.Min(TileRows, count - t);

                // A short last tile repeats its last query in the spare rows; their results are not read.
                var q0 = first + t;
                Kernel(
                    ref queries[q0 * d],
                    ref queries[(q0 + Math.Min(1, rows - 1)) * d],
                    ref queries[(q0 + Math.Min(2, rows - 1)) * d],
                    ref queries[(q0 + Math.Min(3, rows - 1)) * d],
                    ref queries[(q0 + Math.Min(4, rows - 1)) * d],
                    ref queries[(q0 + Math.Min(5, rows - 1)) * d],
                    ref panel,
                    d,
                    tile);
                for (var r = 0; r < rows; r++)
                {
                    var q = q0 + r;
                    var best = similarity[q];
                    var index = -1;
                    for (var lane = 0; lane < lanes; lane++)
                    {
                        if (tile[(r * PanelWidth) + lane] > best)
                        {
                            best = tile[(r * PanelWidth) + lane];
                            index = lane;
                        }
                    }

                    if (index >= 0)
                    {
                        similarity[q] = best;
                        nearest[q] = (p * PanelWidth) + index;
                    }
                }
            }
        }
    }

    /// <summary>Six queries times one panel of 16 vectors: 12 accumulators in registers, one broadcast per query and dimension.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(ref float a0, ref float a1, ref float a2, ref float a3, ref float a4, ref float a5, ref float panel, int dimensions, Span<float> tile)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (var k = 0; k < dimensions; k++)
        {
            var offset = (nuint)(k * PanelWidth);
            var b0 = Vector256.LoadUnsafe(ref panel, offset);
            var b1 = Vector256.LoadUnsafe(ref panel, offset + 8);
            var a = Vector256.Create(Unsafe.Add(ref a0, k));
            c00 = Fma.MultiplyAdd(a, b0, c00);
            c01 = Fma.MultiplyAdd(a, b1, c01);
            a = Vector256.Create(Unsafe.Add(ref a1, k));
            c10 = Fma.MultiplyAdd(a, b0, c10);
            c11 = Fma.MultiplyAdd(a, b1, c11);
            a = Vector256.Create(Unsafe.Add(ref a2, k));
            c20 = Fma.MultiplyAdd(a, b0, c20);
            c21 = Fma.MultiplyAdd(a, b1, c21);
            a = Vector256.Create(Unsafe.Add(ref a3, k));
            c30 = Fma.MultiplyAdd(a, b0, c30);
            c31 = Fma.MultiplyAdd(a, b1, c31);
            a = Vector256.Create(Unsafe.Add(ref a4, k));
            c40 = Fma.MultiplyAdd(a, b0, c40);
            c41 = Fma.MultiplyAdd(a, b1, c41);
            a = Vector256.Create(Unsafe.Add(ref a5, k));
            c50 = Fma.MultiplyAdd(a, b0, c50);
            c51 = Fma.MultiplyAdd(a, b1, c51);
        }

        c00.CopyTo(tile);
        c01.CopyTo(tile[8..]);
        c10.CopyTo(tile[16..]);
        c11.CopyTo(tile[24..]);
        c20.CopyTo(tile[32..]);
        c21.CopyTo(tile[40..]);
        c30.CopyTo(tile[48..]);
        c31.CopyTo(tile[56..]);
        c40.CopyTo(tile[64..]);
        c41.CopyTo(tile[72..]);
        c50.CopyTo(tile[80..]);
        c51.CopyTo(tile[88..]);
    }
}
