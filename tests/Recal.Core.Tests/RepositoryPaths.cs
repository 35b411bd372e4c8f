namespace Recal.Core.Tests;

/// <summary>Finds the repository and the shared datasets beside it.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Clinc150 => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data", "clinc150", "data_full.json"));

    public static string Hwu64 => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data", "hwu64"));

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Recal.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Recal.slnx not found above " + AppContext.BaseDirectory);
    }
}
