namespace Recal.Validation;

/// <summary>Finds the repository and the shared datasets beside it (<c>../shared/data</c>).</summary>
public static class SharedData
{
    public static string RepositoryRoot => Recal.Testing.Shared.RepositoryRoot.Path;

    public static string Folder => Recal.Testing.Shared.RepositoryRoot.SharedData();

    public static string Clinc150 => Path.Combine(Folder, "clinc150");

    public static string Hwu64 => Path.Combine(Folder, "hwu64");

    public static string MtBenchQuestions => Path.Combine(Folder, "mt-bench", "fastchat", "question.jsonl");
}
