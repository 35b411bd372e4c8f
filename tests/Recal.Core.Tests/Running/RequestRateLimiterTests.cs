using FluentAssertions;
using Recal.Running;
using Xunit;

namespace Recal.Core.Tests.Running;

/// <summary>The requests-per-minute cap, on a clock the test moves by hand.</summary>
public sealed class RequestRateLimiterTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(120, 500)]
    [InlineData(6, 10_000)]
    [InlineData(90, 666)]
    public async Task Slots_are_spaced_sixty_seconds_over_rpm_apart(double rpm, int spacingMs)
    {
        // Given a limiter and five callers arriving at once
        var clock = new ManualTimeProvider(Start);
        var limiter = new RequestRateLimiter(rpm, clock);
        var spacing = TimeSpan.FromTicks((long)(TimeSpan.TicksPerMinute / rpm));
        spacing.TotalMilliseconds.Should().BeApproximately(spacingMs, 1);
        var waits = Enumerable.Range(0, 5).Select(_ => limiter.WaitAsync(TestContext.Current.CancellationToken).AsTask()).ToList();

        // Then the first goes at once, and caller k goes k spacings later: not a tick sooner, and within the
        // millisecond that timers count in
        await waits[0].WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        for (var k = 1; k < waits.Count; k++)
        {
            clock.AdvanceTo(Start + (k * spacing) - TimeSpan.FromTicks(1));
            waits.Skip(k).Should().OnlyContain(w => !w.IsCompleted, $"caller {k} must wait until {k} spacings have passed");
            clock.AdvanceTo(Start + (k * spacing) + TimeSpan.FromMilliseconds(1));
            await waits[k].WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Idle_time_earns_no_burst_so_no_sixty_second_window_holds_more_than_the_limit()
    {
        // Given a 60 rpm limiter that was used once and then idle for five minutes
        var clock = new ManualTimeProvider(Start);
        var limiter = new RequestRateLimiter(60, clock);
        await limiter.WaitAsync(TestContext.Current.CancellationToken);
        clock.AdvanceTo(Start.AddMinutes(5));

        // When three callers arrive at once
        var waits = Enumerable.Range(0, 3).Select(_ => limiter.WaitAsync(TestContext.Current.CancellationToken).AsTask()).ToList();

        // Then only the first goes now; the others still go one second apart
        await waits[0].WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        waits[1].IsCompleted.Should().BeFalse();
        clock.AdvanceTo(Start.AddMinutes(5).AddSeconds(1));
        await waits[1].WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        waits[2].IsCompleted.Should().BeFalse();
        clock.AdvanceTo(Start.AddMinutes(5).AddSeconds(2));
        await waits[2].WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_cancelled_wait_ends_at_once()
    {
        var clock = new ManualTimeProvider(Start);
        var limiter = new RequestRateLimiter(1, clock);
        await limiter.WaitAsync(TestContext.Current.CancellationToken);
        using var cancel = new CancellationTokenSource();

        var waiting = limiter.WaitAsync(cancel.Token).AsTask();
        waiting.IsCompleted.Should().BeFalse();
        await cancel.CancelAsync();

        await waiting.Awaiting(w => w.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().ThrowAsync<OperationCanceledException>();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Rpm_must_be_positive(double rpm)
    {
        var act = () => new RequestRateLimiter(rpm);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    /// <summary>A clock and timers that move only when the test says so.</summary>
    private sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
    {
        private readonly Lock _lock = new();
        private readonly List<ManualTimer> _timers = [];
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow()
        {
            lock (_lock)
            {
                return _now;
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new ManualTimer(this, callback, state);
            timer.Change(dueTime, period);
            return timer;
        }

        /// <summary>Moves the clock forward and fires every timer that is due by then.</summary>
        public void AdvanceTo(DateTimeOffset time)
        {
            List<ManualTimer> due;
            lock (_lock)
            {
                time.Should().BeOnOrAfter(_now);
                _now = time;
                due = [.. _timers.Where(t => t.Due <= time)];
                foreach (var timer in due)
                {
                    _timers.Remove(timer);
                }
            }

            foreach (var timer in due)
            {
                timer.Fire();
            }
        }

        private void Schedule(ManualTimer timer, DateTimeOffset? due)
        {
            lock (_lock)
            {
                _timers.Remove(timer);
                timer.Due = due ?? DateTimeOffset.MaxValue;
                if (due is not null)
                {
                    _timers.Add(timer);
                }
            }
        }

        private sealed class ManualTimer(ManualTimeProvider clock, TimerCallback callback, object? state) : ITimer
        {
            public DateTimeOffset Due { get; set; } = DateTimeOffset.MaxValue;

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                clock.Schedule(this, dueTime == Timeout.InfiniteTimeSpan ? null : clock.GetUtcNow() + dueTime);
                return true;
            }

            public void Fire() => callback(state);

            public void Dispose() => clock.Schedule(this, null);

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
