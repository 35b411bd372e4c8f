namespace Recal.Validation;

/// <summary>
/// How an unlabelled intent dataset (CLINC150, HWU64) is staged: which groups of intents are live from week 1, which
/// the taxonomy knows but are quiet until the shift, which the taxonomy never hears of, and where out-of-scope queries
/// come from.
/// </summary>
/// <param name="Live">Groups with traffic from week 1, at uneven seeded popularity.</param>
/// <param name="Arriving">Groups in the taxonomy, quiet until they arrive (<c>new_intents</c>, <c>gradual</c>).</param>
/// <param name="Withheld">Groups outside the taxonomy, quiet until they arrive (<c>new_intents_outside</c>).</param>
/// <param name="OutOfScope">Out-of-scope queries: a steady share of traffic, growing in <c>oos_growing</c>.</param>
/// <param name="OutOfScopeInTaxonomy">Whether the taxonomy has an <c>out_of_scope</c> intent (with <paramref name="OutOfScopeExamples"/>).</param>
public sealed record IntentDataset(
    string Name,
    IntentCorpus Corpus,
    IReadOnlyList<string> Live,
    IReadOnlyList<string> Arriving,
    IReadOnlyList<string> Withheld,
    IReadOnlyList<string> OutOfScope,
    bool OutOfScopeInTaxonomy,
    IReadOnlyList<string> OutOfScopeExamples,
    int TracesPerWeek,
    int GoldSize,
    int Floor);

/// <summary>The scenarios of an unlabelled intent dataset: traffic classified by the built-in classifier, a steady 2% of out-of-scope queries.</summary>
public static class IntentScenarios
{
    public const double OutOfScopeShare = 0.02;

    public const double ArrivingShare = 0.12;

    public const double OutsideShare = 0.25;

    public const int MovingIntents = 4;

    public const double MovingShare = 0.08;

    public const double GrownOutOfScopeShare = 0.15;

    public const int ShiftedIntents = 3;

    public const double ShiftedIntentShare = 0.03;

    /// <summary>An intent is a candidate for a within-intent shift with this many traffic queries (each part then holds at least 30).</summary>
    public const int MinTopicTexts = 100;

    public static IReadOnlyList<Scenario> All(IntentDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var name = data.Name;
        var arriving = data.Corpus.IntentsOf(data.Arriving);
        var withheld = data.Corpus.IntentsOf(data.Withheld);
        var newIntents = new Scenario(name, "new_intents",
            $"{string.Join(" + ", data.Arriving)} ({arriving.Count} intents the taxonomy knows and the set has no case for) arrive in week {Timeline.ShiftWeek} at {ArrivingShare:0%} of traffic",
            Timeline.ShiftWeek, [Instruments.Missing, Instruments.Mix, Instruments.Coverage], seed => NewIntents(data, seed, arriving, ArrivingShare));
        Func<int, TrafficDesign> stationary = seed => None(data, seed);
        return
        [
            new(name, "none", $"stationary mix: {data.Corpus.IntentsOf(data.Live).Count} intents of {data.Live.Count} groups, {OutOfScopeShare:0%} out-of-scope", null, [], stationary),
            newIntents,
            new(name, "new_intents_outside",
                $"{string.Join(" + ", data.Withheld)} ({withheld.Count} intents outside the taxonomy) arrive in week {Timeline.ShiftWeek} at {OutsideShare:0%} of traffic",
                Timeline.ShiftWeek, [Instruments.Novelty, Instruments.Unknown, Instruments.Coverage], seed => NewIntents(data, seed, withheld, OutsideShare)),
            new(name, "mix_moving", $"{MovingIntents} intents go from about 1–2% to {MovingShare:0%} each, the rest shrink; no new intent",
                Timeline.ShiftWeek, [Instruments.Mix], seed => MixMoving(data, seed)),
            new(name, "oos_growing", $"out-of-scope queries go from {OutOfScopeShare:0%} to {GrownOutOfScopeShare:0%} of traffic",
                Timeline.ShiftWeek, [Instruments.Unknown, Instruments.Novelty, Instruments.Coverage, Instruments.Mix], seed => OutOfScopeGrowing(data, seed)),
            PlanCohort.GrowingScenario(name, stationary),
            PlanCohort.UnlistedScenario(name, stationary),
            new(name, "within_intent", $"{ShiftedIntents} intents at {ShiftedIntentShare:0%} each keep their share, but their queries move to a sub-topic the set never saw",
                Timeline.ShiftWeek, [Instruments.Coverage], seed => WithinIntent(data, seed)),
            GradualDrift.Of(newIntents, $"as new_intents, phased in linearly over weeks {Timeline.ShiftWeek}–{Timeline.Weeks} ({ArrivingShare / GradualDrift.RampWeeks:0%} of traffic more each week)"),
        ];
    }

    private static TrafficDesign None(IntentDataset data, int seed)
    {
        var live = Popularity(data, new Random(seed));
        return Design(data, _ => Mix(data, live, 1 - OutOfScopeShare, OutOfScopeShare));
    }

