namespace Recal.Statistics;

/// <summary>Agreement between two raters (a judge and human labels, say) over the same items.</summary>
/// <param name="Accuracy">Share of items with the same label.</param>
/// <param name="Kappa">Cohen's kappa: agreement beyond chance, (pₒ − pₑ) / (1 − pₑ); NaN when pₑ = 1.</param>
public sealed record AgreementResult(long Items, double Accuracy, double Kappa);

/// <summary>Rater agreement statistics (docs/statistics.md), checked against scikit-learn.</summary>
public static class Agreement
{
    /// <summary>Accuracy and Cohen's kappa; equals sklearn.metrics.cohen_kappa_score(a, b).</summary>
    public static AgreementResult CohenKappa(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            throw new ArgumentException($"the raters labelled {a.Count} and {b.Count} items; they must label the same items");
        }

        if (a.Count == 0)
        {
            return new AgreementResult(0, double.NaN, double.NaN);
        }

        var n = (double)a.Count;
        var agree = 0;
        var countsA = new Dictionary<string, int>(StringComparer.Ordinal);
        var countsB = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < a.Count; i++)
        {
            agree += string.Equals(a[i], b[i], StringComparison.Ordinal) ? 1 : 0;
            countsA[a[i]] = countsA.GetValueOrDefault(a[i]) + 1;
            countsB[b[i]] = countsB.GetValueOrDefault(b[i]) + 1;
        }

        var observed = agree / n;
        var expected = countsA.Sum(kv => kv.Value / n * (countsB.GetValueOrDefault(kv.Key) / n));
        var kappa = expected >= 1 ? double.NaN : (observed - expected) / (1 - expected);
        return new AgreementResult(a.Count, observed, kappa);
    }
}
