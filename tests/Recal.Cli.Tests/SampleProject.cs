namespace Recal.Cli.Tests;

/// <summary>A fresh copy of the bundled CLINC150 sample in a temporary folder (without any store).</summary>
internal sealed class SampleProject : IDisposable
{
    public SampleProject()
    {
        RepositoryRoot = FindRepositoryRoot();
        var source = Path.Combine(RepositoryRoot, "samples", "clinc150-support");
        Folder = Path.Combine(Path.GetTempPath(), "recal-cli-" + Guid.NewGuid().ToString("N")[..12]);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.StartsWith(".recal", StringComparison.Ordinal))
            {
                continue;
            }

            var target = Path.Combine(Folder, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    public string Folder { get; }

    public string RepositoryRoot { get; }

    /// <summary>The checkout the tests run from: the first folder up from the test binaries that holds Recal.slnx.</summary>
    public static string FindRepositoryRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Recal.slnx")))
        {
            root = root.Parent;
        }

        return root!.FullName;
    }

    public string PathOf(string relative) => Path.Combine(Folder, relative);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
