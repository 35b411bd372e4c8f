using FluentAssertions;
using Recal.Storage;
using Xunit;

namespace Recal.Core.Tests.Storage;

public sealed class TrafficDaysTests
{
    private const long Day = TrafficDays.DayMs;

    // 2026-06-01T00:00:00Z, a midnight.
    private const long Midnight = 1_780_272_000_000;

    [Fact]
    public void Counting_a_window_by_its_reading_gives_the_count_of_its_traces_for_any_bounds()
    {
        // Given traces spread over ten days, some on midnights and some a millisecond either side
        var random = new Random(11);
        var times = Enumerable.Range(0, 4_000).Select(_ => Midnight + random.NextInt64(0, 10 * Day)).ToList();
        times.AddRange(Enumerable.Range(1, 9).SelectMany(d => new[] { Midnight + (d * Day) - 1, Midnight + (d * Day), Midnight + (d * Day) + 1 }));
        var perDay = times.GroupBy(t => TrafficDays.DayOf(t)).ToDictionary(g => g.Key, g => (long)g.Count());
        long Traces(long from, long to) => times.Count(t => t >= from && t < to);

        // When windows of every length and alignment are read, with the rollup pruned before a day or not
        var bounds = new List<(long From, long To)>
        {
            (Midnight, Midnight + Day),
            (Midnight + (Day / 2), Midnight + Day),
            (Midnight + (Day / 2) - 1, Midnight + Day),
            (Midnight + (Day / 2) + 1, Midnight + Day),
            (Midnight + 1, Midnight + Day - 1),
            (Midnight + (Day / 10), Midnight + Day + (Day * 9 / 10)),
            (Midnight + (Day * 9 / 10), Midnight + Day + (Day / 10)),
            (Midnight + (Day * 3 / 10), Midnight + (2 * Day) + (Day * 7 / 10)),
            (Midnight + Day, Midnight + Day),
        };
        for (var i = 0; i < 300; i++)
        {
            var from = Midnight + random.NextInt64(-Day, 10 * Day);
            bounds.Add((from, from + random.NextInt64(0, 4 * Day)));
        }

        foreach (var prunedBefore in new long?[] { null, Midnight + (3 * Day) })
        {
            foreach (var (from, to) in bounds)
            {
                var reading = TrafficDays.Reading(from, to, prunedBefore);
                var counted = 0L;
                for (var day = reading.DaysFrom; day < reading.DaysTo; day += Day)
                {
                    counted += perDay.GetValueOrDefault(day);
                }

                counted += reading.Parts.Sum(p => p.Sign * Traces(p.From, p.To));

                // Then the rollup's days and the signed parts count exactly the window's traces
                counted.Should().Be(Traces(from, to), $"[{from}, {to}) pruned before {prunedBefore}");

                // And the traces read are at most half a day at each end, except on a pruned day (read as it is)
                reading.Parts.Should().NotContain(p => p.From >= p.To);
                reading.Parts.Where(p => prunedBefore == null || p.From >= prunedBefore).Should().NotContain(p => p.To - p.From > Day / 2, $"[{from}, {to})");
                reading.Parts.Where(p => p.Sign < 0).Should().NotContain(p => prunedBefore != null && TrafficDays.DayOf(p.From) < prunedBefore);
            }
        }
    }

    [Fact]
    public void A_part_longer_than_half_its_day_is_the_day_less_the_rest()
    {
        // Given a window from 15:00 on one day to 20:00 two days later
        var (from, to) = (Midnight + (Day * 5 / 8), Midnight + (2 * Day) + (Day * 5 / 6));

        // When it is read
        var reading = TrafficDays.Reading(from, to);

        // Then the first day's 9 hours are read from traces, the third day's 20 hours as the day less its last 4 hours
        reading.DaysFrom.Should().Be(Midnight + Day);
        reading.DaysTo.Should().Be(Midnight + (3 * Day));
        reading.Parts.Should().Equal((from, Midnight + Day, 1), (to, Midnight + (3 * Day), -1));
    }
}
