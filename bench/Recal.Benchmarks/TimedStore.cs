using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using Recal.Storage;

namespace Recal.Benchmarks;

/// <summary>
/// A store that times every call it passes on, by method (until the returned task completes, the visits of a scan
/// included): where a use case's time goes between the store and the computation above it.
/// </summary>
public class TimedStore : DispatchProxy
{
    private IRecalStore _inner = null!;

    public ConcurrentDictionary<string, (int Calls, TimeSpan Time)> Calls { get; } = new(StringComparer.Ordinal);

    public static (IRecalStore Store, TimedStore Timer) Wrap(IRecalStore inner)
    {
        var proxy = Create<IRecalStore, TimedStore>();
        var timer = (TimedStore)(object)proxy;
        timer._inner = inner;
        return (proxy, timer);
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var watch = Stopwatch.StartNew();
        object? result;
        try
        {
            result = targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }

        void Done() => Calls.AddOrUpdate(targetMethod.Name, _ => (1, watch.Elapsed), (_, was) => (was.Calls + 1, was.Time + watch.Elapsed));
        switch (result)
        {
            case ValueTask plain:
                return new ValueTask(plain.AsTask().ContinueWith(t => { Done(); t.GetAwaiter().GetResult(); }, TaskScheduler.Default));
            case Task task:
                task.ContinueWith(_ => Done(), TaskScheduler.Default);
                return task;
            case not null when result.GetType() is { IsGenericType: true } type && type.GetGenericTypeDefinition() == typeof(ValueTask<>):
                var asTask = (Task)type.GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(result, null)!;
                var done = asTask.ContinueWith(_ => Done(), TaskScheduler.Default);
                var wait = typeof(TimedStore).GetMethod(nameof(After), BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type.GetGenericArguments()[0]);
                return wait.Invoke(null, [asTask, done]);
            default:
                Done();
                return result;
        }
    }

    private static async ValueTask<T> After<T>(Task<T> task, Task done)
    {
        var value = await task.ConfigureAwait(false);
        await done.ConfigureAwait(false);
        return value;
    }
}
