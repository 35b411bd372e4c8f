using Recal.Storage;

namespace Recal.Running;

/// <summary>
/// A requests-per-minute limit kept in the store, shared by every worker of a distributed run: each call reserves the
/// next slot (60 s / rpm after the previous one, by the store's clock) and waits for it, so the workers together stay
/// within the limit wherever they run. Every attempt takes a slot, retries included, as with the local limiter.
/// </summary>
public sealed class SharedRequestRateLimiter(IRunQueue queue, string key, double requestsPerMinute) : IRequestLimiter
{
    private readonly TimeSpan _spacing = TimeSpan.FromTicks((long)(TimeSpan.TicksPerMinute / requestsPerMinute));

    public double RequestsPerMinute { get; } = requestsPerMinute > 0 ? requestsPerMinute : throw new ArgumentOutOfRangeException(nameof(requestsPerMinute), "must be positive");

    /// <summary>The limit's name in the store: one per target (or judge panel), whatever run calls it.</summary>
    public string Key { get; } = key ?? throw new ArgumentNullException(nameof(key));

    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        var wait = await queue.ReserveCallSlotAsync(Key, _spacing, cancellationToken).ConfigureAwait(false);
        if (wait > TimeSpan.Zero)
        {
            // Rounded up to whole milliseconds, as the local limiter does, so a slot never opens early.
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), cancellationToken).ConfigureAwait(false);
        }
    }
}
