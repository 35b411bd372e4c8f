namespace Recal.Cli;

internal static class Program
{
    private static Task<int> Main(string[] args) => RecalCli.RunAsync(args, CliContext.ForProcess());
}
