using System.Diagnostics;
using FluentAssertions;
using Recal.Core.Tests.Classification;
using Recal.Embeddings;
using Xunit;

namespace Recal.Core.Tests.Embeddings;

/// <summary>Quality of the built-in embedder on CLINC150's held-out test split (figures in docs/embeddings.md).</summary>
public sealed class EmbeddingQualityTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(20, 0.66)]
    [InlineData(100, 0.80)]
    public void Nearest_training_query_of_a_held_out_query_mostly_has_its_intent(int examplesPerIntent, double floor)
    {
        // Given the first N training queries of each of CLINC150's 150 intents, embedded by the built-in embedder
        var data = Clinc150.Data;
        var embedder = new HashedEmbeddingGenerator();
        var train = data.Train.Where(r => r.Intent != Clinc150.OutOfScope).GroupBy(r => r.Intent).SelectMany(g => g.Take(examplesPerIntent)).ToList();
        var test = data.Test.Where(r => r.Intent != Clinc150.OutOfScope).ToList();
        var watch = Stopwatch.StartNew();
        var index = new NearestNeighbourIndex(Flatten(embedder, train.Select(r => r.Text)), embedder.Dimensions);
        var queries = Flatten(embedder, test.Select(r => r.Text));
        var embedSeconds = watch.Elapsed.TotalSeconds;

        // When each of the 4,500 held-out in-scope queries finds its nearest training query
        var (nearest, _) = index.Search(queries);

        // Then that query has the held-out query's intent most of the time
        var agreement = Enumerable.Range(0, test.Count).Count(i => train[nearest[i]].Intent == test[i].Intent) / (double)test.Count;
        output.WriteLine($"{train.Count} training queries; embedding {train.Count + test.Count} texts took {embedSeconds:0.00}s");
        output.WriteLine($"nearest training query has the intent: {agreement:0.0000}");
        agreement.Should().BeGreaterThan(floor);
    }

    private static float[] Flatten(HashedEmbeddingGenerator embedder, IEnumerable<string> texts)
    {
        var list = texts.ToList();
        var flat = new float[list.Count * embedder.Dimensions];
        for (var i = 0; i < list.Count; i++)
        {
            embedder.Embed(list[i], flat.AsSpan(i * embedder.Dimensions, embedder.Dimensions));
        }

        return flat;
    }
}
