using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Recal.Embeddings;

/// <summary>The similarity kernels of <see cref="NearestNeighbourIndex"/>; every one gives the same nearest vector.</summary>
public enum SearchKernel
{
    /// <summary>One dot product per pair (<see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>): any processor.</summary>
    Portable,

    /// <summary>6 queries × 16 vectors in 12 AVX2 FMA accumulators.</summary>
    Avx2,

    /// <summary>6 queries × 32 vectors in 12 AVX-512 FMA accumulators.</summary>
    Avx512,
}

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
/// block's queries stay in L2 across all panels. Blocks run in parallel. Where the processor has AVX-512 the kernel takes
/// two panels at once in 512-bit registers (6 queries × 32 vectors, 12 accumulators); without AVX2 and FMA the search
/// falls back to <see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> per pair over the same
/// blocks. A tile's similarities are scanned for a new best only where one of them beats the query's best so far.
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
        // An even number of panels, so the 512-bit kernel can always take two (padding vectors are zero and never read).
        var panels = (Count + PanelWidth - 1) / PanelWidth;
        panels += panels % 2;
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

    /// <summary>Whether this machine runs a register-blocked kernel (AVX2 and FMA, or AVX-512) or the portable fallback.</summary>
    public static bool IsVectorised => Best != SearchKernel.Portable;

    /// <summary>The fastest kernel this processor runs: AVX-512 where it has it, else AVX2 with FMA, else the portable one.</summary>
    public static SearchKernel Best { get; } =
        Avx512F.IsSupported ? SearchKernel.Avx512 : Avx.IsSupported && Fma.IsSupported ? SearchKernel.Avx2 : SearchKernel.Portable;

    /// <summary>Whether this processor runs <paramref name="kernel"/>.</summary>
    public static bool Supports(SearchKernel kernel) => kernel switch
    {
        SearchKernel.Avx512 => Avx512F.IsSupported,
        SearchKernel.Avx2 => Avx.IsSupported && Fma.IsSupported,
        _ => true,
    };

    /// <summary>
    /// For each of the <c>queries.Length / Dimensions</c> row-major queries, writes the index of the most similar vector
    /// (−1 when the index is empty) and the similarity (−∞ then).
    /// </summary>
    /// <param name="maxDegreeOfParallelism">Threads to use; −1 for all cores.</param>
    public void Search(float[] queries, int[] nearest, float[] similarity, int maxDegreeOfParallelism = -1) =>
        Search(queries, nearest, similarity, maxDegreeOfParallelism, Best);

    /// <summary>The search with the kernel chosen by the caller, so tests and benchmarks can set them side by side.</summary>
    public void Search(float[] queries, int[] nearest, float[] similarity, int maxDegreeOfParallelism, SearchKernel kernel)
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

        if (!Supports(kernel))
        {
            throw new PlatformNotSupportedException($"this processor does not run the {kernel} kernel");
        }

        var blocks = (queryCount + BlockQueries - 1) / BlockQueries;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism };
        Parallel.For(0, blocks, options, block =>
        {
            var first = block * BlockQueries;
            var count = Math.Min(BlockQueries, queryCount - first);
            switch (kernel)
            {
                case SearchKernel.Avx512:
                    SearchBlock512(queries, first, count, nearest, similarity);
                    break;
                case SearchKernel.Avx2:
                    SearchBlockVectorised(queries, first, count, nearest, similarity);
                    break;
                default:
                    SearchBlockPortable(queries, first, count, nearest, similarity);
                    break;
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
        var panels = (Count + PanelWidth - 1) / PanelWidth;
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
                    Fold(tile.Slice(r * PanelWidth, PanelWidth), lanes, p * PanelWidth, q0 + r, nearest, similarity);
                }
            }
        }
    }

    private void SearchBlock512(float[] queries, int first, int count, int[] nearest, float[] similarity)
    {
        const int Width = 2 * PanelWidth;
        var d = Dimensions;
        Span<float> tile = stackalloc float[TileRows * Width];
        var pairs = (Count + Width - 1) / Width;
        for (var p = 0; p < pairs; p++)
        {
            ref var panel = ref _panels[2 * p * PanelWidth * d];
            var lanes = Math.Min(Width, Count - (p * Width));
            for (var t = 0; t < count; t += TileRows)
            {
                var rows = Math.Min(TileRows, count - t);

                // A short last tile repeats its last query in the spare rows; their results are not read.
                var q0 = first + t;
                Kernel512(
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
                    var row = tile.Slice(r * Width, Width);

                    // Most tiles hold no new best once the first panels are done: two compares skip the scan.
                    // (The padding lanes hold 0 and are never taken: the scan stops at the last real vector.)
                    var threshold = Vector512.Create(similarity[q0 + r]);
                    if (Vector512.GreaterThanAny(Vector512.Create(row), threshold) || Vector512.GreaterThanAny(Vector512.Create(row[PanelWidth..]), threshold))
                    {
                        Fold(row, lanes, p * Width, q0 + r, nearest, similarity);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Folds one query's similarities to <paramref name="lanes"/> vectors from <paramref name="firstVector"/> on into
    /// its running best: the first strictly greater one wins, so ties keep the lowest index.
    /// </summary>
    private static void Fold(ReadOnlySpan<float> row, int lanes, int firstVector, int q, int[] nearest, float[] similarity)
    {
        var best = similarity[q];
        var index = -1;
        for (var lane = 0; lane < lanes; lane++)
        {
            if (row[lane] > best)
            {
                best = row[lane];
                index = lane;
            }
        }

        if (index >= 0)
        {
            similarity[q] = best;
            nearest[q] = firstVector + index;
        }
    }

    /// <summary>
    /// Six queries times two panels of 16 vectors in 512-bit registers: 12 accumulators, two loads (one per panel, each
    /// read in order) and six broadcasts per dimension.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel512(ref float a0, ref float a1, ref float a2, ref float a3, ref float a4, ref float a5, ref float panels, int dimensions, Span<float> tile)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        ref var second = ref Unsafe.Add(ref panels, PanelWidth * dimensions);
        for (var k = 0; k < dimensions; k++)
        {
            var offset = (nuint)(k * PanelWidth);
            var b0 = Vector512.LoadUnsafe(ref panels, offset);
            var b1 = Vector512.LoadUnsafe(ref second, offset);
            var a = Vector512.Create(Unsafe.Add(ref a0, k));
            c00 = Avx512F.FusedMultiplyAdd(a, b0, c00);
            c01 = Avx512F.FusedMultiplyAdd(a, b1, c01);
            a = Vector512.Create(Unsafe.Add(ref a1, k));
            c10 = Avx512F.FusedMultiplyAdd(a, b0, c10);
            c11 = Avx512F.FusedMultiplyAdd(a, b1, c11);
            a = Vector512.Create(Unsafe.Add(ref a2, k));
            c20 = Avx512F.FusedMultiplyAdd(a, b0, c20);
            c21 = Avx512F.FusedMultiplyAdd(a, b1, c21);
            a = Vector512.Create(Unsafe.Add(ref a3, k));
            c30 = Avx512F.FusedMultiplyAdd(a, b0, c30);
            c31 = Avx512F.FusedMultiplyAdd(a, b1, c31);
            a = Vector512.Create(Unsafe.Add(ref a4, k));
            c40 = Avx512F.FusedMultiplyAdd(a, b0, c40);
            c41 = Avx512F.FusedMultiplyAdd(a, b1, c41);
            a = Vector512.Create(Unsafe.Add(ref a5, k));
            c50 = Avx512F.FusedMultiplyAdd(a, b0, c50);
            c51 = Avx512F.FusedMultiplyAdd(a, b1, c51);
        }

        c00.CopyTo(tile);
        c01.CopyTo(tile[16..]);
        c10.CopyTo(tile[32..]);
        c11.CopyTo(tile[48..]);
        c20.CopyTo(tile[64..]);
        c21.CopyTo(tile[80..]);
        c30.CopyTo(tile[96..]);
        c31.CopyTo(tile[112..]);
        c40.CopyTo(tile[128..]);
        c41.CopyTo(tile[144..]);
        c50.CopyTo(tile[160..]);
        c51.CopyTo(tile[176..]);
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
