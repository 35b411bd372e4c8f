namespace Recal.Validation;

/// <summary>Every validation scenario, on the datasets in <c>../shared/data</c> (loaded once, on first use).</summary>
public static class ScenarioCatalog
{
    public static readonly string[] Datasets = [ClincScenarios.Dataset, Hwu64Scenarios.Dataset, MtBenchScenarios.Dataset];

    private static readonly Lazy<IReadOnlyList<Scenario>> Scenarios = new(() =>
    {
        var clinc = ClincCorpus.Load(SharedData.Clinc150);
        return
        [
            .. ClincScenarios.All(clinc),
            .. Hwu64Scenarios.All(Hwu64Corpus.Load(SharedData.Hwu64), clinc),
            .. MtBenchScenarios.All(MtBenchCorpus.Load(SharedData.MtBenchQuestions)),
        ];
    });

    public static IReadOnlyList<Scenario> All => Scenarios.Value;

    public static Scenario Get(string dataset, string name) =>
        All.SingleOrDefault(s => s.Dataset == dataset && s.Name == name) ?? throw new ArgumentException($"no scenario {dataset}/{name}");
}
