namespace Recal.Validation;

/// <summary>Every validation scenario, on the datasets in <c>../shared/data</c> (loaded once, on first use).</summary>
public static class ScenarioCatalog
{
    private static readonly Lazy<IReadOnlyList<Scenario>> Scenarios = new(() =>
        [.. ClincScenarios.All(ClincCorpus.Load(SharedData.Clinc150)), .. MtBenchScenarios.All(MtBenchCorpus.Load(SharedData.MtBenchQuestions))]);

    public static IReadOnlyList<Scenario> All => Scenarios.Value;

    public static Scenario Get(string dataset, string name) =>
        All.SingleOrDefault(s => s.Dataset == dataset && s.Name == name) ?? throw new ArgumentException($"no scenario {dataset}/{name}");
}
