using System.Text.Json;
using FluentAssertions;
using Recal.Embeddings;
using Xunit;

namespace Recal.Core.Tests.Embeddings;

/// <summary>Spherical k-means, k-means++ seeding, and the silhouette checked against scikit-learn (Fixtures/generate_silhouette.py).</summary>
public sealed class SphericalKMeansTests
{
    private static readonly JsonElement SilhouetteCases =
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "silhouette.json"))).RootElement.GetProperty("cases");

    [Fact]
    public void The_silhouette_under_cosine_distance_matches_scikit_learn()
    {
        foreach (var c in SilhouetteCases.EnumerateArray())
        {
            // Given scikit-learn's points and labels (a singleton, a zero vector, unnormalised vectors among them)
            var dimensions = c.GetProperty("dimensions").GetInt32();
            var points = c.GetProperty("points").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(x => (float)x.GetDouble())).ToArray();
            var labels = c.GetProperty("labels").EnumerateArray().Select(l => l.GetInt32()).ToArray();

            // When the silhouette is computed from the cosine distances
            var distances = Silhouette.CosineDistances(points, dimensions);
            var samples = Silhouette.Samples(distances, labels);

            // Then the mean and every point's value agree with silhouette_score and silhouette_samples
            var name = c.GetProperty("name").GetString();
            Silhouette.Mean(distances, labels).Should().BeApproximately(c.GetProperty("mean").GetDouble(), 2e-5, name);
            samples.Should().HaveCount(labels.Length);
            var expected = c.GetProperty("samples").EnumerateArray().Select(s => s.GetDouble()).ToArray();
            for (var i = 0; i < samples.Length; i++)
            {
                samples[i].Should().BeApproximately(expected[i], 1e-4, $"{name}, point {i}");
            }
        }
    }

    [Fact]
    public void The_silhouette_is_undefined_for_one_cluster_or_one_cluster_per_point()
    {
        var distances = Silhouette.CosineDistances([1, 0, 0, 1, 1, 1], 2);

        var one = () => Silhouette.Mean(distances, [0, 0, 0]);
        var each = () => Silhouette.Mean(distances, [0, 1, 2]);

        one.Should().Throw<ArgumentException>().WithMessage("*between 2 and 2 clusters*");
        each.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void K_means_recovers_well_separated_clusters()
    {
        // Given 4 clusters of 50 unit vectors each around random centres in 32 dimensions, shuffled
        var (points, truth) = Blobs(new Random(3), clusters: 4, perCluster: 50, dimensions: 32, spread: 0.15);

        // When they are clustered into 4
        var result = SphericalKMeans.Cluster(points, 32, 4, seed: 0);

        // Then every cluster is exactly one true cluster, the centroids are unit vectors, and the search converged
        result.Converged.Should().BeTrue();
        Enumerable.Range(0, truth.Length).GroupBy(i => result.Assignments[i])
            .Should().HaveCount(4).And.OnlyContain(g => g.Select(i => truth[i]).Distinct().Count() == 1 && g.Count() == 50);
        for (var c = 0; c < 4; c++)
        {
            System.Numerics.Tensors.TensorPrimitives.Norm(result.Centroids.AsSpan(c * 32, 32)).Should().BeApproximately(1, 1e-5f);
        }

        result.Similarity.Should().OnlyContain(s => s > 0.8f);
    }

    [Fact]
    public void The_same_seed_gives_the_same_clusters_and_another_seed_its_own_start()
    {
        // Given overlapping clusters, where the start matters
        var (points, _) = Blobs(new Random(5), clusters: 6, perCluster: 40, dimensions: 16, spread: 0.9);

        // When they are clustered twice with seed 1 and once with seed 2
        var first = SphericalKMeans.Cluster(points, 16, 6, seed: 1);
        var again = SphericalKMeans.Cluster(points, 16, 6, seed: 1);
        var other = SphericalKMeans.Cluster(points, 16, 6, seed: 2);

        // Then the same seed repeats itself exactly; another seed starts from other points
        again.Assignments.Should().Equal(first.Assignments);
        again.Centroids.Should().Equal(first.Centroids);
        SphericalKMeans.PlusPlus(points, 16, 6, new Random(2)).Should().NotEqual(SphericalKMeans.PlusPlus(points, 16, 6, new Random(1)));
        other.Assignments.Should().HaveCount(points.Length / 16);
    }

    [Fact]
    public void K_means_plus_plus_spreads_its_picks_over_the_clusters_and_never_repeats_a_point()
    {
        // Given 5 tight clusters, and duplicated points
        var (points, truth) = Blobs(new Random(8), clusters: 5, perCluster: 30, dimensions: 24, spread: 0.05);
        var duplicated = Enumerable.Repeat(new float[] { 1, 0 }, 10).SelectMany(p => p).ToArray();

        // When 5 seeds are drawn, and then all ten copies of one point
        var picks = SphericalKMeans.PlusPlus(points, 24, 5, new Random(0));
        var copies = SphericalKMeans.PlusPlus(duplicated, 2, 10, new Random(0));

        // Then one pick falls in each cluster, and the copies are each picked once
        picks.Select(p => truth[p]).Should().OnlyHaveUniqueItems();
        copies.Should().BeEquivalentTo(Enumerable.Range(0, 10));
    }

    [Fact]
    public void The_silhouette_chooses_the_number_of_clusters_the_data_has()
    {
        // Given 5 well-separated clusters
        var (points, _) = Blobs(new Random(13), clusters: 5, perCluster: 30, dimensions: 32, spread: 0.2);

        // When k from 2 to 10 is compared
        var choice = SphericalKMeans.ChooseK(points, 32, Silhouette.CosineDistances(points, 32), maxK: 10, seed: 0);

        // Then 5 has the highest silhouette
        choice.K.Should().Be(5);
        choice.Scores.Select(s => s.K).Should().Equal(Enumerable.Range(2, 9));
        choice.Scores.Single(s => s.K == 5).Silhouette.Should().BeGreaterThan(0.5);
    }

    [Fact]
    public void A_subsample_is_seeded_sorted_and_without_repeats()
    {
        var first = SphericalKMeans.Subsample(1000, 100, 4);

        first.Should().HaveCount(100).And.OnlyHaveUniqueItems().And.BeInAscendingOrder();
        SphericalKMeans.Subsample(1000, 100, 4).Should().Equal(first);
        SphericalKMeans.Subsample(1000, 100, 5).Should().NotEqual(first);
        SphericalKMeans.Subsample(50, 100, 4).Should().Equal(Enumerable.Range(0, 50));
    }

    /// <summary>Unit vectors scattered around random unit centres, shuffled; with each point's true cluster.</summary>
    private static (float[] Points, int[] Truth) Blobs(Random random, int clusters, int perCluster, int dimensions, double spread)
    {
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, dimensions).Select(_ => Gaussian(random)).ToArray()).ToArray();
        var rows = new List<(float[] Vector, int Cluster)>();
        for (var c = 0; c < clusters; c++)
        {
            for (var i = 0; i < perCluster; i++)
            {
                var v = centres[c].Select(x => (float)(x + (spread * Gaussian(random)))).ToArray();
                var norm = System.Numerics.Tensors.TensorPrimitives.Norm(v);
                rows.Add((v.Select(x => x / norm).ToArray(), c));
            }
        }

        var shuffled = rows.OrderBy(_ => random.Next()).ToList();
        return ([.. shuffled.SelectMany(r => r.Vector)], [.. shuffled.Select(r => r.Cluster)]);
    }

    private static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
