using MathNet.Numerics;

namespace Recal.Statistics;

/// <summary>Which statistic the homogeneity test uses.</summary>
public enum HomogeneityStatistic
{
    /// <summary>Pearson's X² = Σ (O − E)² / E.</summary>
    PearsonChiSquare,

    /// <summary>The likelihood-ratio G = 2 Σ O ln(O / E).</summary>
    GTest,
}

/// <summary>The outcome of a test of homogeneity on a 2×K table.</summary>
/// <param name="Statistic">X² or G on the pooled table.</param>
/// <param name="DegreesOfFreedom">K′ − 1 for the K′ categories tested.</param>
/// <param name="PValue">Upper tail of χ²(df); NaN when the test does not apply.</param>
/// <param name="CategoriesTested">K′: categories after dropping empty ones and pooling sparse ones.</param>
/// <param name="CategoriesPooled">How many original categories were merged into the pooled category.</param>
/// <param name="Applicable">False when fewer than two categories remain.</param>
public sealed record HomogeneityResult(double Statistic, int DegreesOfFreedom, double PValue, int CategoriesTested, int CategoriesPooled, bool Applicable, string? NotApplicableReason);

/// <summary>
/// Is the eval set's stratum distribution the same as traffic's? A test of homogeneity on the 2×K contingency
/// table, with sparse categories pooled first (the small-sample rule in docs/statistics.md).
/// </summary>
public static class HomogeneityTest
{
    public static HomogeneityResult Run(ReadOnlySpan<long> a, ReadOnlySpan<long> b, HomogeneityStatistic statistic = HomogeneityStatistic.GTest, double minExpected = 5)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"the rows have {a.Length} and {b.Length} categories; they must have the same");
        }

        var cells = new List<(long A, long B)>(a.Length);
        long na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] < 0 || b[i] < 0)
            {
                throw new ArgumentException("counts must be non-negative");
            }

            na += a[i];
            nb += b[i];
            if (a[i] + b[i] > 0)
            {
                cells.Add((a[i], b[i]));
            }
        }

        if (na == 0 || nb == 0)
        {
            return NotApplicable(cells.Count, 0, "one of the two samples is empty");
        }

        var n = (double)(na + nb);

        // Cochran's rule. A category's smallest expected count is total × min(na, nb) / n, so "expected below the
        // minimum" means "total below threshold". Pool every sparse category, then keep adding the next smallest
        // until the pool itself reaches the threshold.
        var threshold = minExpected * n / Math.Min(na, nb);
        cells.Sort((x, y) => (x.A + x.B).CompareTo(y.A + y.B));
        var pooled = (A: 0L, B: 0L);
        var pooledCount = 0;
        while (pooledCount < cells.Count && (cells[pooledCount].A + cells[pooledCount].B < threshold || (pooledCount > 0 && pooled.A + pooled.B < threshold)))
        {
            pooled = (pooled.A + cells[pooledCount].A, pooled.B + cells[pooledCount].B);
            pooledCount++;
        }

        var table = cells.GetRange(pooledCount, cells.Count - pooledCount);
        if (pooledCount > 0)
        {
            table.Add(pooled);
        }

        if (table.Count < 2)
        {
            return NotApplicable(table.Count, pooledCount, "fewer than two categories remain after pooling sparse ones");
        }

        double stat = 0;
        foreach (var (ca, cb) in table)
        {
            var total = ca + cb;
            stat += Term(ca, total * na / n, statistic) + Term(cb, total * nb / n, statistic);
        }

        var df = table.Count - 1;
        stat = Math.Max(0, stat);
        var p = SpecialFunctions.GammaUpperRegularized(df / 2.0, stat / 2.0);
        return new HomogeneityResult(stat, df, p, table.Count, pooledCount, true, null);
    }

    private static double Term(long observed, double expected, HomogeneityStatistic statistic) => statistic switch
    {
        HomogeneityStatistic.PearsonChiSquare => (observed - expected) * (observed - expected) / expected,
        _ => observed == 0 ? 0 : 2 * observed * Math.Log(observed / expected),
    };

    private static HomogeneityResult NotApplicable(int categories, int pooled, string reason) =>
        new(double.NaN, 0, double.NaN, categories, pooled, false, reason);
}
