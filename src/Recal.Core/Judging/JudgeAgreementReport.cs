namespace Recal.Judging;

/// <summary>How <c>judge_swapped</c> is written: in the swapped presentation's own labels, or already mapped back.</summary>
public enum SwappedFrame
{
    /// <summary><c>A</c> is the answer shown first in the swapped presentation, i.e. the original <c>B</c> (the default).</summary>
    Presented,

    /// <summary><c>A</c> is the original answer A whichever was shown first.</summary>
    Original,
}

/// <summary>Settings of a judge-agreement measurement; the defaults are the documented ones (docs/judging.md).</summary>
/// <param name="Labels">The label vocabulary; null means the labels the humans used.</param>
/// <param name="IgnoreCase">Fold labels that differ only in case or surrounding spaces onto the vocabulary's spelling instead of rejecting them.</param>
/// <param name="FirstLabel">The pairwise label naming the answer shown first.</param>
/// <param name="SecondLabel">The pairwise label naming the answer shown second.</param>
/// <param name="SmallSample">Rows with fewer items than this are marked small.</param>
public sealed record JudgeAgreementOptions(
    IReadOnlyList<string>? Labels = null,
    bool IgnoreCase = false,
    SwappedFrame Frame = SwappedFrame.Presented,
    string FirstLabel = "A",
    string SecondLabel = "B",
    double Confidence = 0.95,
    int SmallSample = 30);

/// <summary>Agreement of one set of verdicts with another over the same items, with intervals.</summary>
/// <param name="Agreeing">Items with equal labels.</param>
/// <param name="AccuracyLower">Wilson interval of the accuracy.</param>
/// <param name="KappaStandardError">Fleiss–Cohen–Everitt large-sample standard error of κ.</param>
public sealed record OrderAgreement(
    long Items,
    long Agreeing,
    double Accuracy,
    double AccuracyLower,
    double AccuracyUpper,
    double Kappa,
    double KappaStandardError,
    double KappaLower,
    double KappaUpper);

/// <summary>Share of decisive pairwise verdicts (both presentations) that pick the answer shown first; ½ is no bias.</summary>
/// <param name="InconsistentPairs">Pairs whose two verdicts (both parsed) disagree once mapped to the same answers.</param>
/// <param name="FirstBothTimes">Inconsistent pairs where the judge picked the first-shown answer in both orders.</param>
/// <param name="SecondBothTimes">Inconsistent pairs where it picked the second-shown answer in both orders.</param>
public sealed record PositionBias(
    long DecisiveVerdicts,
    long FirstShown,
    double Share,
    double Lower,
    double Upper,
    long InconsistentPairs,
    long FirstBothTimes,
    long SecondBothTimes);

/// <summary>One judge against the human labels in one segment (or <see cref="JudgeAgreement.Overall"/>).</summary>
/// <param name="Shown">The verdicts with the answers in their original order.</param>
/// <param name="Swapped">The swapped-order verdicts mapped back to the original answers; null without pairwise items.</param>
/// <param name="CorrectInBothOrders">Pairwise items the judge got right in both orders.</param>
/// <param name="BetweenOrders">The two orders' agreement with each other, over pairs with both verdicts parsed: its accuracy is the position consistency.</param>
/// <param name="Ties">Verdicts (both orders) that name neither answer; null without pairwise items.</param>
/// <param name="Unparsed">Verdicts (both orders) that were missing, empty or not a known label.</param>
public sealed record JudgeAgreementRow(
    string Judge,
    string Segment,
    long Items,
    bool SmallSample,
    OrderAgreement Shown,
    long PairwiseItems,
    OrderAgreement? Swapped,
    double? MeanAccuracy,
    double? MeanKappa,
    long? CorrectInBothOrders,
    double? CorrectInBothOrdersShare,
    OrderAgreement? BetweenOrders,
    PositionBias? PositionBias,
    long? Ties,
    long Unparsed)
{
    /// <summary>Share of pairs whose winner survives the swap; null without pairwise items.</summary>
    public double? PositionConsistency => BetweenOrders?.Accuracy;
}

/// <summary>Human labels (rows) against one judge's verdicts (columns), over all segments.</summary>
public sealed record JudgeConfusion(string Judge, IReadOnlyList<string> Labels, long[][] Shown, long[][]? Swapped);

/// <summary>Two judges' shown-order verdicts on the items both judged (verdicts parsed).</summary>
public sealed record JudgePairAgreement(string First, string Second, OrderAgreement Agreement);

/// <summary>Fleiss' kappa over the items every judge judged (verdicts parsed).</summary>
public sealed record JudgesFleissKappa(IReadOnlyList<string> Judges, long Items, double Kappa);

/// <summary>Everything <c>recal judge-agreement</c> reports (docs/judging.md, docs/schemas/judge-agreement.schema.json).</summary>
public sealed record JudgeAgreementReport(
    IReadOnlyList<string> Judges,
    IReadOnlyList<string> Labels,
    bool Pairwise,
    SwappedFrame SwappedFrame,
    double Confidence,
    int SmallSample,
    IReadOnlyList<JudgeAgreementRow> Rows,
    IReadOnlyList<JudgeConfusion> Confusion,
    IReadOnlyList<JudgePairAgreement> BetweenJudges,
    JudgesFleissKappa? Fleiss);
