using System.Reflection;
using Recal.Storage;

namespace Recal.Server.Tests;

/// <summary>
/// A store whose traffic counts (what drift and the check read first) wait while <see cref="Open"/> is reset: a round
/// of the dashboard's views that takes as long as the test wants. The state the pages compare, the receiver's writes
/// and every other call go straight through.
/// </summary>
public class SlowViewStore : DispatchProxy
{
    private IRecalStore _inner = null!;

    /// <summary>Counts wait while this is reset; set from the start.</summary>
    public ManualResetEventSlim Open { get; } = new(initialState: true);

    public static (IRecalStore Store, SlowViewStore Gate) Wrap(IRecalStore inner)
    {
        var proxy = Create<IRecalStore, SlowViewStore>();
        var gate = (SlowViewStore)(object)proxy;
        gate._inner = inner;
        return (proxy, gate);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IRecalStore.CountTrafficAsync))
        {
            // Called inside the round's computation, on a pool thread of its own: waiting here holds the round alone.
            Open.Wait(TimeSpan.FromMinutes(2));
        }

        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }
}
