namespace Recal.Benchmarks;

internal static class Paths
{
    public static string Root { get; } = FindRoot();

    public static string Sample => Path.Combine(Root, "samples", "clinc150-support");

    /// <summary>Where the benchmarks keep their generated inputs and stores: <c>RECAL_BENCH_DIR</c>, else a temporary folder.</summary>
    public static string Work { get; } = Environment.GetEnvironmentVariable("RECAL_BENCH_DIR") is { Length: > 0 } configured
        ? configured
        : Path.Combine(Path.GetTempPath(), "recal-bench");

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Recal.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("run from inside the repository");
    }
}
