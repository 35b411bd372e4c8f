using System.Numerics.Tensors;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Recal.Embeddings;
using Xunit;

namespace Recal.Core.Tests.Embeddings;

public sealed class HashedEmbeddingGeneratorTests
{
    [Fact]
    public async Task Vectors_have_unit_length_and_the_same_text_always_gives_the_same_vector()
    {
        // Given two embedders with the same parameters
        var first = new HashedEmbeddingGenerator();
        var second = new HashedEmbeddingGenerator();

        // When each embeds the same texts
        var a = await first.GenerateAsync(["freeze my card please", "What's my balance?"], cancellationToken: TestContext.Current.CancellationToken);
        var b = await second.GenerateAsync(["freeze my card please", "What's my balance?"], cancellationToken: TestContext.Current.CancellationToken);

        // Then the vectors are bit-identical and L2-normalised, with the default dimensions
        a.Should().HaveCount(2);
        a.Select(e => e.Vector.ToArray()).Should().BeEquivalentTo(b.Select(e => e.Vector.ToArray()), o => o.WithStrictOrdering());
        a.Select(e => e.Dimensions).Should().Equal(256, 256);
        a.Select(e => TensorPrimitives.Norm(e.Vector.ToArray())).Should().OnlyContain(n => Math.Abs(n - 1) < 1e-5);
        a[0].ModelId.Should().Be(first.Id);
    }

    [Fact]
    public void A_paraphrase_is_closer_than_an_unrelated_query_and_case_and_punctuation_do_not_matter()
    {
        // Given the built-in embedder
        var embedder = new HashedEmbeddingGenerator();

        // When it embeds a query, its paraphrase, the same words shouted, and an unrelated query
        var query = embedder.Embed("please freeze my credit card");
        var paraphrase = embedder.Embed("can you freeze my card");
        var shouted = embedder.Embed("PLEASE, freeze my credit card!!");
        var unrelated = embedder.Embed("book a flight to paris next week");

        // Then the paraphrase is far closer than the unrelated query, and case and punctuation change nothing
        var near = TensorPrimitives.Dot(query, paraphrase);
        var far = TensorPrimitives.Dot(query, unrelated);
        near.Should().BeGreaterThan(0.5f);
        far.Should().BeLessThan(0.25f);
        TensorPrimitives.Dot(query, shouted).Should().BeApproximately(1f, 1e-5f);
    }

    [Fact]
    public void A_text_without_words_embeds_as_zeros_and_similar_to_nothing()
    {
        var embedder = new HashedEmbeddingGenerator(dimensions: 64);

        var vector = embedder.Embed(" ?! ... ");

        vector.Should().HaveCount(64).And.OnlyContain(v => v == 0);
    }

    [Fact]
    public void The_id_names_the_version_and_every_parameter_that_changes_the_vectors()
    {
        var standard = new HashedEmbeddingGenerator();
        var wide = new HashedEmbeddingGenerator(dimensions: 512);
        var wordy = new HashedEmbeddingGenerator(wordShare: 0.5f);

        standard.Id.Should().Be($"recal-hashed-v{HashedEmbeddingGenerator.FormatVersion}/d256/w0.2");
        new[] { standard.Id, wide.Id, wordy.Id }.Should().OnlyHaveUniqueItems();
        standard.GetService(typeof(EmbeddingGeneratorMetadata)).Should().BeOfType<EmbeddingGeneratorMetadata>()
            .Which.DefaultModelDimensions.Should().Be(256);
    }

    [Fact]
    public void Words_and_characters_are_weighed_as_the_word_share_says()
    {
        // Given embedders that use only character n-grams and only words
        var characters = new HashedEmbeddingGenerator(dimensions: 4096, wordShare: 0);
        var words = new HashedEmbeddingGenerator(dimensions: 4096, wordShare: 1);

        // When they compare two spellings of one word
        var characterSimilarity = TensorPrimitives.Dot(characters.Embed("transfer"), characters.Embed("transfers"));
        var wordSimilarity = TensorPrimitives.Dot(words.Embed("transfer"), words.Embed("transfers"));

        // Then character n-grams see the shared stem and whole words do not
        characterSimilarity.Should().BeGreaterThan(0.6f);
        wordSimilarity.Should().BeLessThan(0.1f);
    }

    [Fact]
    public async Task Asking_for_other_dimensions_than_the_embedder_has_is_refused()
    {
        var embedder = new HashedEmbeddingGenerator();

        var act = () => embedder.GenerateAsync(["hi"], new EmbeddingGenerationOptions { Dimensions = 128 }, TestContext.Current.CancellationToken);

        await act.Should().ThrowAsync<ArgumentException>().WithMessage("*256 dimensions*128*");
    }

    [Fact]
    public async Task Large_requests_embedded_in_parallel_match_one_at_a_time()
    {
        // Given more texts than the embedder embeds serially
        var embedder = new HashedEmbeddingGenerator();
        var texts = Enumerable.Range(0, 2000).Select(i => $"query number {i} about card {i % 17}").ToList();

        // When they are embedded in one request
        var batch = await embedder.GenerateAsync(texts, cancellationToken: TestContext.Current.CancellationToken);

        // Then each vector is the one the text gets alone, in request order
        batch.Should().HaveCount(texts.Count);
        Enumerable.Range(0, texts.Count).Where(i => !batch[i].Vector.Span.SequenceEqual(embedder.Embed(texts[i]))).Should().BeEmpty();
    }
}
