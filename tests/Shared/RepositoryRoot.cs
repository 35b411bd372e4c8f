namespace Recal.Testing.Shared;

/// <summary>
/// The repository a test runs from and the shared datasets beside it, for the test projects that link this file
/// (a source file, not a library, so a test project needs no reference for it).
/// </summary>
internal static class RepositoryRoot
{
    /// <summary>The folder holding Recal.slnx, above the binaries (or, for a tool run from the repository, the working directory).</summary>
    public static string Path { get; } = Find();

    /// <summary>A dataset path under ../shared/data beside the repository, when it exists (see <see cref="Existing"/>).</summary>
    public static string SharedData(params string[] parts) =>
        Existing(System.IO.Path.GetFullPath(System.IO.Path.Combine([Path, "..", "shared", "data", .. parts])));

    /// <summary>The path, when it exists; otherwise what is missing and what to do, instead of a bare DirectoryNotFoundException.</summary>
    public static string Existing(string path) =>
        File.Exists(path) || Directory.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"These tests read the public datasets in ../shared/data beside the repository, and {path} is missing. " +
                "Put the shared folder (data/clinc150, data/hwu64, data/mt-bench) beside the clone, as README.md#tests says.");

    private static string Find()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            var directory = new DirectoryInfo(start);
            while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "Recal.slnx")))
            {
                directory = directory.Parent;
            }

            if (directory is not null)
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Recal.slnx not found above " + AppContext.BaseDirectory);
    }
}
