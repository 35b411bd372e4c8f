namespace Recal.Cli;

internal static class Program
{
    private static Task<int> Main(string[] args)
    {
        StartupTrace.Mark("main");
        return RecalCli.RunAsync(args, CliContext.ForProcess());
    }
}
