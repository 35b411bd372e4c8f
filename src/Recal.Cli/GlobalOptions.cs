using System.CommandLine;

namespace Recal.Cli;

/// <summary>Options every command accepts.</summary>
internal static class GlobalOptions
{
    public static Option<DirectoryInfo> Project { get; } = new("--project", "-p")
    {
        Description = "The eval project folder (holding recal.yaml)",
        DefaultValueFactory = _ => new DirectoryInfo(Directory.GetCurrentDirectory()),
        Recursive = true,
        HelpName = "dir",
    };
}
