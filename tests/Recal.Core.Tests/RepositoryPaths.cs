using Recal.Testing.Shared;

namespace Recal.Core.Tests;

/// <summary>Finds the repository and the shared datasets beside it.</summary>
internal static class RepositoryPaths
{
    public static string Root => RepositoryRoot.Path;

    public static string Clinc150 => RepositoryRoot.SharedData("clinc150", "data_full.json");

    public static string Hwu64 => RepositoryRoot.SharedData("hwu64");
}
