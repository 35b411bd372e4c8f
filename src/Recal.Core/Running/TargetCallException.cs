namespace Recal.Running;

/// <summary>
/// A failed call to a target or judge, classified so the runner can decide to retry: providers translate their
/// own errors into this.
/// </summary>
/// <param name="status">The HTTP status, when there was one.</param>
/// <param name="retryAfter">How long the server asked us to wait (from Retry-After).</param>
/// <param name="transient">Worth retrying: 429, 5xx, timeouts, connection resets.</param>
public sealed class TargetCallException(string message, int? status, TimeSpan? retryAfter, bool transient, Exception? inner = null)
    : Exception(message, inner)
{
    public int? Status { get; } = status;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    public bool Transient { get; } = transient;

    /// <summary>How many attempts were made before the call failed for good; 0 when not counted.</summary>
    public int Attempts { get; private init; }

    /// <summary>This failure with the number of attempts it took.</summary>
    public TargetCallException WithAttempts(int attempts) =>
        new(Message, Status, RetryAfter, Transient, InnerException) { Attempts = attempts };

    /// <summary>429 and 5xx are transient; other statuses are the request's fault and retrying will not help.</summary>
    public static bool IsTransientStatus(int status) => status == 429 || status >= 500;
}
