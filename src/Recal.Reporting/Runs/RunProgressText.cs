using System.Globalization;
using Recal.Running;

namespace Recal.Reporting.Runs;

/// <summary>The one-line progress of a run: where it stands, how fast calls go and when it should end.</summary>
public static class RunProgressText
{
    /// <summary>
    /// Describes <paramref name="progress"/> after <paramref name="elapsed"/> of this process. The rate counts only the
    /// cases this process answered by a call: cases an earlier process stored (resumed) and answers from the cache took
    /// no time worth a rate, and counting them would promise an end far too soon. The time left assumes the cases left
    /// need calls; it is unknown (--:--:--) until a call has been answered, and zero once every case is done.
    /// </summary>
    public static string Describe(RunProgress progress, TimeSpan elapsed)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var called = progress.Done - progress.Resumed - progress.Cached;
        var rate = called > 0 && elapsed > TimeSpan.Zero ? called / elapsed.TotalSeconds : (double?)null;
        var left = Math.Max(0, progress.Total - progress.Done);
        var eta = left == 0 ? TimeSpan.Zero : rate is { } r ? TimeSpan.FromSeconds(left / r) : (TimeSpan?)null;
        var verdicts = progress.Done - progress.Errors;
        var passRate = verdicts > 0 ? ((double)progress.Passed / verdicts).ToString("0.0%", CultureInfo.InvariantCulture) : "-";
        var skipped = new List<string>(2);
        if (progress.Cached > 0)
        {
            skipped.Add(string.Create(CultureInfo.InvariantCulture, $"{progress.Cached:N0} from the cache"));
        }

        if (progress.Resumed > 0)
        {
            skipped.Add(string.Create(CultureInfo.InvariantCulture, $"{progress.Resumed:N0} resumed"));
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"{progress.Done:N0}/{progress.Total:N0} cases{(skipped.Count > 0 ? $" ({string.Join(", ", skipped)})" : string.Empty)}, " +
            $"{(rate is { } x ? x.ToString("0.0", CultureInfo.InvariantCulture) + " calls/s" : "no call yet")}, " +
            $"ETA {(eta is { } e ? e.ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture) : "--:--:--")}, pass {passRate}, errors {progress.Errors:N0}");
    }
}
