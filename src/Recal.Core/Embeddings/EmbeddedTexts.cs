using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace Recal.Embeddings;

/// <summary>
/// The vectors of a set of texts, each distinct text embedded once in one request (a cache in front of the embedder
/// answers what it has seen before), handed out as row-major matrices of unit rows so a dot product is the cosine.
/// </summary>
public sealed class EmbeddedTexts
{
    private readonly Dictionary<string, int> _row;
    private readonly GeneratedEmbeddings<Embedding<float>> _generated;

    private EmbeddedTexts(Dictionary<string, int> row, GeneratedEmbeddings<Embedding<float>> generated, int dimensions)
    {
        _row = row;
        _generated = generated;
        Dimensions = dimensions;
    }

    public int Dimensions { get; }

    /// <summary>Embeds the distinct texts among <paramref name="texts"/>; or says what the embedder returned wrong.</summary>
    public static async ValueTask<(EmbeddedTexts? Embedded, string? Problem)> EmbedAsync(
        IEnumerable<string> texts, IEmbeddingGenerator<string, Embedding<float>> embedder, string embedderId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(embedder);
        var distinct = texts.Distinct(StringComparer.Ordinal).ToList();
        var generated = await embedder.GenerateAsync(distinct, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (generated.Count != distinct.Count || generated.Count == 0 || generated.Any(e => e.Vector.Length != generated[0].Vector.Length) || generated[0].Vector.Length == 0)
        {
            return (null, $"the embedder {embedderId} returned {generated.Count} vectors of unequal or zero length for {distinct.Count} texts");
        }

        var row = new Dictionary<string, int>(distinct.Count, StringComparer.Ordinal);
        for (var i = 0; i < distinct.Count; i++)
        {
            row[distinct[i]] = i;
        }

        return (new EmbeddedTexts(row, generated, generated[0].Vector.Length), null);
    }

    /// <summary>
    /// The texts' vectors (each one of the embedded texts) as one row-major matrix, each row scaled to unit length
    /// (endpoints do not all normalise); a zero vector stays zero, similar to nothing.
    /// </summary>
    public float[] Matrix(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var matrix = new float[texts.Count * Dimensions];
        for (var i = 0; i < texts.Count; i++)
        {
            ToUnit(_generated[_row[texts[i]]].Vector.Span, matrix.AsSpan(i * Dimensions, Dimensions));
        }

        return matrix;
    }

    /// <summary><paramref name="vector"/> scaled to unit length into <paramref name="destination"/> (a zero vector stays zero), as <see cref="Matrix"/> makes each row.</summary>
    internal static void ToUnit(ReadOnlySpan<float> vector, Span<float> destination)
    {
        vector.CopyTo(destination);
        var norm = TensorPrimitives.Norm(destination);
        if (norm > 0)
        {
            TensorPrimitives.Divide(destination, norm, destination);
        }
    }
}
