using System.Text.Json;
using Recal.Drift;

namespace Recal.Reporting.Json;

/// <summary>Writes a drift report as JSON (format documented in docs/schemas/drift-report.schema.json).</summary>
public static class DriftJsonWriter
{
    public static string ToJson(DriftReport report) => JsonSerializer.Serialize(report, ReportJson.Options);

    public static async Task WriteAsync(DriftReport report, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        await AtomicFile.WriteAllTextAsync(path, ToJson(report), cancellationToken).ConfigureAwait(false);
    }
}
