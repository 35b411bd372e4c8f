namespace Recal.Validation;

/// <summary>
/// Scenarios on CLINC150: a support assistant whose taxonomy knows seven domains and out-of-scope; six of the domains
/// are live from week 1 (90 intents with uneven, seeded popularity) with a steady 2% of out-of-scope queries.
/// </summary>
public static class ClincScenarios
{
    public const string Dataset = "clinc150";

    /// <summary>The sample's volume is about 3,000 a week; 2,000 keeps a scenario's twelve weeks quick to ingest.</summary>
    public const int TracesPerWeek = 2000;

    public const int GoldSize = 500;

    public const int Floor = 3;

    public const double OutOfScopeShare = 0.02;

    public const string ArrivingDomain = "travel";

    public const double ArrivingShare = 0.12;

    public const int MovingIntents = 4;

    public const double MovingShare = 0.08;

    public const double GrownOutOfScopeShare = 0.15;

    public const int ShiftedIntents = 3;

    public const double ShiftedIntentShare = 0.03;

    private static readonly string[] LiveDomains = ["banking", "credit_cards", "utility", "small_talk", "meta", "auto_and_commute"];

    public static IReadOnlyList<Scenario> All(ClincCorpus corpus) =>
    [
        new(Dataset, "none", "stationary mix: 90 intents of six domains, 2% out-of-scope", null, [], seed => None(corpus, seed)),
        new(Dataset, "new_intents", $"the {ArrivingDomain} domain (15 intents the set has no case for) arrives in week {Timeline.ShiftWeek} at {ArrivingShare:0%} of traffic",
            Timeline.ShiftWeek, [Instruments.Missing, Instruments.Mix, Instruments.Coverage], seed => NewIntents(corpus, seed)),
        new(Dataset, "mix_moving", $"{MovingIntents} intents go from about 1% to {MovingShare:0%} each, the rest shrink; no new intent",
            Timeline.ShiftWeek, [Instruments.Mix], seed => MixMoving(corpus, seed)),
        new(Dataset, "oos_growing", $"out-of-scope queries go from {OutOfScopeShare:0%} to {GrownOutOfScopeShare:0%} of traffic",
            Timeline.ShiftWeek, [Instruments.Unknown, Instruments.Coverage, Instruments.Mix], seed => OutOfScopeGrowing(corpus, seed)),
        new(Dataset, "within_intent", $"{ShiftedIntents} intents at {ShiftedIntentShare:0%} each keep their share, but their queries move to a sub-topic the set never saw",
            Timeline.ShiftWeek, [Instruments.Coverage], seed => WithinIntent(corpus, seed)),
    ];

    private static TrafficDesign None(ClincCorpus corpus, int seed)
    {
        var live = Popularity(corpus, new Random(seed));
        return Design(corpus, _ => Mix(corpus, live, 1 - OutOfScopeShare, OutOfScopeShare));
    }

    private static TrafficDesign NewIntents(ClincCorpus corpus, int seed)
    {
        var random = new Random(seed);
        var live = Popularity(corpus, random);
        var arriving = Normalise(corpus.IntentsOf(ArrivingDomain).ToDictionary(i => i, _ => LogNormal(random), StringComparer.Ordinal));
        return Design(corpus, week => week < Timeline.ShiftWeek
            ? Mix(corpus, live, 1 - OutOfScopeShare, OutOfScopeShare)
            : [.. Mix(corpus, live, 1 - OutOfScopeShare - ArrivingShare, OutOfScopeShare), .. Components(corpus, arriving, ArrivingShare)]);
    }

    private static TrafficDesign MixMoving(ClincCorpus corpus, int seed)
    {
        var random = new Random(seed);
        var live = Popularity(corpus, random);
        var moving = live.Keys.Order(StringComparer.Ordinal).OrderBy(_ => random.Next()).Take(MovingIntents).ToHashSet(StringComparer.Ordinal);
        var rest = Normalise(live.Where(kv => !moving.Contains(kv.Key)).ToDictionary(StringComparer.Ordinal));
        var risen = moving.ToDictionary(i => i, _ => 1.0 / MovingIntents, StringComparer.Ordinal);
        var movedShare = MovingIntents * MovingShare;
        return Design(corpus, week => week < Timeline.ShiftWeek
            ? Mix(corpus, live, 1 - OutOfScopeShare, OutOfScopeShare)
            : [.. Mix(corpus, rest, 1 - OutOfScopeShare - movedShare, OutOfScopeShare), .. Components(corpus, risen, movedShare)]);
    }

