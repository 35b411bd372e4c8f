using Recal.Domain;

namespace Recal.Running;

/// <summary>A system under test: answers one case at a time; safe to call concurrently.</summary>
public interface ITarget
{
    /// <summary>
    /// Gets the target's answer for a case. Throws <see cref="TargetCallException"/> when no answer could be had
    /// (after retries); the run records that case as an error.
    /// </summary>
    ValueTask<TargetResponse> InvokeAsync(EvalCase evalCase, CancellationToken cancellationToken = default);
}