    /// <summary>Intents quiet before the shift (inside the taxonomy or outside it) arriving at <paramref name="share"/>.</summary>
    private static TrafficDesign NewIntents(IntentDataset data, int seed, IReadOnlyList<string> intents, double share)
    {
        var random = new Random(seed);
        var live = Popularity(data, random);
        var arriving = Normalise(intents.ToDictionary(i => i, _ => LogNormal(random), StringComparer.Ordinal));
        return Design(data, week => week < Timeline.ShiftWeek
            ? Mix(data, live, 1 - OutOfScopeShare, OutOfScopeShare)
            : [.. Mix(data, live, 1 - OutOfScopeShare - share, OutOfScopeShare), .. Components(data, arriving, share)]);
    }

    private static TrafficDesign MixMoving(IntentDataset data, int seed)
    {
        var random = new Random(seed);
        var live = Popularity(data, random);
        var moving = live.Keys.Order(StringComparer.Ordinal).OrderBy(_ => random.Next()).Take(MovingIntents).ToHashSet(StringComparer.Ordinal);
        var rest = Normalise(live.Where(kv => !moving.Contains(kv.Key)).ToDictionary(StringComparer.Ordinal));
        var risen = moving.ToDictionary(i => i, _ => 1.0 / MovingIntents, StringComparer.Ordinal);
        var movedShare = MovingIntents * MovingShare;
        return Design(data, week => week < Timeline.ShiftWeek
            ? Mix(data, live, 1 - OutOfScopeShare, OutOfScopeShare)
            : [.. Mix(data, rest, 1 - OutOfScopeShare - movedShare, OutOfScopeShare), .. Components(data, risen, movedShare)]);
    }

    private static TrafficDesign OutOfScopeGrowing(IntentDataset data, int seed)
    {
        var live = Popularity(data, new Random(seed));
        return Design(data, week => week < Timeline.ShiftWeek
            ? Mix(data, live, 1 - OutOfScopeShare, OutOfScopeShare)
            : Mix(data, live, 1 - GrownOutOfScopeShare, GrownOutOfScopeShare));
    }

    private static TrafficDesign WithinIntent(IntentDataset data, int seed)
    {
        var random = new Random(seed);
        var live = Popularity(data, random);

        // Intents whose queries fall into two sub-topics of comparable size (neither under 30%), so each part has room
        // for a gold set's cases before the shift and for a new way of asking after it.
        var shifted = new Dictionary<string, (List<string> Before, List<string> After)>(StringComparer.Ordinal);
        foreach (var intent in live.Keys.Order(StringComparer.Ordinal).OrderBy(_ => random.Next()).Where(i => data.Corpus.Traffic[i].Count >= MinTopicTexts))
        {
            var (first, second) = TopicSplit.Split(data.Corpus.Traffic[intent], seed);
            if (Math.Min(first.Count, second.Count) >= 0.3 * data.Corpus.Traffic[intent].Count)
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
        return Design(data, week =>
        [
            .. Mix(data, rest, steadyShare, OutOfScopeShare),
            .. shifted.Select(s => new MixComponent(s.Key, ShiftedIntentShare, week < Timeline.ShiftWeek ? s.Value.Before : s.Value.After)),
        ]);
    }

    private static TrafficDesign Design(IntentDataset data, Func<int, IReadOnlyList<MixComponent>> week)
    {
        var groups = data.Live.Concat(data.Arriving).ToHashSet(StringComparer.Ordinal);
        List<IntentSpec> taxonomy =
        [
            .. data.Corpus.GroupOf
                .Where(kv => groups.Contains(kv.Value))
                .OrderBy(kv => kv.Value, StringComparer.Ordinal).ThenBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => new IntentSpec(kv.Key, kv.Value, data.Corpus.Examples[kv.Key])),
        ];
        if (data.OutOfScopeInTaxonomy)
        {
            taxonomy.Add(new IntentSpec(ClincCorpus.OutOfScope, ClincCorpus.OutOfScope, data.OutOfScopeExamples));
        }

        return new TrafficDesign(taxonomy, Labelled: false, data.TracesPerWeek, data.GoldSize, data.Floor, week);
    }

    /// <summary>The live intents with uneven, seeded popularity (log-normal, σ = 0.5), summing to 1.</summary>
    private static Dictionary<string, double> Popularity(IntentDataset data, Random random) =>
        Normalise(data.Corpus.IntentsOf(data.Live).ToDictionary(i => i, _ => LogNormal(random), StringComparer.Ordinal));

    private static List<MixComponent> Mix(IntentDataset data, IReadOnlyDictionary<string, double> inScope, double inScopeShare, double outOfScopeShare) =>
        [.. Components(data, inScope, inScopeShare), new MixComponent(ClincCorpus.OutOfScope, outOfScopeShare, data.OutOfScope)];

    private static IEnumerable<MixComponent> Components(IntentDataset data, IReadOnlyDictionary<string, double> popularity, double share) =>
        popularity.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new MixComponent(kv.Key, share * kv.Value, data.Corpus.Traffic[kv.Key]));

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