    private static TrafficDesign OutOfScopeGrowing(ClincCorpus corpus, int seed)
    {
        var live = Popularity(corpus, new Random(seed));
        return Design(corpus, week => week < Timeline.ShiftWeek
            ? Mix(corpus, live, 1 - OutOfScopeShare, OutOfScopeShare)
            : Mix(corpus, live, 1 - GrownOutOfScopeShare, GrownOutOfScopeShare));
    }

    private static TrafficDesign WithinIntent(ClincCorpus corpus, int seed)
    {
        var random = new Random(seed);
        var live = Popularity(corpus, random);

        // Intents whose queries fall into two sub-topics of comparable size (neither under 30%), so each part has room
        // for a gold set's cases before the shift and for a new way of asking after it.
        var shifted = new Dictionary<string, (List<string> Before, List<string> After)>(StringComparer.Ordinal);
        foreach (var intent in live.Keys.Order(StringComparer.Ordinal).OrderBy(_ => random.Next()))
        {
            var (first, second) = TopicSplit.Split(corpus.Traffic[intent], seed);
            if (Math.Min(first.Count, second.Count) >= 0.3 * corpus.Traffic[intent].Count)
            {
                shifted[intent] = random.Next(2) == 0 ? (first, second) : (second, first);
            }

            if (shifted.Count == ShiftedIntents)
            {
                break;
            }
        }

        var rest = Normalise(live.Where(kv => !shifted.ContainsKey(kv.Key)).ToDictionary(StringComparer.Ordinal));
        var steadyShare = 1 - OutOfScopeShare - (ShiftedIntents * ShiftedIntentShare);
        return Design(corpus, week =>
        [
            .. Mix(corpus, rest, steadyShare, OutOfScopeShare),
            .. shifted.Select(s => new MixComponent(s.Key, ShiftedIntentShare, week < Timeline.ShiftWeek ? s.Value.Before : s.Value.After)),
        ]);
    }

    private static TrafficDesign Design(ClincCorpus corpus, Func<int, IReadOnlyList<MixComponent>> week)
    {
        var domains = LiveDomains.Append(ArrivingDomain).ToHashSet(StringComparer.Ordinal);
        var taxonomy = corpus.DomainOf
            .Where(kv => domains.Contains(kv.Value) || kv.Key == ClincCorpus.OutOfScope)
            .OrderBy(kv => kv.Key == ClincCorpus.OutOfScope).ThenBy(kv => kv.Value, StringComparer.Ordinal).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new IntentSpec(kv.Key, kv.Value, corpus.Examples[kv.Key]))
            .ToList();
        return new TrafficDesign(taxonomy, Labelled: false, TracesPerWeek, GoldSize, Floor, week);
    }

    /// <summary>The live intents with uneven, seeded popularity (log-normal, σ = 0.5), summing to 1.</summary>
    private static Dictionary<string, double> Popularity(ClincCorpus corpus, Random random) =>
        Normalise(LiveDomains.SelectMany(corpus.IntentsOf).ToDictionary(i => i, _ => LogNormal(random), StringComparer.Ordinal));

    private static List<MixComponent> Mix(ClincCorpus corpus, IReadOnlyDictionary<string, double> inScope, double inScopeShare, double outOfScopeShare) =>
        [.. Components(corpus, inScope, inScopeShare), new MixComponent(ClincCorpus.OutOfScope, outOfScopeShare, corpus.Traffic[ClincCorpus.OutOfScope])];

    private static IEnumerable<MixComponent> Components(ClincCorpus corpus, IReadOnlyDictionary<string, double> popularity, double share) =>
        popularity.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new MixComponent(kv.Key, share * kv.Value, corpus.Traffic[kv.Key]));

    private static Dictionary<string, double> Normalise(Dictionary<string, double> weights)
    {
        var total = weights.Values.Sum();
        return weights.ToDictionary(kv => kv.Key, kv => kv.Value / total, StringComparer.Ordinal);
    }

    private static double LogNormal(Random random)
    {
        // Box–Muller.
        var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        return Math.Exp(0.5 * normal);
    }
}
