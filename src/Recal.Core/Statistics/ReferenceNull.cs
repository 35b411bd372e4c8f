using System.Runtime.CompilerServices;

namespace Recal.Statistics;

/// <summary>
/// What a statistic looks like on windows drawn like a reference: its simulated draws summarised by their median and a
/// Pearson type III fit to their moments, from which the calibrated threshold and tail probability are read.
/// </summary>
/// <param name="Draws">How many windows were simulated.</param>
/// <param name="EffectiveSize">Traces per simulated window: the window's size divided by the dispersion factor.</param>
public sealed record NullDistribution(int Draws, long EffectiveSize, double Median, PearsonTypeIII Fit)
{
    /// <summary>The value a window exceeds with probability <paramref name="alpha"/> when nothing moved.</summary>
    public double Threshold(double alpha) => Fit.UpperQuantile(alpha);

    /// <summary>The probability that a window drawn like the reference gives a value above <paramref name="observed"/>.</summary>
    public double UpperTail(double observed) => Fit.UpperTail(observed);
}

/// <summary>
/// A parametric bootstrap of a window statistic under "this window is drawn like the reference"
/// (docs/statistics.md#reference-null). Each draw takes category probabilities from the posterior of the reference counts
/// (Dirichlet with Jeffreys' ½ added to every category), so the reference's own sampling error widens the null, then a
/// window of the effective size from those probabilities (multinomial), and evaluates the statistic on its counts.
/// Seeded: the same inputs give the same null.
/// </summary>
public static class ReferenceNull
{
    /// <summary>Draws per null: enough for three moments (the skewness to about ±0.08).</summary>
    public const int DefaultDraws = 1000;

    /// <param name="referenceCounts">The reference's count per category (categories the window could fall in; a category with 0 keeps Jeffreys' ½).</param>
    /// <param name="windowSize">Traces in the window.</param>
    /// <param name="phi">The dispersion factor (≥ 1): windows vary like multinomial samples of <paramref name="windowSize"/> / φ.</param>
    /// <param name="statistic">The statistic, of a window's counts over the same categories (one array, refilled for each draw: the statistic reads it and keeps no reference).</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static NullDistribution Simulate(
        ReadOnlySpan<long> referenceCounts,
        long windowSize,
        double phi,
        Func<double[], double> statistic,
        int seed,
        int draws = DefaultDraws)
    {
        ArgumentNullException.ThrowIfNull(statistic);
        ArgumentOutOfRangeException.ThrowIfLessThan(draws, 3);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 1);
        if (!(phi >= 1) || double.IsInfinity(phi))
        {
            throw new ArgumentOutOfRangeException(nameof(phi), phi, "the dispersion factor is at least 1");
        }

        var k = referenceCounts.Length;
        if (k == 0)
        {
            throw new ArgumentException("at least one category", nameof(referenceCounts));
        }

        var alpha = new double[k];
        for (var i = 0; i < k; i++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(referenceCounts[i]);
            alpha[i] = referenceCounts[i] + 0.5;
        }

        var size = Math.Max(1, (long)Math.Round(windowSize / phi));
        var random = new Random(seed);
        var probabilities = new double[k];
        var values = new double[draws];
        var counts = new double[k];
        for (var d = 0; d < draws; d++)
        {
            double sum = 0;
            for (var i = 0; i < k; i++)
            {
                probabilities[i] = Gamma(random, alpha[i]);
                sum += probabilities[i];
            }

            Array.Clear(counts);
            var left = size;
            var mass = 1.0;
            for (var i = 0; i < k - 1 && left > 0; i++)
            {
                var p = probabilities[i] / sum;
                var x = Binomial(random, left, mass <= 0 ? 1 : Math.Clamp(p / mass, 0, 1));
                counts[i] = x;
                left -= x;
                mass -= p;
            }

            counts[k - 1] += left;
            values[d] = statistic(counts);
        }

        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        var median = draws % 2 == 1 ? sorted[draws / 2] : (sorted[(draws / 2) - 1] + sorted[draws / 2]) / 2;
        return new NullDistribution(draws, size, median, PearsonTypeIII.Fit(values));
    }

    /// <summary>A Gamma(shape, 1) variate (Marsaglia and Tsang, 2000; shape &lt; 1 by the boost U^(1/shape)).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static double Gamma(Random random, double shape)
    {
        if (shape < 1)
        {
            return Gamma(random, shape + 1) * Math.Pow(1 - random.NextDouble(), 1 / shape);
        }

        var d = shape - (1.0 / 3);
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = Normal(random);
                v = 1 + (c * x);
            }
            while (v <= 0);

            v = v * v * v;
            var u = 1 - random.NextDouble();
            if (u < 1 - (0.0331 * x * x * x * x) || Math.Log(u) < (0.5 * x * x) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    /// <summary>
    /// A Binomial(n, p) variate: by inversion when n·min(p, 1 − p) is small (exact), otherwise from the normal
    /// approximation with continuity correction, clamped to [0, n]; the null needs the moments, not exact tails, of
    /// each cell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static long Binomial(Random random, long n, double p)
    {
        if (n == 0 || p <= 0)
        {
            return 0;
        }

        if (p >= 1)
        {
            return n;
        }

        var flip = p > 0.5;
        var q = flip ? 1 - p : p;
        long x;
        if (n * q < 30)
        {
            // Inversion: walk the pmf from 0.
            var u = random.NextDouble();
            var pmf = Math.Exp(n * Math.Log(1 - q));
            var ratio = q / (1 - q);
            x = 0;
            var cdf = pmf;
            while (u > cdf && x < n)
            {
                pmf *= ratio * (n - x) / (x + 1);
                x++;
                cdf += pmf;
            }
        }
        else
        {
            var mean = n * q;
            var sd = Math.Sqrt(n * q * (1 - q));
            x = Math.Clamp((long)Math.Floor(mean + (sd * Normal(random)) + 0.5), 0, n);
        }

        return flip ? n - x : x;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double Normal(Random random)
    {
        // Box–Muller; one of the pair is enough here.
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
