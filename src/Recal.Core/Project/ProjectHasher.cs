using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Recal.Domain;

namespace Recal.Project;

/// <summary>The suite version: the content hash a score or a drift report refers to.</summary>
public static class ProjectHasher
{
    /// <summary>
    /// The first 12 hex digits of SHA-256 over the policy version, the taxonomy's intents, every case's
    /// file line text in id order and the sealed holdout's commitment. Any change to a case, the intents, the
    /// policy version or the sealed holdout changes it.
    /// </summary>
    public static string SuiteVersion(EvalProject project)
    {
        ArgumentNullException.ThrowIfNull(project);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\u001f"));
        Add("policy:" + project.Policy.Version.ToString(CultureInfo.InvariantCulture));
        foreach (var intent in project.Taxonomy.Intents)
        {
            Add("intent:" + intent.Name);
        }

        foreach (var evalCase in project.Cases.OrderBy(c => c.Id, StringComparer.Ordinal))
        {
            Add(CaseFileWriter.ToJson(evalCase));
        }

        if (project.Seal is { } seal)
        {
            // The sealed holdout enters by its commitment: the version changes with its content, unread.
            Add("holdout:" + seal.Commitment);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..12];
    }
}
