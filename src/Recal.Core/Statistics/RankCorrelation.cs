using MathNet.Numerics.Distributions;

namespace Recal.Statistics;

/// <summary>Spearman's rank correlation (docs/statistics.md#spearmans-rank-correlation).</summary>
public static class RankCorrelation
{
    /// <summary>
    /// Spearman's ρ: Pearson's correlation of the ranks, ties given their average rank; the two-sided p-value from
    /// t = ρ√((n−2)/(1−ρ²)) on n−2 degrees of freedom, as SciPy's <c>spearmanr</c>. NaN when n &lt; 3 or a side is constant.
    /// </summary>
    public static (double Rho, double PValue) Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Count != y.Count)
        {
            throw new ArgumentException("x and y must have the same length");
        }

        var n = x.Count;
        if (n < 3)
        {
            return (double.NaN, double.NaN);
        }

        var (rx, ry) = (Ranks(x), Ranks(y));
        var (mx, my) = (rx.Average(), ry.Average());
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < n; i++)
        {
            sxy += (rx[i] - mx) * (ry[i] - my);
            sxx += (rx[i] - mx) * (rx[i] - mx);
            syy += (ry[i] - my) * (ry[i] - my);
        }

        if (sxx == 0 || syy == 0)
        {
            return (double.NaN, double.NaN);
        }

        var rho = Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
        if (Math.Abs(rho) >= 1)
        {
            return (rho, 0);
        }

        var t = rho * Math.Sqrt((n - 2) / (1 - (rho * rho)));
        return (rho, 2 * StudentT.CDF(0, 1, n - 2, -Math.Abs(t)));
    }

    /// <summary>1-based ranks; tied values share the average of their ranks.</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var order = Enumerable.Range(0, values.Count).OrderBy(i => values[i]).ToArray();
        var ranks = new double[values.Count];
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
            {
                end++;
            }

            var rank = ((start + end) / 2.0) + 1;
            for (var k = start; k <= end; k++)
            {
                ranks[order[k]] = rank;
            }

            start = end + 1;
        }

        return ranks;
    }
}
