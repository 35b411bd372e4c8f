using Recal.Storage;

namespace Recal.Drift;

/// <summary>
/// The stored traffic's counts and online signals per intent and cohort key, read once per stretch of time and kept for
/// whoever asks for the same stretch again: the gap timeline's coverage, feedback and reference counts cut the same
/// windows into the same segments (<see cref="WindowSegments"/>).
/// </summary>
public sealed class TrafficCells(IRecalStore store)
{
    private readonly Dictionary<(DateTimeOffset From, DateTimeOffset To), IReadOnlyList<FeedbackCell>> _cells = [];

    /// <summary>The cells of <paramref name="from"/> ≤ timestamp &lt; <paramref name="to"/> (<see cref="IRecalStore.CountFeedbackByCellAsync"/>).</summary>
    public async ValueTask<IReadOnlyList<FeedbackCell>> CountAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        if (!_cells.TryGetValue((from, to), out var cells))
        {
            _cells[(from, to)] = cells = await store.CountFeedbackByCellAsync(from, to, cancellationToken).ConfigureAwait(false);
        }

        return cells;
    }

    /// <summary>The windows' totals, each segment between their bounds read once.</summary>
    public async ValueTask<FeedbackCount[]> TotalsAsync(IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> windows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var totals = new FeedbackCount[windows.Count];
        foreach (var (from, to, inside) in WindowSegments.Of(windows))
        {
            var (traces, rated, up, escalated) = (0L, 0L, 0L, 0L);
            foreach (var cell in await CountAsync(from, to, cancellationToken).ConfigureAwait(false))
            {
                (traces, rated, up, escalated) = (traces + cell.Count.Traces, rated + cell.Count.Rated, up + cell.Count.Up, escalated + cell.Count.Escalated);
            }

            foreach (var i in inside)
            {
                var c = totals[i];
                totals[i] = new FeedbackCount(c.Traces + traces, c.Rated + rated, c.Up + up, c.Escalated + escalated);
            }
        }

        return totals;
    }
}
