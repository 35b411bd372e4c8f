using Recal.Storage;

namespace Recal.Drift;

/// <summary>
/// The stored traffic's counts and online signals per intent and cohort key, read once per stretch of time and kept for
/// whoever asks for the same stretch again. A command that knows its windows up front primes them
/// (<see cref="PrimeAsync"/>): the segments between their bounds are counted in one pass over the store, and every
/// later count whose bounds are among them (the drift mix, the reference, the gap timeline's coverage, feedback and
/// reference counts) is summed from those segments instead of read again.
/// </summary>
public sealed class TrafficCells(IRecalStore store)
{
    private readonly Dictionary<(DateTimeOffset From, DateTimeOffset To), IReadOnlyList<FeedbackCell>> _cells = [];

    // The primed segments' ends by their start.
    private readonly Dictionary<DateTimeOffset, List<DateTimeOffset>> _primed = [];

    /// <summary>Counts, in one pass where the store can, every segment between the bounds of <paramref name="windows"/> that lies in one of them.</summary>
    public async ValueTask PrimeAsync(IEnumerable<(DateTimeOffset From, DateTimeOffset To)> windows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var segments = WindowSegments.Of([.. windows.Where(w => w.From < w.To).Distinct()])
            .Select(s => (s.From, s.To))
            .Where(s => !_cells.ContainsKey(s))
            .ToList();
        if (segments.Count == 0)
        {
            return;
        }

        var counted = await store.CountFeedbackBySegmentsAsync(segments, cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < segments.Count; i++)
        {
            _cells[segments[i]] = counted[i];
        }

        foreach (var (from, to) in segments)
        {
            if (!_primed.TryGetValue(from, out var ends))
            {
                _primed[from] = ends = [];
            }

            ends.Add(to);
        }
    }

    /// <summary>The cells of <paramref name="from"/> ≤ timestamp &lt; <paramref name="to"/> (<see cref="ITraceStore.CountFeedbackByCellAsync"/>).</summary>
    public async ValueTask<IReadOnlyList<FeedbackCell>> CountAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        if (!_cells.TryGetValue((from, to), out var cells))
        {
            _cells[(from, to)] = cells = FromPrimed(from, to) ?? await store.CountFeedbackByCellAsync(from, to, cancellationToken).ConfigureAwait(false);
        }

        return cells;
    }

    /// <summary>
    /// The traffic counts of [<paramref name="from"/>, <paramref name="to"/>), per <paramref name="period"/> bucket when
    /// there is one, exactly as <see cref="ITraceStore.CountTrafficAsync"/> gives them (cells with no trace absent;
    /// ordered by bucket, intent, cohort key).
    /// </summary>
    public async ValueTask<IReadOnlyList<TrafficCount>> CountTrafficAsync(DateTimeOffset from, DateTimeOffset to, Period period = Period.None, CancellationToken cancellationToken = default)
    {
        var counts = new List<TrafficCount>();
        foreach (var (bucket, start, end) in Buckets(from, to, period))
        {
            foreach (var cell in await CountAsync(start, end, cancellationToken).ConfigureAwait(false))
            {
                if (cell.Count.Traces > 0)
                {
                    counts.Add(new TrafficCount(bucket, cell.Intent, cell.CohortKey, cell.Count.Traces));
                }
            }
        }

        return [.. counts
            .OrderBy(c => c.BucketStart)
            .ThenBy(c => c.Intent, StringComparer.Ordinal)
            .ThenBy(c => c.CohortKey, StringComparer.Ordinal)];
    }

    /// <summary>The windows <see cref="CountTrafficAsync"/> counts for these arguments: what to prime for it.</summary>
    public static IEnumerable<(DateTimeOffset From, DateTimeOffset To)> Windows(DateTimeOffset from, DateTimeOffset to, Period period = Period.None) =>
        Buckets(from, to, period).Select(b => (b.From, b.To));

    private static IEnumerable<(DateTimeOffset? Bucket, DateTimeOffset From, DateTimeOffset To)> Buckets(DateTimeOffset from, DateTimeOffset to, Period period)
    {
        if (from >= to)
        {
            yield break;
        }

        if (period == Period.None)
        {
            yield return (null, from, to);
            yield break;
        }

        for (var bucket = PeriodMath.Start(from, period); bucket < to; bucket = PeriodMath.End(bucket, period))
        {
            var end = PeriodMath.End(bucket, period);
            yield return (bucket, bucket > from ? bucket : from, end < to ? end : to);
        }
    }

    /// <summary>The sum of primed segments that tile [from, to) exactly (the longest that fits at each step); null when they do not.</summary>
    private IReadOnlyList<FeedbackCell>? FromPrimed(DateTimeOffset from, DateTimeOffset to)
    {
        var sum = new Dictionary<(string Intent, string Cohort), FeedbackCount>();
        var order = new List<(string Intent, string Cohort)>();
        var at = from;
        while (at < to)
        {
            if (!_primed.TryGetValue(at, out var ends) || !ends.Any(e => e <= to))
            {
                return null;
            }

            var end = ends.Where(e => e <= to).Max();
            foreach (var cell in _cells[(at, end)])
            {
                ref var count = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(sum, (cell.Intent, cell.CohortKey), out var exists);
                if (!exists)
                {
                    order.Add((cell.Intent, cell.CohortKey));
                }

                count = count.Plus(cell.Count);
            }

            at = end;
        }

        return from < to ? [.. order.Select(k => new FeedbackCell(k.Intent, k.Cohort, sum[k]))] : null;
    }

    /// <summary>The windows' totals, each segment between their bounds read once.</summary>
    public async ValueTask<FeedbackCount[]> TotalsAsync(IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> windows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var totals = new FeedbackCount[windows.Count];
        foreach (var (from, to, inside) in WindowSegments.Of(windows))
        {
            var sum = default(FeedbackCount);
            foreach (var cell in await CountAsync(from, to, cancellationToken).ConfigureAwait(false))
            {
                sum = sum.Plus(cell.Count);
            }

            foreach (var i in inside)
            {
                totals[i] = totals[i].Plus(sum);
            }
        }

        return totals;
    }
}
