using FluentAssertions;
using Microsoft.Extensions.AI;
using Recal.Core.Tests.Drift;
using Recal.Embeddings;
using Xunit;

namespace Recal.Core.Tests.Embeddings;

public sealed class CachedEmbeddingGeneratorTests
{
    [Fact]
    public async Task Each_distinct_text_is_computed_once_ever_and_served_from_the_store_afterwards()
    {
        // Given an embedder that counts the texts it is asked for, behind the cache
        var inner = new CountingEmbedder();
        var store = new InMemoryStore();
        var cached = new CachedEmbeddingGenerator(inner, store, "counting-v1", batchSize: 2);

        // When a request repeats texts, and a second request shares some of them
        var first = await cached.GenerateAsync(["a", "bb", "a", "ccc", "bb"], cancellationToken: TestContext.Current.CancellationToken);
        var second = await cached.GenerateAsync(["ccc", "dddd", "a"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the inner embedder saw each distinct text once, in batches, and every answer is in request order
        inner.Seen.Should().Equal("a", "bb", "ccc", "dddd");
        inner.Requests.Should().Be(3);
        first.Select(e => e.Vector.Span[0]).Should().Equal(1, 2, 1, 3, 2);
        second.Select(e => e.Vector.Span[0]).Should().Equal(3, 4, 1);
        cached.Computed.Should().Be(4);
        cached.CacheHits.Should().Be(2);
        store.CachedEmbeddings.Should().Be(4);
    }

    [Fact]
    public async Task A_new_generator_on_the_same_store_computes_nothing_already_cached()
    {
        // Given texts embedded once through the cache
        var store = new InMemoryStore();
        await new CachedEmbeddingGenerator(new CountingEmbedder(), store, "counting-v1").GenerateAsync(["x", "yy"], cancellationToken: TestContext.Current.CancellationToken);

        // When another process asks again for them, and a different embedder id asks for one
        var again = new CountingEmbedder();
        var other = new CountingEmbedder();
        var vectors = await new CachedEmbeddingGenerator(again, store, "counting-v1").GenerateAsync(["yy", "x"], cancellationToken: TestContext.Current.CancellationToken);
        await new CachedEmbeddingGenerator(other, store, "counting-v2").GenerateAsync(["x"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the same embedder is never asked, and the other one is: vectors never cross embedders
        again.Seen.Should().BeEmpty();
        vectors.Select(e => e.Vector.Span[0]).Should().Equal(2, 1);
        other.Seen.Should().Equal("x");
    }

    [Fact]
    public async Task An_embedder_that_returns_the_wrong_number_of_vectors_is_an_error_and_nothing_is_cached()
    {
        var store = new InMemoryStore();
        var cached = new CachedEmbeddingGenerator(new CountingEmbedder { Drop = 1 }, store, "broken");

        var act = () => cached.GenerateAsync(["a", "b"], cancellationToken: TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<InvalidOperationException>().WithMessage("*1 vectors for 2 texts*");
        store.CachedEmbeddings.Should().Be(0);
    }

    /// <summary>Embeds a text as [its length, 0]; records every text it is asked for.</summary>
    private sealed class CountingEmbedder : IEmbeddingGenerator<string, Embedding<float>>
    {
        public List<string> Seen { get; } = [];

        public int Requests { get; private set; }

        public int Drop { get; init; }

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            Requests++;
            var texts = values.ToList();
            Seen.AddRange(texts);
            return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(texts.Skip(Drop).Select(t => new Embedding<float>(new float[] { t.Length, 0 }))));
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
