namespace Recal.Validation;

/// <summary>Finds the repository and the shared datasets beside it (<c>../shared/data</c>).</summary>
public static class SharedData
{
    public static string RepositoryRoot { get; } = FindRoot();

    public static string Folder => Existing(Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "data")));

    public static string Clinc150 => Path.Combine(Folder, "clinc150");

    public static string Hwu64 => Path.Combine(Folder, "hwu64");

    public static string MtBenchQuestions => Path.Combine(Folder, "mt-bench", "fastchat", "question.jsonl");

    /// <summary>The path, when it exists; otherwise what is missing and what to do, instead of a bare DirectoryNotFoundException.</summary>
    internal static string Existing(string path) =>
        File.Exists(path) || Directory.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"These tests read the public datasets in ../shared/data beside the repository, and {path} is missing. " +
                "Put the shared folder (data/clinc150, data/hwu64, data/mt-bench) beside the clone, as README.md#tests says.");

    private static string FindRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            var directory = new DirectoryInfo(start);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Recal.slnx")))
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
