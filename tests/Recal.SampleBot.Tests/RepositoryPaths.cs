using Recal.Testing.Shared;

namespace Recal.SampleBot.Tests;

internal static class RepositoryPaths
{
    public static string Root => RepositoryRoot.Path;

    public static string SampleProject => Path.Combine(Root, "samples", "clinc150-support");

    /// <summary>The CLINC150 folder the sample was generated from, beside the repository (as in Recal.Core.Tests).</summary>
    public static string Clinc150 => RepositoryRoot.SharedData("clinc150");
}
