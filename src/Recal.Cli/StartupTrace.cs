using System.Diagnostics;

namespace Recal.Cli;

/// <summary>
/// With <c>RECAL_STARTUP_TRACE</c> set, the milliseconds since the process started at each step of a command's start-up
/// (runtime start, consoles, command tree, project load, store, the run's record, the target), on stderr: what
/// docs/performance.md's start-up figures are measured with. Nothing is written, or read from the clock, without it.
/// </summary>
internal static class StartupTrace
{
    private static readonly bool Enabled = Environment.GetEnvironmentVariable("RECAL_STARTUP_TRACE") is { Length: > 0 };
    private static readonly DateTime Start = Enabled ? Process.GetCurrentProcess().StartTime.ToUniversalTime() : default;

    public static void Mark(string what)
    {
        if (Enabled)
        {
            Console.Error.WriteLine($"startup {(DateTime.UtcNow - Start).TotalMilliseconds,7:0.0} ms  {what}");
        }
    }
}
