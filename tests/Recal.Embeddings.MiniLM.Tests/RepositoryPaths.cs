using Recal.Testing.Shared;

namespace Recal.Embeddings.MiniLM.Tests;

internal static class RepositoryPaths
{
    public static string Root => RepositoryRoot.Path;

    public static string Sample => Path.Combine(Root, "samples", "clinc150-support");
}
