using Polly;
using Polly.Retry;

namespace Recal.Running;

/// <summary>How calls are retried: attempts, exponential backoff with jitter, and the server's Retry-After honoured.</summary>
public sealed record RetrySettings(int MaxRetries = 4, TimeSpan? BaseDelay = null, TimeSpan? MaxDelay = null)
{
    public TimeSpan EffectiveBaseDelay => BaseDelay ?? TimeSpan.FromMilliseconds(500);

    public TimeSpan EffectiveMaxDelay => MaxDelay ?? TimeSpan.FromSeconds(30);
}

/// <summary>Builds the resilience pipeline every target and judge call goes through.</summary>
public static class RetryPolicy
{
    /// <param name="onRetry">Told about every retry (attempt number, delay, cause) so runs can count them.</param>
    public static ResiliencePipeline Create(RetrySettings settings, Action<int, TimeSpan, Exception?>? onRetry = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builder = new ResiliencePipelineBuilder();
        if (time is not null)
        {
            builder.TimeProvider = time;
        }

        return builder.AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(1, settings.MaxRetries),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = settings.EffectiveBaseDelay,
            MaxDelay = settings.EffectiveMaxDelay,
            ShouldHandle = new PredicateBuilder()
                .Handle<TargetCallException>(e => e.Transient)
                .Handle<HttpRequestException>()
                .Handle<TimeoutException>(),
            DelayGenerator = args =>
                ValueTask.FromResult(args.Outcome.Exception is TargetCallException { RetryAfter: { } after }
                    ? (TimeSpan?)TimeSpan.FromTicks(Math.Min(after.Ticks, settings.EffectiveMaxDelay.Ticks))
                    : null),
            OnRetry = args =>
            {
                onRetry?.Invoke(args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception);
                return ValueTask.CompletedTask;
            },
        }).Build();
    }
}
