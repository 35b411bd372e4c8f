using System.Numerics.Tensors;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Xunit;

namespace Recal.Embeddings.MiniLM.Tests;

/// <summary>The local MiniLM embedder on real CLINC150 queries (tens of texts: the model runs on the CPU).</summary>
public sealed class MiniLMEmbeddingGeneratorTests(SharedGenerator shared) : IClassFixture<SharedGenerator>
{
    // CLINC150 training queries: food_last, change_speed, credit_score, report_lost_card, flip_coin, meaning_of_life.
    private static readonly string[] Queries =
    [
        "when will my milk be no good",
        "what date does my apple juice expire",
        "you're speaking too fast, slow down",
        "can you speak slower please",
        "are you able to lookup my credit rating",
        "how do i look up my credit score",
        "i misplaced my visa and need it marked as lost",
        "can you report my td bank card as lost",
        "please flip a coin and tell me what side it lands on",
        "does life have meaning",
    ];

    private readonly MiniLMEmbeddingGenerator _generator = shared.Generator;

    [Fact]
    public async Task Vectors_have_384_unit_length_dimensions_and_the_id_names_the_model()
    {
        // Given the embedder
        // When it embeds a few queries
        var embeddings = await _generator.GenerateAsync(Queries, cancellationToken: TestContext.Current.CancellationToken);

        // Then each vector has 384 dimensions and unit length, and the id (the cache key) names the model and its dimensions
        embeddings.Should().HaveCount(Queries.Length);
        embeddings.Select(e => e.Vector.Length).Should().OnlyContain(n => n == 384);
        embeddings.Select(e => TensorPrimitives.Norm(e.Vector.Span)).Should().OnlyContain(norm => Math.Abs(norm - 1) < 1e-5);
        _generator.Id.Should().Be("minilm-v1/all-MiniLM-L6-v2/d384");
        _generator.GetService<EmbeddingGeneratorMetadata>()!.DefaultModelDimensions.Should().Be(384);
    }

    [Fact]
    public async Task Two_generators_give_the_same_bits_for_the_same_texts()
    {
        // Given a second generator with its own session
        using var other = new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { Workers = 1, ThreadsPerWorker = 2 });

        // When both embed the same queries, one of them twice
        var first = await _generator.GenerateAsync(Queries, cancellationToken: TestContext.Current.CancellationToken);
        var again = await _generator.GenerateAsync(Queries, cancellationToken: TestContext.Current.CancellationToken);
        var second = await other.GenerateAsync(Queries, cancellationToken: TestContext.Current.CancellationToken);

        // Then every vector is identical, whatever the threads
        for (var i = 0; i < Queries.Length; i++)
        {
            again[i].Vector.ToArray().Should().Equal(first[i].Vector.ToArray());
            second[i].Vector.ToArray().Should().Equal(first[i].Vector.ToArray());
        }
    }

    [Fact]
    public async Task A_paraphrase_in_other_words_is_nearer_than_a_query_of_another_intent()
    {
        // Given pairs of queries of one intent that share hardly a word, and a query of another intent for each
        (string Query, string Paraphrase, string Unrelated)[] triples =
        [
            ("when will my milk be no good", "what date does my apple juice expire", "can you speak slower please"),
            ("you're speaking too fast, slow down", "can you speak slower please", "when will my milk be no good"),
            ("are you able to lookup my credit rating", "how do i look up my credit score", "can you report my td bank card as lost"),
        ];

        foreach (var (query, paraphrase, unrelated) in triples)
        {
            // When all three are embedded
            var e = await _generator.GenerateAsync([query, paraphrase, unrelated], cancellationToken: TestContext.Current.CancellationToken);

            // Then the paraphrase is the nearer, by a margin
            var toParaphrase = TensorPrimitives.Dot(e[0].Vector.Span, e[1].Vector.Span);
            var toUnrelated = TensorPrimitives.Dot(e[0].Vector.Span, e[2].Vector.Span);
            toParaphrase.Should().BeGreaterThan(toUnrelated + 0.1f, $"'{query}' vs '{paraphrase}' and '{unrelated}'");
        }
    }

    [Fact]
    public async Task A_batch_gives_each_text_the_vector_it_gets_alone_whatever_the_chunk_and_batch_sizes()
    {
        // Given the queries with a repeat, a long text and a blank one, and a generator cutting them into tiny chunks and batches
        string[] texts = [.. Queries, Queries[0], string.Join(' ', Enumerable.Repeat("my card was declined at the store", 120)), "  \n "];
        using var small = new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { ChunkSize = 3, MaxBatchTokens = 512, Workers = 2 });

        // When they are embedded in one request, one by one, and by the other generator
        var batch = await _generator.GenerateAsync(texts, cancellationToken: TestContext.Current.CancellationToken);
        var chunked = await small.GenerateAsync(texts, cancellationToken: TestContext.Current.CancellationToken);
        var single = new List<float[]>();
        foreach (var text in texts)
        {
            single.Add((await _generator.GenerateAsync([text], cancellationToken: TestContext.Current.CancellationToken))[0].Vector.ToArray());
        }

        // Then every text has the same vector all three ways, and the blank text is the zero vector
        for (var i = 0; i < texts.Length; i++)
        {
            batch[i].Vector.ToArray().Should().Equal(single[i], $"text {i}");
            chunked[i].Vector.ToArray().Should().Equal(single[i], $"text {i}");
        }

        single[^1].Should().OnlyContain(x => x == 0);
    }

    [Fact]
    public async Task Newlines_and_runs_of_spaces_count_as_one_space()
    {
        // Given a chat-like text whose turns are joined by newlines
        // When it is embedded next to the same words on one line
        var e = await _generator.GenerateAsync(["freeze my card\nplease", " freeze   my card please "], cancellationToken: TestContext.Current.CancellationToken);

        // Then both have the same vector (the package's tokenizer would read "card\nplease" as one unknown word)
        e[0].Vector.ToArray().Should().Equal(e[1].Vector.ToArray());
    }

    [Fact]
    public async Task A_cancelled_request_stops_between_chunks_and_the_generator_still_works()
    {
        // Given a request of three chunks whose token is cancelled while the second chunk is read
        using var generator = new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { ChunkSize = 4 });
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        IEnumerable<string> Texts()
        {
            for (var i = 0; i < 12; i++)
            {
                if (i == 5)
                {
                    cancellation.Cancel();
                }

                yield return Queries[i % Queries.Length];
            }
        }

        // When it is embedded, and when an already cancelled token is given
        var stopped = async () => await generator.GenerateAsync(Texts(), cancellationToken: cancellation.Token);
        var refused = async () => await generator.GenerateAsync(Queries, cancellationToken: new CancellationToken(canceled: true));

        // Then both end with OperationCanceledException, and the next request is served
        await stopped.Should().ThrowAsync<OperationCanceledException>();
        await refused.Should().ThrowAsync<OperationCanceledException>();
        (await generator.GenerateAsync(Queries, cancellationToken: TestContext.Current.CancellationToken)).Should().HaveCount(Queries.Length);
    }

    [Fact]
    public async Task Asking_for_other_dimensions_is_a_programmer_error()
    {
        // Given the embedder (it has 384 dimensions and cannot shorten them)
        // When 256 are asked for
        var ask = async () => await _generator.GenerateAsync(Queries, new EmbeddingGenerationOptions { Dimensions = 256 }, TestContext.Current.CancellationToken);

        // Then it says so
        await ask.Should().ThrowAsync<ArgumentException>().WithMessage("*384 dimensions*256*");
    }
}
