using Recal.Classification;
using Recal.Domain;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>A window's traffic tallied the way the instruments read it: by intent (unknown apart) and by each cohort dimension.</summary>
public sealed class TrafficTally
{
    public long Total { get; private set; }

    /// <summary>Traces the classifier could not place (intent <c>unknown</c>).</summary>
    public long Unknown { get; private set; }

    /// <summary>Traces per known intent.</summary>
    public Dictionary<string, long> Intents { get; } = new(StringComparer.Ordinal);

    /// <summary>Traces per value of each cohort dimension.</summary>
    public Dictionary<string, Dictionary<string, long>> Cohorts { get; } = new(StringComparer.Ordinal);

    public static TrafficTally Of(Taxonomy taxonomy, IEnumerable<TrafficCount> counts)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        ArgumentNullException.ThrowIfNull(counts);
        var tally = new TrafficTally();
        foreach (var dimension in taxonomy.Cohorts)
        {
            tally.Cohorts[dimension.Name] = new(StringComparer.Ordinal);
        }

        // A window's cells repeat a few cohort keys many times over: each is parsed once.
        var parsed = new Dictionary<string, IReadOnlyList<KeyValuePair<string, string>>>(StringComparer.Ordinal);
        foreach (var count in counts)
        {
            tally.Total += count.Count;
            if (count.Intent == Taxonomy.UnknownIntent)
            {
                tally.Unknown += count.Count;
            }
            else
            {
                tally.Intents[count.Intent] = tally.Intents.GetValueOrDefault(count.Intent) + count.Count;
            }

            if (!parsed.TryGetValue(count.CohortKey, out var pairs))
            {
                parsed[count.CohortKey] = pairs = CohortResolver.ParseKey(count.CohortKey);
            }

            foreach (var (dimension, value) in pairs)
            {
                if (tally.Cohorts.TryGetValue(dimension, out var values))
                {
                    values[value] = values.GetValueOrDefault(value) + count.Count;
                }
            }
        }

        return tally;
    }

    /// <summary>Known-intent traffic: the intent measures' total.</summary>
    public long Known => Total - Unknown;
}

/// <summary>
/// The reference the calibrated alarms compare with: the first <c>traffic_window</c> of stored traffic (the weeks a set
/// is typically drawn from), tallied whole and per sub-period (ISO weeks; UTC days for a daily series or a window shorter
/// than two weeks) for its dispersion factor (docs/drift.md#calibrated-alarms).
/// </summary>
public sealed record DriftReference(DateTimeOffset From, DateTimeOffset To, TrafficTally Tally, Dispersion Dispersion)
{
    /// <param name="series">The series' period: a daily series reads its dispersion from the reference's days, so day-to-day variation (weekdays against weekends) is part of it.</param>
    public static ValueTask<DriftReference> ReadAsync(EvalProject project, IRecalStore store, TrafficSpan span, Period series = Period.None, CancellationToken cancellationToken = default) =>
        ReadAsync(project, new TrafficCells(store), span, series, cancellationToken);

    /// <summary>The reference, counted from <paramref name="cells"/> (<see cref="Windows"/> are what to prime them with).</summary>
    public static async ValueTask<DriftReference> ReadAsync(EvalProject project, TrafficCells cells, TrafficSpan span, Period series = Period.None, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(cells);
        ArgumentNullException.ThrowIfNull(span);
        var (to, period) = Bounds(project, span, series);
        var counts = await cells.CountTrafficAsync(span.First, to, period, cancellationToken).ConfigureAwait(false);
        return new DriftReference(span.First, to, TrafficTally.Of(project.Taxonomy, counts), Dispersed(counts, span.First, to, period));
    }

    /// <summary>The stretches of traffic <see cref="ReadAsync(EvalProject, TrafficCells, TrafficSpan, Period, CancellationToken)"/> counts: the reference window, sub-period by sub-period.</summary>
    public static IEnumerable<(DateTimeOffset From, DateTimeOffset To)> Windows(EvalProject project, TrafficSpan span, Period series = Period.None)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(span);
        var (to, period) = Bounds(project, span, series);
        return TrafficCells.Windows(span.First, to, period);
    }

    private static (DateTimeOffset To, Period Period) Bounds(EvalProject project, TrafficSpan span, Period series)
    {
        var end = span.Last.AddMilliseconds(1);
        var window = project.Policy.TrafficWindow;
        var to = span.First + window < end ? span.First + window : end;
        return (to, series != Period.Day && window >= TimeSpan.FromDays(14) ? Period.Week : Period.Day);
    }

    /// <summary>
    /// φ of the intents × sub-periods table (unknown counted as a category: it varies with the traffic too), over the
    /// whole sub-periods inside the window when there are two or more (a partial week meets other days of the week).
    /// </summary>
    internal static Dispersion Dispersed(IReadOnlyList<TrafficCount> counts, DateTimeOffset from, DateTimeOffset to, Period period)
    {
        var all = counts.Select(c => c.BucketStart!.Value).Distinct().Order().ToList();
        var whole = all.Where(b => b >= from && PeriodMath.End(b, period) <= to).ToList();
        var buckets = whole.Count >= 2 ? whole : all;
        counts = [.. counts.Where(c => buckets.Contains(c.BucketStart!.Value))];
        if (buckets.Count < 2)
        {
            return Dispersion.None;
        }

        var column = buckets.Select((b, i) => (b, i)).ToDictionary(x => x.b, x => x.i);
        var rows = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var count in counts)
        {
            if (!rows.TryGetValue(count.Intent, out var row))
            {
                rows[count.Intent] = row = new long[buckets.Count];
            }

            row[column[count.BucketStart!.Value]] += count.Count;
        }

        return Overdispersion.Estimate([.. rows.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => r.Value)]);
    }
}
