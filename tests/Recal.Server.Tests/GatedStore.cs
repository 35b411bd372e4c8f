using System.Reflection;
using Recal.Storage;

namespace Recal.Server.Tests;

/// <summary>
/// A store whose merges wait at a gate the test opens, or fail: a slow or full disk without a clock. Every other
/// call goes straight through.
/// </summary>
public class GatedStore : DispatchProxy
{
    private IRecalStore _inner = null!;

    /// <summary>Set when a merge has reached the gate.</summary>
    public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Merges wait until this is set (set from the start when not gated).</summary>
    public TaskCompletionSource Open { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>While true, merges throw as a full disk does.</summary>
    public bool Failing { get; set; }

    public static (IRecalStore Store, GatedStore Gate) Wrap(IRecalStore inner, bool gated)
    {
        var proxy = Create<IRecalStore, GatedStore>();
        var gate = (GatedStore)(object)proxy;
        gate._inner = inner;
        if (!gated)
        {
            gate.Open.SetResult();
        }

        return (proxy, gate);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (targetMethod.Name == nameof(IRecalStore.MergeTracesAsync))
        {
            return MergeAsync(targetMethod, args);
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

    private async ValueTask<MergeBatchResult> MergeAsync(MethodInfo method, object?[]? args)
    {
        Entered.TrySetResult();
        await Open.Task.ConfigureAwait(false);
        if (Failing)
        {
            throw new IOException("injected fault: database or disk is full");
        }

        return await ((ValueTask<MergeBatchResult>)method.Invoke(_inner, args)!).ConfigureAwait(false);
    }
}
