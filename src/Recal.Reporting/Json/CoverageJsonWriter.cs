using System.Text.Json;
using Recal.Drift;

namespace Recal.Reporting.Json;

/// <summary>Writes an embedding-coverage report as JSON (format documented in docs/schemas/coverage-report.schema.json).</summary>
public static class CoverageJsonWriter
{
    public static string ToJson(CoverageReport report) => JsonSerializer.Serialize(report, ReportJson.Options);

    public static async Task WriteAsync(CoverageReport report, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        await AtomicFile.WriteAllTextAsync(path, ToJson(report), cancellationToken).ConfigureAwait(false);
    }
}
