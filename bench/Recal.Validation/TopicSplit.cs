using System.Numerics.Tensors;
using Recal.Embeddings;

namespace Recal.Validation;

/// <summary>
/// Splits one intent's queries into two sub-topics by seeded spherical 2-means on the built-in embedder's vectors:
/// two ways of asking within one intent (for <c>transfer</c>: "send fifty dollars from me to carrie" against "transfer ten
/// dollars from my bank of america account to my capital one account"). The within-intent scenarios show the gold set
/// one part and later traffic the other.
/// </summary>
public static class TopicSplit
{
    private const int Iterations = 25;

    private static readonly HashedEmbeddingGenerator Embedder = new();

    public static (List<string> First, List<string> Second) Split(IReadOnlyList<string> texts, int seed)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var vectors = texts.Select(Embedder.Embed).ToArray();
        var random = new Random(seed);

        // k-means++ seeding: the second centre is drawn in proportion to the squared distance from the first.
        var first = vectors[random.Next(vectors.Length)];
        var distances = vectors.Select(v => Math.Max(0, 2 - (2 * TensorPrimitives.Dot(v, first)))).ToArray();
        var roll = random.NextDouble() * distances.Sum();
        var second = vectors[^1];
        for (var i = 0; i < vectors.Length; i++)
        {
            if ((roll -= distances[i]) <= 0)
            {
                second = vectors[i];
                break;
            }
        }

        var centres = new[] { (float[])first.Clone(), (float[])second.Clone() };
        var assignment = new int[vectors.Length];
        for (var iteration = 0; iteration < Iterations; iteration++)
        {
            var changed = false;
            for (var i = 0; i < vectors.Length; i++)
            {
                var nearest = TensorPrimitives.Dot(vectors[i], centres[0]) >= TensorPrimitives.Dot(vectors[i], centres[1]) ? 0 : 1;
                changed |= nearest != assignment[i];
                assignment[i] = nearest;
            }

            for (var c = 0; c < 2; c++)
            {
                var sum = new float[Embedder.Dimensions];
                for (var i = 0; i < vectors.Length; i++)
                {
                    if (assignment[i] == c)
                    {
                        TensorPrimitives.Add(sum, vectors[i], sum);
                    }
                }

                var norm = TensorPrimitives.Norm(sum);
                if (norm > 0)
                {
                    TensorPrimitives.Divide(sum, norm, sum);
                    centres[c] = sum;
                }
            }

            if (!changed && iteration > 0)
            {
                break;
            }
        }

        return ([.. texts.Where((_, i) => assignment[i] == 0)], [.. texts.Where((_, i) => assignment[i] == 1)]);
    }
}
