using Recal.Diagnostics;

namespace Recal.Judging;

/// <summary>
/// One item a judge and a human both labelled. For pairwise judgments, <paramref name="JudgeSwapped"/> is the
/// judge's verdict when the two answers were shown in swapped order, by default in that presentation's own labels
/// (<c>A</c> = the answer shown first; docs/judging.md). An unparsed verdict is <see cref="JudgeAgreement.Unparsed"/>.
/// </summary>
/// <param name="JudgeId">Which judge gave the verdicts; files without a judge column have one judge, <see cref="JudgeAgreement.DefaultJudge"/>.</param>
/// <param name="Location">Where the item was read, for diagnostics.</param>
public sealed record LabelledJudgment(
    string Id,
    string Segment,
    string Human,
    string Judge,
    string? JudgeSwapped,
    string JudgeId = JudgeAgreement.DefaultJudge,
    SourceLocation? Location = null);
