namespace Recal.Statistics;

/// <summary>
/// How well a clustering matches true labels (docs/taxonomy-from-traces.md), checked against scikit-learn
/// (tests/Recal.Core.Tests/Fixtures/generate_cluster_agreement.py).
/// </summary>
public static class ClusterAgreement
{
    /// <summary>
    /// The adjusted Rand index (Hubert and Arabie, 1985): the Rand index corrected for chance, 1 for identical
    /// partitions and about 0 for independent ones; equals <c>sklearn.metrics.adjusted_rand_score(truth, predicted)</c>,
    /// including its 1 when both partitions are a single cluster or every item is its own cluster.
    /// </summary>
    public static double AdjustedRandIndex<TTruth, TPredicted>(IReadOnlyList<TTruth> truth, IReadOnlyList<TPredicted> predicted)
        where TTruth : notnull
        where TPredicted : notnull
    {
        var (cells, rows, columns, n) = Contingency(truth, predicted);
        static double Pairs(long count) => count * (count - 1) / 2.0;
        var index = cells.Values.Sum(Pairs);
        var sumRows = rows.Values.Sum(Pairs);
        var sumColumns = columns.Values.Sum(Pairs);
        var total = Pairs(n);
        if (total == 0 || (sumRows == sumColumns && (sumRows == 0 || sumRows == total)))
        {
            // One cluster each, or singletons each: the partitions agree perfectly (scikit-learn's special case).
            return 1;
        }

        var expected = sumRows * sumColumns / total;
        var maximum = (sumRows + sumColumns) / 2;
        return (index - expected) / (maximum - expected);
    }

    /// <summary>
    /// Purity: the share of items whose cluster's most common true label is their own (each predicted cluster
    /// credited with its majority label); 1 when every cluster is pure, and 1 trivially when every item is alone.
    /// </summary>
    public static double Purity<TTruth, TPredicted>(IReadOnlyList<TTruth> truth, IReadOnlyList<TPredicted> predicted)
        where TTruth : notnull
        where TPredicted : notnull
    {
        var (cells, _, _, n) = Contingency(truth, predicted);
        if (n == 0)
        {
            return double.NaN;
        }

        var majority = cells.GroupBy(c => c.Key.Predicted).Sum(g => g.Max(c => c.Value));
        return (double)majority / n;
    }

    private static (Dictionary<(TTruth Truth, TPredicted Predicted), long> Cells, Dictionary<TTruth, long> Rows, Dictionary<TPredicted, long> Columns, long N) Contingency<TTruth, TPredicted>(
        IReadOnlyList<TTruth> truth, IReadOnlyList<TPredicted> predicted)
        where TTruth : notnull
        where TPredicted : notnull
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(predicted);
        if (truth.Count != predicted.Count)
        {
            throw new ArgumentException($"{truth.Count} true labels for {predicted.Count} predicted ones", nameof(predicted));
        }

        var cells = new Dictionary<(TTruth, TPredicted), long>();
        var rows = new Dictionary<TTruth, long>();
        var columns = new Dictionary<TPredicted, long>();
        for (var i = 0; i < truth.Count; i++)
        {
            cells[(truth[i], predicted[i])] = cells.GetValueOrDefault((truth[i], predicted[i])) + 1;
            rows[truth[i]] = rows.GetValueOrDefault(truth[i]) + 1;
            columns[predicted[i]] = columns.GetValueOrDefault(predicted[i]) + 1;
        }

        return (cells, rows, columns, truth.Count);
    }
}
