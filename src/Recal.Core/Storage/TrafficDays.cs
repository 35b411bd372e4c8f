using Recal.Domain;

namespace Recal.Storage;

/// <summary>
/// The stored traffic's daily rollup: per UTC day, intent and cohort key, the traces and their thumb and escalation
/// counts (<see cref="FeedbackCount"/> without the outcome signals). A store keeps it in the transaction that writes the
/// traces, so counting a window reads one row per day and cell for the days the window covers whole, and the traces
/// themselves only for the parts of a day at either end (docs/store.md#the-daily-rollup).
/// </summary>
public static class TrafficDays
{
    /// <summary>One day in milliseconds: days are UTC days, whole multiples of it since the Unix epoch.</summary>
    public const long DayMs = 86_400_000;

    /// <summary>The start (Unix milliseconds) of the UTC day holding <paramref name="ms"/>.</summary>
    public static long DayOf(long ms) => ms - (((ms % DayMs) + DayMs) % DayMs);

    /// <summary>
    /// Splits [<paramref name="from"/>, <paramref name="to"/>) (Unix milliseconds; <see cref="long.MinValue"/> and
    /// <see cref="long.MaxValue"/> for no bound) into the whole days it covers, [<c>DaysFrom</c>, <c>DaysTo</c>), read
    /// from the rollup, and what is left at either end, read from the traces: [from, DaysFrom) and [DaysTo, to). A
    /// window shorter than a whole day is all ends (DaysFrom = DaysTo = to).
    /// </summary>
    public static WindowSplit Split(long from, long to)
    {
        if (to <= from)
        {
            return new WindowSplit(from, to, to, to);
        }

        var daysFrom = from == long.MinValue ? long.MinValue : DayOf(from) == from ? from : DayOf(from) + DayMs;
        var daysTo = to == long.MaxValue ? long.MaxValue : DayOf(to);
        return daysFrom >= daysTo ? new WindowSplit(from, to, to, to) : new WindowSplit(from, daysFrom, daysTo, to);
    }

    /// <summary>
    /// How [<paramref name="from"/>, <paramref name="to"/>) is counted with the fewest traces read: its whole days from
    /// the rollup, and each part of a day at either end from the traces, except that a part longer than half its day is
    /// counted as that whole day from the rollup less the rest of the day from the traces (subtracted). The traces read
    /// are then at most half a day at each end instead of up to a whole day. A day before
    /// <paramref name="prunedBefore"/> (Unix milliseconds) is never completed so: its traces may be gone, the rollup's
    /// count not.
    /// </summary>
    public static RollupReading Reading(long from, long to, long? prunedBefore = null)
    {
        if (to <= from)
        {
            return new RollupReading(to, to, []);
        }

        var split = Split(from, to);
        // The parts at the ends, each within one day: a window without a whole day may cross one midnight.
        var pieces = new List<(long From, long To)>();
        foreach (var (lo, hi) in split.Ends)
        {
            var midnight = DayOf(lo) + DayMs;
            if (hi > midnight)
            {
                pieces.Add((lo, midnight));
                pieces.Add((midnight, hi));
            }
            else
            {
                pieces.Add((lo, hi));
            }
        }

        // The pieces lie in the day before the whole days and the day they end at (or, without whole days, in one day or
        // two neighbouring ones), so the whole days and the days completed stay one range.
        var (daysFrom, daysTo) = split.HasDays ? (split.DaysFrom, split.DaysTo) : (long.MaxValue, long.MinValue);
        var parts = new List<(long From, long To, int Sign)>();
        foreach (var (lo, hi) in pieces)
        {
            var day = DayOf(lo);
            if (hi - lo > DayMs / 2 && (prunedBefore is not { } pruned || day >= pruned))
            {
                (daysFrom, daysTo) = (Math.Min(daysFrom, day), Math.Max(daysTo, day + DayMs));
                if (day < lo)
                {
                    parts.Add((day, lo, -1));
                }

                if (hi < day + DayMs)
                {
                    parts.Add((hi, day + DayMs, -1));
                }
            }
            else
            {
                parts.Add((lo, hi, 1));
            }
        }

        return daysFrom < daysTo ? new RollupReading(daysFrom, daysTo, parts) : new RollupReading(to, to, parts);
    }

