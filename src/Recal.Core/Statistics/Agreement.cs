using MathNet.Numerics.Distributions;

namespace Recal.Statistics;

/// <summary>Agreement between two raters (a judge and human labels, say) over the same items.</summary>
/// <param name="Accuracy">Share of items with the same label.</param>
/// <param name="Kappa">Cohen's kappa: agreement beyond chance, (pₒ − pₑ) / (1 − pₑ); NaN when pₑ = 1.</param>
public sealed record AgreementResult(long Items, double Accuracy, double Kappa);

/// <summary>Cohen's kappa with its large-sample standard error and a normal interval, clipped to [−1, 1].</summary>
/// <param name="StandardError">Fleiss, Cohen and Everitt (1969) asymptotic standard error; NaN when κ is undefined.</param>
public sealed record KappaEstimate(double Kappa, double StandardError, double Lower, double Upper);

/// <summary>Fleiss' kappa for several raters over the same items, each item rated by every rater.</summary>
public sealed record FleissKappaResult(long Items, int Raters, double Kappa, double ObservedAgreement, double ChanceAgreement);

/// <summary>Rater agreement statistics (docs/statistics.md), checked against scikit-learn.</summary>
public static class Agreement
{
    /// <summary>Accuracy and Cohen's kappa; equals sklearn.metrics.cohen_kappa_score(a, b).</summary>
    public static AgreementResult CohenKappa(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var table = Table(a, b, out var labels);
        if (a.Count == 0)
        {
            return new AgreementResult(0, double.NaN, double.NaN);
        }

        var (observed, expected) = ObservedAndExpected(table, labels.Count, a.Count);
        var kappa = expected >= 1 ? double.NaN : (observed - expected) / (1 - expected);
        return new AgreementResult(a.Count, observed, kappa);
    }

    /// <summary>
    /// Cohen's kappa with the asymptotic (non-null) standard error of Fleiss, Cohen and Everitt (1969) and the interval
    /// κ ± z·SE clipped to [−1, 1] (docs/statistics.md).
    /// </summary>
    public static KappaEstimate CohenKappaInterval(IReadOnlyList<string> a, IReadOnlyList<string> b, double confidence = 0.95)
    {
        if (confidence is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "confidence must lie strictly between 0 and 1");
        }

        var table = Table(a, b, out var labels);
        var k = labels.Count;
        if (a.Count == 0)
        {
            return new KappaEstimate(double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var n = (double)a.Count;
        var (observed, expected) = ObservedAndExpected(table, k, a.Count);
        if (expected >= 1)
        {
            return new KappaEstimate(double.NaN, double.NaN, double.NaN, double.NaN);
        }

        var kappa = (observed - expected) / (1 - expected);
        var rows = new double[k];
        var columns = new double[k];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                rows[i] += table[i, j] / n;
                columns[j] += table[i, j] / n;
            }
        }

        double sum = 0;
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                var p = table[i, j] / n;
                if (i == j)
                {
                    var term = 1 - ((rows[i] + columns[i]) * (1 - kappa));
                    sum += p * term * term;
                }
                else
                {
                    var term = columns[i] + rows[j];
                    sum += (1 - kappa) * (1 - kappa) * p * term * term;
                }
            }
        }

        var correction = kappa - (expected * (1 - kappa));
        var variance = Math.Max(0, sum - (correction * correction)) / (n * (1 - expected) * (1 - expected));
        var se = Math.Sqrt(variance);
        var z = Normal.InvCDF(0, 1, 1 - ((1 - confidence) / 2));
        return new KappaEstimate(kappa, se, Math.Max(-1, kappa - (z * se)), Math.Min(1, kappa + (z * se)));
    }

    /// <summary>
    /// The confusion matrix over <paramref name="labels"/>: entry [i, j] counts items that rater a labelled labels[i] and
    /// rater b labelled labels[j]; equals sklearn.metrics.confusion_matrix(a, b, labels=labels). Labels outside the list are not counted.
    /// </summary>
    public static long[,] ConfusionMatrix(IReadOnlyList<string> a, IReadOnlyList<string> b, IReadOnlyList<string> labels)
    {
        CheckPaired(a, b);
        ArgumentNullException.ThrowIfNull(labels);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < labels.Count; i++)
        {
            index.TryAdd(labels[i], i);
        }

        var matrix = new long[labels.Count, labels.Count];
        for (var i = 0; i < a.Count; i++)
        {
            if (index.TryGetValue(a[i], out var row) && index.TryGetValue(b[i], out var column))
            {
                matrix[row, column]++;
            }
        }

        return matrix;
    }

    /// <summary>
    /// Fleiss' kappa; <paramref name="ratings"/>[i] holds every rater's label for item i (the same number of raters per item).
    /// κ = (P̄ − P̄ₑ) / (1 − P̄ₑ) with Pᵢ = (Σⱼ nᵢⱼ² − m) / (m(m − 1)) and P̄ₑ = Σⱼ pⱼ²; NaN when P̄ₑ = 1.
    /// </summary>
    public static FleissKappaResult FleissKappa(IReadOnlyList<IReadOnlyList<string>> ratings)
    {
        ArgumentNullException.ThrowIfNull(ratings);
        if (ratings.Count == 0)
        {
            return new FleissKappaResult(0, 0, double.NaN, double.NaN, double.NaN);
        }

        var m = ratings[0].Count;
        if (m < 2 || ratings.Any(r => r.Count != m))
        {
            throw new ArgumentException("every item needs the same number (at least 2) of ratings", nameof(ratings));
        }

        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        double observedSum = 0;
        foreach (var item in ratings)
        {
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var label in item)
            {
                counts[label] = counts.GetValueOrDefault(label) + 1;
                totals[label] = totals.GetValueOrDefault(label) + 1;
            }

            observedSum += (counts.Values.Sum(c => (double)c * c) - m) / ((double)m * (m - 1));
        }

        var observed = observedSum / ratings.Count;
        var all = (double)ratings.Count * m;
        var chance = totals.Values.Sum(c => c / all * (c / all));
        var kappa = chance >= 1 ? double.NaN : (observed - chance) / (1 - chance);
        return new FleissKappaResult(ratings.Count, m, kappa, observed, chance);
    }

    private static void CheckPaired(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count != b.Count)
        {
            throw new ArgumentException($"the raters labelled {a.Count} and {b.Count} items; they must label the same items");
        }
    }

    /// <summary>The contingency table over the labels either rater used, in first-seen order.</summary>
    private static long[,] Table(IReadOnlyList<string> a, IReadOnlyList<string> b, out List<string> labels)
    {
        CheckPaired(a, b);
        labels = [.. a.Concat(b).Distinct(StringComparer.Ordinal)];
        return ConfusionMatrix(a, b, labels);
    }

    private static (double Observed, double Expected) ObservedAndExpected(long[,] table, int k, long count)
    {
        var n = (double)count;
        double agree = 0;
        double expected = 0;
        for (var i = 0; i < k; i++)
        {
            agree += table[i, i];
            double row = 0;
            double column = 0;
            for (var j = 0; j < k; j++)
            {
                row += table[i, j];
                column += table[j, i];
            }

            expected += row / n * (column / n);
        }

        return (agree / n, expected);
    }
}
