using System.Reflection;
using Recal.Storage;

namespace Recal.Testing;

/// <summary>
/// Wraps a store and fails its writes after a number of them succeeded, the way a full disk or a lost volume does:
/// every call passes through to the inner store until <see cref="FailAfterWrites"/> writes have gone through, then
/// each write throws <see cref="IOException"/> (reads keep working).
/// </summary>
public class FaultInjectingStore : DispatchProxy
{
    private static readonly HashSet<string> Writes = new(StringComparer.Ordinal)
    {
        nameof(IRecalStore.AddTracesAsync),
        nameof(IRecalStore.AddRunCaseAsync),
        nameof(IRecalStore.AddRunCasesAsync),
        nameof(IRecalStore.PutEmbeddingsAsync),
        nameof(IRecalStore.PutCachedResponseAsync),
    };

    private IRecalStore _inner = null!;
    private int _writes;

    /// <summary>How many writes succeed before they start failing.</summary>
    public int FailAfterWrites { get; private set; }

    /// <summary>Writes that reached the inner store.</summary>
    public int SucceededWrites => Volatile.Read(ref _writes);

    /// <summary>The message of the injected failure.</summary>
    public const string FailureMessage = "injected fault: database or disk is full";

    public static IRecalStore Wrap(IRecalStore inner, int failAfterWrites)
    {
        ArgumentNullException.ThrowIfNull(inner);
        var proxy = Create<IRecalStore, FaultInjectingStore>();
        var fault = (FaultInjectingStore)(object)proxy;
        fault._inner = inner;
        fault.FailAfterWrites = failAfterWrites;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        if (Writes.Contains(targetMethod.Name))
        {
            if (Interlocked.Increment(ref _writes) > FailAfterWrites)
            {
                Interlocked.Decrement(ref _writes);
                throw new IOException(FailureMessage);
            }
        }

        try
        {
            return targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            throw;
        }
    }
}
