using System.Globalization;
using Recal.Domain;

namespace Recal.Scoring;

/// <summary>Which similarity the reference scorer uses.</summary>
public enum SimilarityMetric
{
    TokenF1,
    RougeL,
}

/// <summary>
/// Multi-reference similarity with graded credit: the output is compared with every reference, each similarity
/// is weighted by the reference's grade (a borderline reference earns less than a high one), and the best
/// weighted similarity is the score.
/// </summary>
public sealed class ReferenceScorer : IScorer
{
    public const string Name = "reference_similarity";

    public ReferenceScorer(SimilarityMetric metric = SimilarityMetric.TokenF1, double passAt = 0.5, double borderlineWeight = 0.5)
    {
        if (passAt is < 0 or > 1 || borderlineWeight is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(passAt), "thresholds and weights are fractions in [0, 1]");
        }

        Metric = metric;
        PassAt = passAt;
        BorderlineWeight = borderlineWeight;
    }

    public SimilarityMetric Metric { get; }

    /// <summary>The weighted similarity at or above which the output passes.</summary>
    public double PassAt { get; }

    /// <summary>The credit factor of a borderline reference (a high reference counts fully).</summary>
    public double BorderlineWeight { get; }

    public ValueTask<IReadOnlyList<ScoreResult>> ScoreAsync(EvalCase evalCase, string output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        ArgumentNullException.ThrowIfNull(output);
        if (evalCase.References.Count == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<ScoreResult>>([]);
        }

        var tokens = TextTokens.Tokenize(output);
        var best = (Score: -1.0, Similarity: 0.0, Index: 0, Grade: ReferenceGrade.High);
        for (var i = 0; i < evalCase.References.Count; i++)
        {
            var reference = evalCase.References[i];
            var referenceTokens = TextTokens.Tokenize(reference.Text);
            var similarity = Metric == SimilarityMetric.RougeL ? Similarity.RougeL(tokens, referenceTokens) : Similarity.TokenF1(tokens, referenceTokens);
            var score = similarity * (reference.Grade == ReferenceGrade.High ? 1 : BorderlineWeight);
            if (score > best.Score)
            {
                best = (score, similarity, i + 1, reference.Grade);
            }
        }

        var metric = Metric == SimilarityMetric.RougeL ? "ROUGE-L" : "token F1";
        var grade = best.Grade == ReferenceGrade.High ? "high" : "borderline";
        var reason = string.Create(CultureInfo.InvariantCulture, $"best match: {grade} reference {best.Index} ({metric} {best.Similarity:0.000}, credit {best.Score:0.000}; pass at {PassAt:0.###})");
        return ValueTask.FromResult<IReadOnlyList<ScoreResult>>([new ScoreResult(Name, best.Score, best.Score >= PassAt, reason)]);
    }
}
