namespace Recal.Core.Tests;

/// <summary>Finds the repository and the shared datasets beside it.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Clinc150 => Existing(Path.GetFullPath(Path.Combine(Root, "..", "shared", "data", "clinc150", "data_full.json")));

    public static string Hwu64 => Existing(Path.GetFullPath(Path.Combine(Root, "..", "shared", "data", "hwu64")));

    /// <summary>The path, when it exists; otherwise what is missing and what to do, instead of a bare DirectoryNotFoundException.</summary>
    internal static string Existing(string path) =>
        File.Exists(path) || Directory.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"These tests read the public datasets in ../shared/data beside the repository, and {path} is missing. " +
                "Put the shared folder (data/clinc150, data/hwu64, data/mt-bench) beside the clone, as README.md#tests says.");

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
