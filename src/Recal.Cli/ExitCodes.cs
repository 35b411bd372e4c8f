namespace Recal.Cli;

/// <summary>The exit codes every command uses, so CI can act on them (docs/cli.md).</summary>
public static class ExitCodes
{
    /// <summary>Done; nothing to report.</summary>
    public const int Ok = 0;

    /// <summary>Done, and a finding fired: a drift alarm, or validation errors.</summary>
    public const int Findings = 1;

    /// <summary>Could not run: bad usage, a project that does not load, a missing file or store.</summary>
    public const int CannotRun = 2;

    /// <summary>A run finished degraded: more cases errored than the allowed share (docs/running.md).</summary>
    public const int Degraded = 3;

    /// <summary>Stopped by Ctrl-C; completed work was kept.</summary>
    public const int Cancelled = 130;
}
