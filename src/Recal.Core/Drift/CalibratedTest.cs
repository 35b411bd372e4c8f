using System.Globalization;
using Recal.Statistics;

namespace Recal.Drift;

/// <summary>The outcome of one calibrated test: the window's value, the reference's, the value that would alarm and why.</summary>
/// <param name="Threshold">The value the window had to pass (or, for a fall, fall below).</param>
/// <param name="Why">The threshold's origin in words, for the alarm's message.</param>
public sealed record CalibratedOutcome(bool Alarm, double Value, double Reference, double Threshold, double PValue, double Alpha, string Why);

/// <summary>
/// The calibrated alarms' two tests (docs/drift.md#calibrated-alarms): a share that rises (or falls) against the
/// reference window, by Fisher's one-sided exact test on counts divided by the dispersion factor; and a mix measure that
/// rises beyond its simulated null. Either also needs the policy's minimum effect.
/// </summary>
public static class CalibratedTest
{
    /// <summary>
    /// Does the share <paramref name="k"/> / <paramref name="n"/> exceed the reference's <paramref name="kRef"/> /
    /// <paramref name="nRef"/> by at least <paramref name="minEffect"/> and significantly (one-sided Fisher p below
    /// <paramref name="alpha"/> with both samples' counts divided by <paramref name="phi"/>)? The threshold is the
    /// smallest share that passes both.
    /// </summary>
    public static CalibratedOutcome ShareRise(long k, long n, long kRef, long nRef, double minEffect, double phi, double alpha)
    {
        var reference = nRef == 0 ? 0 : (double)kRef / nRef;
        var value = n == 0 ? 0 : (double)k / n;
        if (n == 0 || nRef == 0)
        {
            return new CalibratedOutcome(false, value, reference, double.NaN, 1, alpha, "no traffic to compare");
        }

        var (ks, ns) = Scale(k, n, phi);
        var (kr, nr) = Scale(kRef, nRef, phi);
        var p = ProportionDifference.FisherExactGreater(Math.Min(ks, ns), ns, Math.Min(kr, nr), nr);

        // The smallest scaled count that rejects: the p-value falls as the count grows.
        long low = 0, high = ns + 1;
        while (low < high)
        {
            var mid = low + ((high - low) / 2);
            if (ProportionDifference.FisherExactGreater(mid, ns, kr, nr) < alpha)
            {
                high = mid;
            }
            else
            {
                low = mid + 1;
            }
        }

        if (low > ns)
        {
            // Even a window that is all of it would not be significant at this size.
            return new CalibratedOutcome(false, value, reference, 1, p, alpha, string.Create(CultureInfo.InvariantCulture, $"no share of {n:N0} traces is significant at α = {Alpha(alpha)} against the reference's {reference:0.0%} of {nRef:N0}{Dispersed(phi)}"));
        }

        var significantAt = (double)low / ns;
        var threshold = Math.Max(reference + minEffect, significantAt);
        var why = significantAt >= reference + minEffect
            ? string.Create(CultureInfo.InvariantCulture, $"the share Fisher's test needs at α = {Alpha(alpha)} against the reference's {reference:0.0%} of {nRef:N0}{Dispersed(phi)}")
            : string.Create(CultureInfo.InvariantCulture, $"the reference's {reference:0.0%} + the minimum effect {minEffect * 100:0.#} points");
        return new CalibratedOutcome(value - reference >= minEffect && p < alpha, value, reference, threshold, p, alpha, why);
    }

    /// <summary>The mirror of <see cref="ShareRise"/>: the share fell below the reference's by at least the minimum effect, significantly.</summary>
    public static CalibratedOutcome ShareFall(long k, long n, long kRef, long nRef, double minEffect, double phi, double alpha)
    {
        var rise = ShareRise(n - k, n, nRef - kRef, nRef, minEffect, phi, alpha);
        return rise with
        {
            Value = 1 - rise.Value,
            Reference = 1 - rise.Reference,
            Threshold = 1 - rise.Threshold,
            Why = rise.Why.StartsWith("no share", StringComparison.Ordinal) ? rise.Why
                : rise.Why.Contains("Fisher", StringComparison.Ordinal)
                ? string.Create(CultureInfo.InvariantCulture, $"the share Fisher's test needs at α = {Alpha(alpha)} against the reference's {1 - rise.Reference:0.0%} of {nRef:N0}{Dispersed(phi)}")
                : string.Create(CultureInfo.InvariantCulture, $"the reference's {1 - rise.Reference:0.0%} − the minimum effect {minEffect * 100:0.#} points"),
        };
    }

    /// <summary>
    /// Does a mix measure rise beyond both the <paramref name="alpha"/> point of its null and the null's median plus
    /// <paramref name="minEffect"/>? The median stands for the reference at this window's size: a small window's measure
    /// sits higher by sampling noise alone.
    /// </summary>
    public static CalibratedOutcome Rise(double observed, NullDistribution null_, double minEffect, double phi, double alpha)
    {
        ArgumentNullException.ThrowIfNull(null_);
        var point = null_.Threshold(alpha);
        var effect = null_.Median + minEffect;
        var threshold = Math.Max(point, effect);
        var p = null_.UpperTail(observed);
        var why = point >= effect
            ? string.Create(CultureInfo.InvariantCulture, $"the {(1 - alpha) * 100:0.###}% point of {null_.Draws:N0} windows of {null_.EffectiveSize:N0} traces drawn like the reference{Dispersed(phi)}")
            : string.Create(CultureInfo.InvariantCulture, $"the reference's {null_.Median:0.000} at this size + the minimum effect {minEffect:0.###}");
        return new CalibratedOutcome(observed > threshold, observed, null_.Median, threshold, p, alpha, why);
    }

    private static (long K, long N) Scale(long k, long n, double phi)
    {
        if (phi <= 1)
        {
            return (k, n);
        }

        var ns = Math.Max(1, (long)Math.Round(n / phi));
        return (Math.Min(ns, (long)Math.Round(k / phi)), ns);
    }

    private static string Alpha(double alpha) => alpha.ToString(alpha < 0.001 ? "0.0e0" : "0.####", CultureInfo.InvariantCulture);

    private static string Dispersed(double phi) => phi > 1.005 ? string.Create(CultureInfo.InvariantCulture, $", sizes divided by φ = {phi:0.00}") : string.Empty;
}

/// <summary>A window's calibrated tests and the alarms among them.</summary>
public sealed class WindowVerdicts
{
    public List<DriftAlarm> Alarms { get; } = [];

    public List<InstrumentTest> Tests { get; } = [];

    /// <summary>Records the test; when it alarmed (and <paramref name="alarms"/> agrees), the alarm with its message.</summary>
    public void Add(string instrument, string dimension, CalibratedOutcome outcome, Func<CalibratedOutcome, string> message, bool alarms = true)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        ArgumentNullException.ThrowIfNull(message);
        if (!double.IsFinite(outcome.Threshold) || !double.IsFinite(outcome.PValue))
        {
            // Nothing to compare (an empty window or reference): no test was run.
            return;
        }

        var alarm = outcome.Alarm && alarms;
        Tests.Add(new InstrumentTest(instrument, dimension, outcome.Value, outcome.Reference, outcome.Threshold, outcome.PValue, outcome.Alpha, alarm));
        if (alarm)
        {
            Alarms.Add(new DriftAlarm(instrument, dimension, outcome.Value, outcome.Threshold, message(outcome)) { Reference = outcome.Reference, PValue = outcome.PValue, Alpha = outcome.Alpha });
        }
    }
}
