namespace Recal.Statistics;

/// <summary>The dispersion factor of a categorical count table, rows = categories, columns = periods.</summary>
/// <param name="Phi">max(1, X² / df): how much more the periods vary than multinomial sampling would make them.</param>
/// <param name="ChiSquare">Pearson's X² on the table after pooling sparse categories.</param>
/// <param name="DegreesOfFreedom">(K′ − 1)(W − 1); 0 when there are fewer than two periods or categories.</param>
public sealed record Dispersion(double Phi, double ChiSquare, int DegreesOfFreedom, int Periods)
{
    /// <summary>No evidence either way: φ = 1.</summary>
    public static Dispersion None { get; } = new(1, 0, 0, 0);
}

/// <summary>
/// Week-to-week (or day-to-day) variation beyond sampling noise, estimated from a reference period's sub-periods: the
/// quasi-likelihood dispersion X² / df of the categories × periods table (McCullagh and Nelder, 1989, §4.5). Real
/// traffic varies more from week to week than independent draws would; the calibrated alarms divide their sample sizes
/// by φ so they do not mistake that variation for drift (docs/statistics.md#dispersion).
/// </summary>
public static class Overdispersion
{
    /// <summary>
    /// φ from the table <paramref name="counts"/>[category][period]. Categories whose expected count falls below
    /// <paramref name="minExpected"/> in some period are pooled into one (as the homogeneity test pools), and the pooled
    /// category is kept only when it then meets the rule itself. Periods with no traffic are dropped.
    /// </summary>
    public static Dispersion Estimate(IReadOnlyList<long[]> counts, double minExpected = 5)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Count < 2)
        {
            return Dispersion.None;
        }

        var width = counts[0].Length;
        var columnTotals = new double[width];
        foreach (var row in counts)
        {
            if (row.Length != width)
            {
                throw new ArgumentException("every category needs a count for every period", nameof(counts));
            }

            for (var j = 0; j < width; j++)
            {
                columnTotals[j] += row[j];
            }
        }

        var columns = Enumerable.Range(0, width).Where(j => columnTotals[j] > 0).ToArray();
        if (columns.Length < 2)
        {
            return Dispersion.None;
        }

        var total = columns.Sum(j => columnTotals[j]);
        var smallest = columns.Min(j => columnTotals[j]) / total;
        var kept = new List<double[]>();
        var pooled = new double[columns.Length];
        var anyPooled = false;
        foreach (var row in counts)
        {
            var values = columns.Select(j => (double)row[j]).ToArray();
            var rowTotal = values.Sum();
            if (rowTotal == 0)
            {
                continue;
            }

            if (rowTotal * smallest < minExpected)
            {
                anyPooled = true;
                for (var j = 0; j < values.Length; j++)
                {
                    pooled[j] += values[j];
                }
            }
            else
            {
                kept.Add(values);
            }
        }

        if (anyPooled && pooled.Sum() * smallest >= minExpected)
        {
            kept.Add(pooled);
        }

        if (kept.Count < 2)
        {
            return new Dispersion(1, 0, 0, columns.Length);
        }

        var keptTotal = kept.Sum(r => r.Sum());
        var keptColumns = new double[columns.Length];
        foreach (var row in kept)
        {
            for (var j = 0; j < row.Length; j++)
            {
                keptColumns[j] += row[j];
            }
        }

        double chiSquare = 0;
        foreach (var row in kept)
        {
            var rowTotal = row.Sum();
            for (var j = 0; j < row.Length; j++)
            {
                var expected = rowTotal * keptColumns[j] / keptTotal;
                var d = row[j] - expected;
                chiSquare += d * d / expected;
            }
        }

        var df = (kept.Count - 1) * (columns.Length - 1);
        return new Dispersion(Math.Max(1, chiSquare / df), chiSquare, df, columns.Length);
    }
}
