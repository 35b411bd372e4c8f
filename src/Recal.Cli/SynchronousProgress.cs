namespace Recal.Cli;

/// <summary>Reports on the caller's thread (unlike <see cref="Progress{T}"/>): lines come out in the order things happened, before what follows.</summary>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
