namespace Recal.Validation;

/// <summary>
/// Scenarios on MT-Bench: an assistant whose intents are MT-Bench's eight categories and whose traffic is the questions'
/// first turns. Ten questions a category are too few to train a classifier on, so traces carry their category as their
/// intent label, as an application that knows which feature a request came from would send it.
/// </summary>
public static class MtBenchScenarios
{
    public const string Dataset = "mt-bench";

    public const int TracesPerWeek = 400;

    /// <summary>Five cases a category: half of each category's questions.</summary>
    public const int GoldSize = 40;

    public const int Floor = 3;

    public static readonly string[] Growing = ["coding", "math"];

    public const double GrownShare = 0.6;

    public static IReadOnlyList<Scenario> All(MtBenchCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        Func<int, TrafficDesign> stationary = _ => None(corpus);
        var newCategory = new Scenario(Dataset, "new_category", $"one category (seeded) is absent before week {Timeline.ShiftWeek}, then as common as the others",
            Timeline.ShiftWeek, [Instruments.Missing, Instruments.Mix, Instruments.Coverage], seed => NewCategory(corpus, seed));
        return
        [
            new(Dataset, "none", "stationary: the eight categories at 12.5% each", null, [], stationary),
            newCategory,
            new(Dataset, "new_category_outside", $"one category (seeded) is missing from the taxonomy and absent before week {Timeline.ShiftWeek}, then as common as the others; its traces carry no label",
                Timeline.ShiftWeek, [Instruments.Novelty, Instruments.Unknown, Instruments.Coverage], seed => NewCategoryOutside(corpus, seed)),
            new(Dataset, "mix_moving", $"{string.Join(" + ", Growing)} go from 25% to {GrownShare:0%} of traffic",
                Timeline.ShiftWeek, [Instruments.Mix], _ => MixMoving(corpus)),
            PlanCohort.GrowingScenario(Dataset, stationary),
            PlanCohort.UnlistedScenario(Dataset, stationary),
            new(Dataset, "within_category", "one category (seeded) keeps its share, but its traffic moves from five of its questions to the other five",
                Timeline.ShiftWeek, [Instruments.Coverage], seed => WithinCategory(corpus, seed)),
            GradualDrift.Of(newCategory, $"as new_category, phased in linearly over weeks {Timeline.ShiftWeek}–{Timeline.Weeks}"),
        ];
    }

    private static TrafficDesign None(MtBenchCorpus corpus) =>
        Design(corpus, _ => [.. corpus.Categories.Select(c => Component(corpus, c, 1))]);

    private static TrafficDesign NewCategory(MtBenchCorpus corpus, int seed)
    {
        var arriving = corpus.Categories[new Random(seed).Next(corpus.Categories.Count)];
        return Design(corpus, week => [.. corpus.Categories.Where(c => week >= Timeline.ShiftWeek || c != arriving).Select(c => Component(corpus, c, 1))]);
    }

    /// <summary>
    /// As <see cref="NewCategory"/>, but the taxonomy lacks the category: the application does not know the feature, so
    /// its traces arrive without a label and the classifier (trained on the other seven categories' questions) places them.
    /// </summary>
    private static TrafficDesign NewCategoryOutside(MtBenchCorpus corpus, int seed)
    {
        var outside = corpus.Categories[new Random(seed).Next(corpus.Categories.Count)];
        return NewCategory(corpus, seed) with { Taxonomy = [.. Taxonomy(corpus).Where(i => i.Name != outside)] };
    }

    private static TrafficDesign MixMoving(MtBenchCorpus corpus)
    {
        var others = corpus.Categories.Count - Growing.Length;
        return Design(corpus, week => week < Timeline.ShiftWeek
            ? [.. corpus.Categories.Select(c => Component(corpus, c, 1))]
            : [.. corpus.Categories.Select(c => Component(corpus, c, Growing.Contains(c) ? GrownShare / Growing.Length : (1 - GrownShare) / others))]);
    }

    private static TrafficDesign WithinCategory(MtBenchCorpus corpus, int seed)
    {
        var random = new Random(seed);
        var shifted = corpus.Categories[random.Next(corpus.Categories.Count)];
        var questions = corpus.ByCategory[shifted].OrderBy(_ => random.Next()).Select(q => q.FirstTurn).ToList();
        var half = questions.Count / 2;
        List<string> before = [.. questions.Take(half)], after = [.. questions.Skip(half)];
        return Design(corpus, week =>
        [
            .. corpus.Categories.Where(c => c != shifted).Select(c => Component(corpus, c, 1)),
            new MixComponent(shifted, 1, week < Timeline.ShiftWeek ? before : after),
        ]);
    }

    private static MixComponent Component(MtBenchCorpus corpus, string category, double weight) =>
        new(category, weight, [.. corpus.ByCategory[category].Select(q => q.FirstTurn)]);

    private static TrafficDesign Design(MtBenchCorpus corpus, Func<int, IReadOnlyList<MixComponent>> week) =>
        new(Taxonomy(corpus), Labelled: true, TracesPerWeek, GoldSize, Floor, week);

    private static IReadOnlyList<IntentSpec> Taxonomy(MtBenchCorpus corpus) =>
        [.. corpus.Categories.Select(c => new IntentSpec(c, "mt-bench", [.. corpus.ByCategory[c].Select(q => q.FirstTurn)]))];
}
