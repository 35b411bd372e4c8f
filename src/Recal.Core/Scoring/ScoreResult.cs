namespace Recal.Scoring;

/// <summary>One scorer's verdict on one output.</summary>
/// <param name="Scorer">Which scorer, e.g. <c>contains</c> or <c>reference_similarity</c>.</param>
/// <param name="Score">A score in [0, 1].</param>
/// <param name="Passed">Whether the output passes this scorer.</param>
/// <param name="Reason">Why it failed (or what matched), in words a reviewer can act on.</param>
/// <param name="IsError">The scorer could not judge (a broken assertion, not a bad output): never a pass.</param>
public sealed record ScoreResult(string Scorer, double Score, bool Passed, string? Reason = null, bool IsError = false)
{
    public static ScoreResult Pass(string scorer, string? reason = null) => new(scorer, 1, true, reason);

    public static ScoreResult Fail(string scorer, string reason) => new(scorer, 0, false, reason);

    public static ScoreResult Error(string scorer, string reason) => new(scorer, 0, false, reason, IsError: true);
}