    /// <summary>The rollup cell <paramref name="trace"/> is counted in.</summary>
    public static RollupCell CellOf(ClassifiedTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return new RollupCell(DayOf(trace.Trace.Timestamp.ToUnixTimeMilliseconds()), trace.Intent, trace.CohortKey);
    }
}

/// <summary>A window split for the rollup (<see cref="TrafficDays.Split"/>): [From, DaysFrom) and [DaysTo, To) from the traces, the days between from the rollup.</summary>
public readonly record struct WindowSplit(long From, long DaysFrom, long DaysTo, long To)
{
    /// <summary>Whether any whole day is read from the rollup.</summary>
    public bool HasDays => DaysFrom < DaysTo;

    /// <summary>The parts of a day at the window's ends, [From, DaysFrom) and [DaysTo, To), those not empty: what is read from the traces.</summary>
    public IEnumerable<(long From, long To)> Ends
    {
        get
        {
            if (From < DaysFrom)
            {
                yield return (From, DaysFrom);
            }

            if (DaysTo < To)
            {
                yield return (DaysTo, To);
            }
        }
    }
}

/// <summary>
/// A window as <see cref="TrafficDays.Reading"/> counts it: the days [DaysFrom, DaysTo) from the rollup, and parts read
/// from the traces, each added (<c>Sign</c> 1) or subtracted (−1).
/// </summary>
public readonly record struct RollupReading(long DaysFrom, long DaysTo, IReadOnlyList<(long From, long To, int Sign)> Parts)
{
    /// <summary>Whether any whole day is read from the rollup.</summary>
    public bool HasDays => DaysFrom < DaysTo;
}

/// <summary>One cell of the daily rollup: a UTC day (Unix milliseconds of its start), an intent and a cohort key.</summary>
public readonly record struct RollupCell(long Day, string Intent, string CohortKey);

/// <summary>
/// What one write changes in the daily rollup: each added trace counted in its cell, each merged trace taken out of the
/// cell it was in and counted in the one it is in now (a merge can change the time, the intent, the cohort or the
/// feedback). Cells whose change is nothing are left out of <see cref="Changes"/>.
/// </summary>
public sealed class RollupDelta
{
    private readonly Dictionary<RollupCell, FeedbackCount> _cells = [];

    /// <summary>Counts an added trace.</summary>
    public void Add(ClassifiedTrace trace) => Change(trace, +1);

    /// <summary>Forgets every change and keeps the room: a writer reuses one delta for its batches (a day's cells can fill a large object).</summary>
    public void Clear() => _cells.Clear();

    /// <summary>Takes a stored trace out (before its merged form is <see cref="Add"/>ed).</summary>
    public void Remove(ClassifiedTrace trace) => Change(trace, -1);

    /// <summary>The cells that change and by how much (negative counts for what was taken out), in no promised order.</summary>
    public IEnumerable<KeyValuePair<RollupCell, FeedbackCount>> Changes =>
        _cells.Where(c => c.Value is not { Traces: 0, Rated: 0, Up: 0, Escalated: 0, EscalationKnown: 0 });

    private void Change(ClassifiedTrace trace, int sign)
    {
        var count = FeedbackCount.Of(trace.Trace.Feedback);
        ref var cell = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_cells, TrafficDays.CellOf(trace), out _);
        cell = new FeedbackCount(
            cell.Traces + (sign * count.Traces),
            cell.Rated + (sign * count.Rated),
            cell.Up + (sign * count.Up),
            cell.Escalated + (sign * count.Escalated))
        {
            EscalationKnown = cell.EscalationKnown + (sign * count.EscalationKnown),
        };
    }
}
