namespace Recal.Storage;

/// <summary>
/// The span of stored traffic that windows are anchored to (the current window ends at its last trace, the reference
/// starts at its first), with isolated outliers at either end left out, so that one trace dated years away cannot move
/// every window (docs/drift.md#anchoring).
/// </summary>
public static class TrafficAnchoring
{
    /// <summary>A gap longer than this between an end's few traces and the rest of the traffic isolates them.</summary>
    public static readonly TimeSpan Gap = TimeSpan.FromDays(7);

    /// <summary>An end's traces are those within this of the end.</summary>
    public static readonly TimeSpan EndWidth = TimeSpan.FromDays(1);

    /// <summary>At most this many ends are left out, in turn, at either side; past it the traffic is taken as it is.</summary>
    public const int MaxSteps = 16;

    /// <summary>
    /// The anchored span. <paramref name="spanOf"/> gives the first and last timestamps and the count of the traces
    /// with from ≤ timestamp &lt; to (a null bound is open). An end is left out when the traces within
    /// <see cref="EndWidth"/> of it are fewer than max(2, 1% of the span's mean daily traffic) and the nearest other
    /// trace is more than <see cref="Gap"/> away; the span's count is then of the traces kept, and
    /// <see cref="TrafficSpan.Outliers"/> says how many were left out.
    /// </summary>
    public static async ValueTask<TrafficSpan?> AnchorAsync(
        Func<DateTimeOffset?, DateTimeOffset?, CancellationToken, ValueTask<TrafficSpan?>> spanOf, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(spanOf);
        var all = await spanOf(null, null, cancellationToken).ConfigureAwait(false);
        if (all is null)
        {
            return null;
        }

        var span = all;
        DateTimeOffset? from = null, to = null;
        for (var step = 0; step < MaxSteps; step++)
        {
            var threshold = Math.Max(2, 0.01 * span.Count / Math.Max(1, (span.Last - span.First).TotalDays));
            var moved = false;
            var tail = await spanOf(span.Last - EndWidth + TimeSpan.FromMilliseconds(1), to, cancellationToken).ConfigureAwait(false);
            if (tail is not null && tail.Count < threshold
                && await spanOf(from, tail.First, cancellationToken).ConfigureAwait(false) is { } before
                && tail.First - before.Last > Gap)
            {
                (to, span, moved) = (tail.First, before, true);
            }

            var head = await spanOf(from, span.First + EndWidth, cancellationToken).ConfigureAwait(false);
            var afterHead = head?.Last.AddMilliseconds(1);
            if (head is not null && head.Count < threshold
                && await spanOf(afterHead, to, cancellationToken).ConfigureAwait(false) is { } after
                && after.First - head.Last > Gap)
            {
                (from, span, moved) = (afterHead, after, true);
            }

            if (!moved)
            {
                break;
            }
        }

        return span with { Outliers = all.Count - span.Count };
    }
}
