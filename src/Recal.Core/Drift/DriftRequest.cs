using Recal.Domain;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>What to compare: the eval pools, the traffic window and the series period.</summary>
/// <param name="From">Start of the current window (inclusive); default: the policy's traffic window before <paramref name="To"/>.</param>
/// <param name="To">End of the current window (exclusive); default: just after the newest stored trace.</param>
/// <param name="Over">The series period; <see cref="Period.None"/> for the current window only.</param>
/// <param name="Timeline">Whether the gap timeline's tests will run too: they share each window's false-alarm rate.</param>
public sealed record DriftRequest(DateTimeOffset? From = null, DateTimeOffset? To = null, Period Over = Period.None, IReadOnlyList<Pool>? Pools = null, bool Timeline = true)
{
    public IReadOnlyList<Pool> EffectivePools => Pools is { Count: > 0 } ? Pools : [Pool.Gold];
}
