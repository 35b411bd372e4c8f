namespace Recal.Embeddings.MiniLM.Tests;

internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Sample => Path.Combine(Root, "samples", "clinc150-support");

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
