using Recal.Domain;

namespace Recal.Project;

/// <summary>
/// The cases <c>recal init</c> writes (tagged <see cref="ProposalWriter.StarterTag"/>): examples to show the format, not a
/// set drawn from the user's traffic, so gaps measured against them are expected rather than news.
/// </summary>
public static class StarterCases
{
    /// <summary>Gold cases tagged as starter cases.</summary>
    public static int InGold(EvalProject project)
    {
        ArgumentNullException.ThrowIfNull(project);
        return project.Cases.Count(c => c.Pool == Pool.Gold && c.Tags.Contains(ProposalWriter.StarterTag, StringComparer.Ordinal));
    }

    /// <summary>True when the gold set holds cases and every one is a starter case: nothing in it was drawn from traffic yet.</summary>
    public static bool OnlyStarters(EvalProject project)
    {
        ArgumentNullException.ThrowIfNull(project);
        var gold = project.Cases.Count(c => c.Pool == Pool.Gold);
        return gold > 0 && InGold(project) == gold;
    }

    /// <summary>The steps from starter cases to a gold set drawn from traffic, as commands.</summary>
    public const string FirstDraw = "recal sample --pool gold (drafts drawn from your traffic by the policy); recal label export --csv labels.csv --pool gold, label, recal label import labels.csv; delete the starter cases";
}
