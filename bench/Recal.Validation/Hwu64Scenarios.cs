namespace Recal.Validation;

/// <summary>
/// Scenarios on HWU64: a home assistant whose taxonomy knows 14 of HWU64's 18 scenarios (52 intents); twelve are live
/// from week 1 (46 intents), transport and takeaway are known but quiet, and email, lists, music and social (12 intents)
/// are outside the taxonomy. HWU64 has no out-of-scope queries: CLINC150's stand in for them, and the taxonomy has no
/// intent for them, so the classifier can only place them somewhere or nowhere.
/// </summary>
public static class Hwu64Scenarios
{
    public const string Dataset = "hwu64";

    /// <summary>
    /// 46 live intents at 1,500 traces a week hold a little more traffic an intent than CLINC150's 90 at 2,000, and a set of
    /// 400 is about the same share of its four reference weeks (7%): at 1,000 and 300 the within-intent shift was too
    /// small for the per-stratum coverage test, at 1,000 and 500 the set was an eighth of the reference weeks and their
    /// in-sample coverage too optimistic (tuning seeds 1001–1003).
    /// </summary>
    public const int TracesPerWeek = 1500;

    public const int GoldSize = 400;

    public const int Floor = 3;

    public static readonly string[] Arriving = ["takeaway", "transport"];

    public static readonly string[] Withheld = ["email", "lists", "music", "social"];

    private static readonly string[] Live = ["alarm", "audio", "calendar", "cooking", "datetime", "general", "iot", "news", "play", "qa", "recommendation", "weather"];

    public static IReadOnlyList<Scenario> All(IntentCorpus corpus, IntentCorpus outOfScope)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(outOfScope);
        return IntentScenarios.All(new IntentDataset(
            Dataset,
            corpus,
            Live,
            Arriving,
            Withheld,
            outOfScope.Traffic[ClincCorpus.OutOfScope],
            OutOfScopeInTaxonomy: false,
            [],
            TracesPerWeek,
            GoldSize,
            Floor));
    }
}
