using System.Globalization;

namespace Recal.Text;

/// <summary>How figures are written in every text Recal prints: rates, intervals, differences in points, p-values, counts.</summary>
public static class Figures
{
    public static string Percent(double value) => double.IsFinite(value) ? value.ToString("0.0%", CultureInfo.InvariantCulture) : "–";

    /// <summary>A rate of a signal the traces may not carry: "no data" when none does.</summary>
    public static string Percent(double? value) => value is { } v ? Percent(v) : "no data";

    public static string Interval(double lower, double upper) =>
        double.IsFinite(lower) ? $"{Percent(lower)}–{Percent(upper)}" : "–";

    /// <summary>A difference of rates in percentage points, signed.</summary>
    public static string Points(double value) =>
        double.IsFinite(value) ? (value * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " pp" : "–";

    public static string PValue(double p) =>
        !double.IsFinite(p) ? "–" : p < 0.0001 ? p.ToString("0.0e0", CultureInfo.InvariantCulture) : p.ToString("0.0000", CultureInfo.InvariantCulture);

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
