using System.Numerics.Tensors;

namespace Recal.Benchmarks;

/// <summary>
/// A linear head over embeddings: multinomial logistic regression trained by deterministic SGD on unit-length vectors,
/// unknown below the taxonomy's default confidence of 0.3, as the built-in classifier decides.
/// </summary>
internal sealed class EmbeddingLogisticRegression
{
    public const float DefaultL2 = 1e-5f;

    private const int Epochs = 60;
    private const double UnknownBelow = 0.3;

    private readonly string[] _classes;
    private readonly float[] _weights;
    private readonly float[] _bias;
    private readonly int _dimensions;

    private EmbeddingLogisticRegression(string[] classes, float[] weights, float[] bias, int dimensions)
    {
        _classes = classes;
        _weights = weights;
        _bias = bias;
        _dimensions = dimensions;
    }

    public static EmbeddingLogisticRegression Train(float[] vectors, int dimensions, IReadOnlyList<string> labels, float l2 = DefaultL2, int seed = 17)
    {
        var classes = labels.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var classOf = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        var k = classes.Length;
        var weights = new float[k * dimensions];
        var bias = new float[k];
        var scores = new float[k];
        var order = Enumerable.Range(0, labels.Count).ToArray();
        var random = new Random(seed);
        var model = new EmbeddingLogisticRegression(classes, weights, bias, dimensions);
        var step = 0;
        for (var epoch = 0; epoch < Epochs; epoch++)
        {
            random.Shuffle(order);
            foreach (var n in order)
            {
                var x = vectors.AsSpan(n * dimensions, dimensions);
                var rate = 2.0f / (1 + (0.05f * step++ / labels.Count));
                model.Scores(x, scores);
                Softmax(scores);
                scores[classOf[labels[n]]] -= 1;
                for (var c = 0; c < k; c++)
                {
                    var row = weights.AsSpan(c * dimensions, dimensions);
                    TensorPrimitives.Multiply(row, 1 - (rate * l2), row);
                    TensorPrimitives.MultiplyAdd(x, -rate * scores[c], row, row);
                }

                TensorPrimitives.MultiplyAdd(scores, -rate * 0.1f, bias, bias);
            }
        }

        return model;
    }

    public (string Intent, bool Unknown)[] Predict(float[] vectors)
    {
        var count = vectors.Length / _dimensions;
        var result = new (string, bool)[count];
        var scores = new float[_classes.Length];
        for (var n = 0; n < count; n++)
        {
            Scores(vectors.AsSpan(n * _dimensions, _dimensions), scores);
            Softmax(scores);
            var best = TensorPrimitives.IndexOfMax(scores);
            result[n] = (_classes[best], scores[best] < UnknownBelow);
        }

        return result;
    }

    private void Scores(ReadOnlySpan<float> x, Span<float> scores)
    {
        for (var c = 0; c < scores.Length; c++)
        {
            scores[c] = _bias[c] + TensorPrimitives.Dot(x, _weights.AsSpan(c * _dimensions, _dimensions));
        }
    }

    private static void Softmax(Span<float> scores)
    {
        var max = TensorPrimitives.Max(scores);
        TensorPrimitives.Subtract(scores, max, scores);
        TensorPrimitives.Exp(scores, scores);
        TensorPrimitives.Divide(scores, TensorPrimitives.Sum(scores), scores);
    }
}
