namespace Recal.Running;

/// <summary>Holds each call back until a requests-per-minute limit lets it go.</summary>
public interface IRequestLimiter
{
    double RequestsPerMinute { get; }

    /// <summary>Waits for the next free slot.</summary>
    ValueTask WaitAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Paces calls to at most a number of requests per minute: call slots are spaced evenly (60 s / rpm apart), so no
/// 60-second window ever holds more than the limit. Every attempt takes a slot, retries included.
/// </summary>
public sealed class RequestRateLimiter(double requestsPerMinute, TimeProvider? time = null) : IRequestLimiter
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly TimeSpan _spacing = TimeSpan.FromTicks((long)(TimeSpan.TicksPerMinute / requestsPerMinute));
    private readonly Lock _lock = new();
    private DateTimeOffset _next = DateTimeOffset.MinValue;

    public double RequestsPerMinute { get; } = requestsPerMinute > 0 ? requestsPerMinute : throw new ArgumentOutOfRangeException(nameof(requestsPerMinute), "must be positive");

    /// <summary>Waits for the next free slot.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset slot;
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            slot = _next > now ? _next : now;
            _next = slot + _spacing;
        }

        if (slot > now)
        {
            // Timers count whole milliseconds and Task.Delay drops the rest: rounding up keeps a slot from opening early.
            var wait = TimeSpan.FromMilliseconds(Math.Ceiling((slot - now).TotalMilliseconds));
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>What every single attempt at a call goes through: the rate limit, then a timeout.</summary>
public sealed class CallGuard(IRequestLimiter? limiter, TimeSpan? timeout)
{
    public static CallGuard None { get; } = new(null, null);

    /// <summary>
    /// Runs <paramref name="attempt"/> through the retry pipeline, each attempt through this guard, and counts the
    /// attempts. A call that fails for good carries the count (<see cref="TargetCallException.Attempts"/>, or
    /// <see cref="AttemptsKey"/> in the exception's data), so an errored case records how often the endpoint was tried.
    /// </summary>
    public async Task<(T Value, int Attempts)> ExecuteAsync<T>(Polly.ResiliencePipeline pipeline, Func<CancellationToken, Task<T>> attempt, string what, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var attempts = 0;
        try
        {
            var value = await pipeline.ExecuteAsync(
                async token =>
                {
                    Interlocked.Increment(ref attempts);
                    return await RunAsync(attempt, what, token).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false);
            return (value, attempts);
        }
        catch (TargetCallException e)
        {
            throw e.WithAttempts(attempts);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            e.Data[AttemptsKey] = attempts;
            throw;
        }
    }

    /// <summary>The key under which an unclassified exception's data holds the number of attempts made.</summary>
    public const string AttemptsKey = "recal.attempts";

    /// <summary>The attempts a failed call made, as recorded by <see cref="ExecuteAsync"/>; 0 when unknown.</summary>
    public static int AttemptsOf(Exception exception) =>
        exception is TargetCallException { Attempts: var n } && n > 0 ? n
        : exception?.Data[AttemptsKey] is int counted ? counted
        : 0;

    /// <summary>Runs one attempt; a timeout becomes a transient <see cref="TargetCallException"/> so it is retried.</summary>
    public async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> attempt, string what, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (limiter is not null)
        {
            await limiter.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (timeout is not { } limit)
        {
            return await attempt(cancellationToken).ConfigureAwait(false);
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(limit);
        try
        {
            return await attempt(timer.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or TargetCallException && timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TargetCallException($"{what}: no answer within {limit.TotalSeconds:0.#} s", null, null, transient: true, e);
        }
    }
}
