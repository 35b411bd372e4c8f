namespace Recal.Validation;

/// <summary>
/// Scenarios on CLINC150: a support assistant whose taxonomy knows seven domains and out-of-scope; six of the domains
/// are live from week 1 (90 intents with uneven, seeded popularity) with a steady 2% of out-of-scope queries; travel is
/// known but quiet; home is outside the taxonomy.
/// </summary>
public static class ClincScenarios
{
    public const string Dataset = "clinc150";

    /// <summary>The sample's volume is about 3,000 a week; 2,000 keeps a scenario's twelve weeks quick to ingest.</summary>
    public const int TracesPerWeek = 2000;

    public const int GoldSize = 500;

    public const int Floor = 3;

    public const string ArrivingDomain = "travel";

    public const string WithheldDomain = "home";

    private static readonly string[] LiveDomains = ["banking", "credit_cards", "utility", "small_talk", "meta", "auto_and_commute"];

    public static IReadOnlyList<Scenario> All(IntentCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        return IntentScenarios.All(new IntentDataset(
            Dataset,
            corpus,
            LiveDomains,
            [ArrivingDomain],
            [WithheldDomain],
            corpus.Traffic[ClincCorpus.OutOfScope],
            OutOfScopeInTaxonomy: true,
            corpus.Examples[ClincCorpus.OutOfScope],
            TracesPerWeek,
            GoldSize,
            Floor));
    }
}
