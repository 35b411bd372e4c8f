using System.Globalization;

namespace Recal.Drift;

/// <summary>How drift figures are spelled in messages and reports.</summary>
public static class DriftFormat
{
    /// <summary>A p-value: four decimals, scientific notation below 1e-4, n/a when the test did not apply.</summary>
    public static string P(double p) =>
        double.IsNaN(p) ? "n/a"
        : p < 1e-4 ? p.ToString("0.0e+0", CultureInfo.InvariantCulture)
        : p.ToString("0.0000", CultureInfo.InvariantCulture);

    /// <summary>A stratum status as a short word.</summary>
    public static string Status(StratumStatus status) => status switch
    {
        StratumStatus.Ok => "ok",
        StratumStatus.Over => "over",
        StratumStatus.Under => "under",
        StratumStatus.Missing => "MISSING",
        StratumStatus.NoTraffic => "no traffic",
        _ => status.ToString(),
    };
}
