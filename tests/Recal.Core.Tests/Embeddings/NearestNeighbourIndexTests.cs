using FluentAssertions;
using Recal.Embeddings;
using Xunit;

namespace Recal.Core.Tests.Embeddings;

public sealed class NearestNeighbourIndexTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 },
        { 7, 5, 3 },
        { 97, 17, 33 },
        { 500, 301, 256 },
        { 1000, 40, 20 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Finds_the_same_nearest_vector_as_a_double_loop_with_every_kernel_and_any_thread_count(int queries, int vectors, int dimensions)
    {
        // Given random unit vectors, and shapes that leave partial panels, tiles and blocks
        var random = new Random((queries * 31) + vectors);
        var data = RandomUnitVectors(random, vectors, dimensions);
        var query = RandomUnitVectors(random, queries, dimensions);
        var index = new NearestNeighbourIndex(data, dimensions);
        var (expectedIndex, expectedSimilarity) = Naive(query, data, dimensions);

        // When the index searches with every kernel this machine has, on one thread and on all
        foreach (var kernel in Enum.GetValues<SearchKernel>().Where(NearestNeighbourIndex.Supports))
        {
            foreach (var threads in new[] { 1, -1 })
            {
                var nearest = new int[queries];
                var similarity = new float[queries];
                index.Search(query, nearest, similarity, threads, kernel);

                // Then every query gets the naive maximum (up to float rounding, which may only swap near-ties)
                for (var q = 0; q < queries; q++)
                {
                    similarity[q].Should().BeApproximately((float)expectedSimilarity[q], 1e-5f, $"query {q}, kernel {kernel}");
                    Dot(query, q, data, nearest[q], dimensions).Should().BeApproximately(expectedSimilarity[q], 1e-5, $"query {q}, kernel {kernel}");
                }

                Enumerable.Range(0, queries).Count(q => nearest[q] != expectedIndex[q]).Should().BeLessThanOrEqualTo((queries / 100) + 1);
            }
        }
    }

    [Fact]
    public void Ties_go_to_the_lowest_index_and_results_are_bit_identical_across_thread_counts()
    {
        // Given 40 copies of one vector among others, and queries equal to it
        var random = new Random(5);
        const int dimensions = 24;
        var data = RandomUnitVectors(random, 100, dimensions);
        for (var copy = 30; copy < 70; copy++)
        {
            Array.Copy(data, 0, data, copy * dimensions, dimensions);
        }

        var queries = RandomUnitVectors(random, 200, dimensions);
        Array.Copy(data, 0, queries, 0, dimensions);
        var index = new NearestNeighbourIndex(data, dimensions);

        // When it is searched on one thread and on all
        var (single, singleSimilarity) = index.Search(queries, 1);
        var (parallel, parallelSimilarity) = index.Search(queries);

        // Then the copy with the lowest index wins, and both runs agree to the bit
        single[0].Should().Be(0);
        parallel.Should().Equal(single);
        parallelSimilarity.Should().Equal(singleSimilarity);
    }

    [Fact]
    public void An_empty_index_finds_nothing()
    {
        var index = new NearestNeighbourIndex([], 8);

        var (nearest, similarity) = index.Search(new float[16]);

        nearest.Should().Equal(-1, -1);
        similarity.Should().OnlyContain(s => float.IsNegativeInfinity(s));
    }

    [Fact]
    public void Vectors_that_are_not_a_whole_number_of_rows_are_refused()
    {
        var act = () => new NearestNeighbourIndex(new float[10], 4);

        act.Should().Throw<ArgumentException>().WithMessage("*10 floats*4-dimensional*");
    }

    private static float[] RandomUnitVectors(Random random, int count, int dimensions)
    {
        var data = new float[count * dimensions];
        for (var v = 0; v < count; v++)
        {
            var row = data.AsSpan(v * dimensions, dimensions);
            for (var k = 0; k < dimensions; k++)
            {
                row[k] = (float)((random.NextDouble() * 2) - 1);
            }

            var norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(row));
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }

        return data;
    }

    private static (int[] Index, double[] Similarity) Naive(float[] queries, float[] data, int dimensions)
    {
        var count = queries.Length / dimensions;
        var index = new int[count];
        var similarity = new double[count];
        for (var q = 0; q < count; q++)
        {
            similarity[q] = double.NegativeInfinity;
            for (var v = 0; v < data.Length / dimensions; v++)
            {
                var s = Dot(queries, q, data, v, dimensions);
                if (s > similarity[q])
                {
                    similarity[q] = s;
                    index[q] = v;
                }
            }
        }

        return (index, similarity);
    }

    private static double Dot(float[] a, int row, float[] b, int other, int dimensions)
    {
        double sum = 0;
        for (var k = 0; k < dimensions; k++)
        {
            sum += (double)a[(row * dimensions) + k] * b[(other * dimensions) + k];
        }

        return sum;
    }
}
