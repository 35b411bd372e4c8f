namespace Recal.SampleBot.Tests;

internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string SampleProject => Path.Combine(Root, "samples", "clinc150-support");

    /// <summary>The CLINC150 folder the sample was generated from, beside the repository (as in Recal.Core.Tests).</summary>
    public static string Clinc150 => Path.GetFullPath(Path.Combine(Root, "..", "shared", "data", "clinc150"));

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
