using System.Text.Json;
using Recal.Diagnostics;
using Recal.Lifecycle;

namespace Recal.Reporting.Json;

/// <summary>What <c>recal sample --json</c> writes (docs/schemas/sample-report.schema.json): the draw, its arithmetic and its notices.</summary>
/// <param name="Size">The size asked for.</param>
/// <param name="SizeSource">Where it came from: <c>--size</c>, the policy's size, or the policy's holdout share.</param>
/// <param name="DraftsFile">The draft file written, relative to the project; null on a dry run or when nothing was written.</param>
public sealed record SampleReport(
    int FormatVersion,
    string Pool,
    int Seed,
    DateTimeOffset From,
    DateTimeOffset To,
    string? Where,
    int? BlindSpot,
    int Size,
    string SizeSource,
    long Seen,
    long? Matched,
    long Eligible,
    IReadOnlyDictionary<string, long> Excluded,
    SampleArithmeticJson? Arithmetic,
    IReadOnlyList<SampleNoticeJson> Notices,
    IReadOnlyList<StratumAllocation> Strata,
    int Drawn,
    bool DryRun,
    string? DraftsFile)
{
    public const int CurrentFormatVersion = 1;

    /// <summary>The report of a draw: its allocation, its arithmetic in numbers and in the words the terminal shows.</summary>
    public static SampleReport Of(SampleResult result, SampleRequestEcho request, IReadOnlyList<Diagnostic> notices, bool dryRun, string? draftsFile)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(notices);
        var arithmetic = result.Arithmetic is { } a
            ? new SampleArithmeticJson(a.Size, a.Weighted, a.Strata, a.Floor, a.FloorsNeed, a.FloorsExceedSize, a.RaisedStrata, a.Raised, a.ShortStrata, a.Short, a.Allocated, a.Explain(request.SizeSource))
            : null;
        return new SampleReport(
            CurrentFormatVersion,
            request.Pool,
            request.Seed,
            request.From,
            request.To,
            request.Where,
            request.BlindSpot,
            request.Size,
            request.SizeSource,
            result.Seen,
            result.Matched,
            result.Allocations.Count > 0 ? result.Allocations.Sum(s => s.Eligible) : result.Drawn.Count,
            result.Excluded.OrderBy(e => e.Key).ToDictionary(e => JsonNamingPolicy.SnakeCaseLower.ConvertName(e.Key.ToString()), e => e.Value, StringComparer.Ordinal),
            arithmetic,
            [.. notices.Select(n => new SampleNoticeJson(n.Severity.ToString().ToLowerInvariant(), n.Code, n.Message, n.Hint))],
            result.Allocations,
            result.Drawn.Count,
            dryRun,
            draftsFile);
    }
}

/// <summary>What was asked of <c>recal sample</c>, echoed in its report.</summary>
public sealed record SampleRequestEcho(string Pool, int Seed, DateTimeOffset From, DateTimeOffset To, string? Where, int? BlindSpot, int Size, string SizeSource);

/// <summary>The allocation's arithmetic (<see cref="AllocationArithmetic"/>) with its explanation lines.</summary>
public sealed record SampleArithmeticJson(int Size, double Weighted, int Strata, int Floor, long FloorsNeed, bool FloorsExceedSize, int RaisedStrata, double Raised, int ShortStrata, double Short, int Allocated, IReadOnlyList<string> Explanation);

/// <summary>A notice about the draw (RC1106 when the floors alone need more than the size).</summary>
public sealed record SampleNoticeJson(string Severity, string Code, string Message, string? Hint);

/// <summary>Writes a <see cref="SampleReport"/> as JSON.</summary>
public static class SampleJsonWriter
{
    public static string ToJson(SampleReport report) => JsonSerializer.Serialize(report, ReportJson.Options);

    public static async Task WriteAsync(SampleReport report, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        await AtomicFile.WriteAllTextAsync(path, ToJson(report), cancellationToken).ConfigureAwait(false);
    }
}
