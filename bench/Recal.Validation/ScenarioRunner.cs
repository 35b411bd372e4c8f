using Recal.Classification;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Ingest;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Storage;
using Recal.Storage.Sqlite;

namespace Recal.Validation;

/// <summary>
/// Runs one scenario with one seed through the product as a team would: write the project, ingest the twelve weeks
/// of traces (classified by the taxonomy's classifier), draw the gold set from weeks 1–4 with the policy's sampler,
/// then run the drift instruments and the gap timeline week by week and record which alarms fired.
/// </summary>
public static class ScenarioRunner
{
    public static async Task<ScenarioRun> RunAsync(Scenario scenario, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var draw = scenario.DrawSeed(seed);
        var design = scenario.Design(draw);
        var root = Path.Combine(Path.GetTempPath(), "recal-validation-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            ValidationProject.Write(root, scenario.Key.Replace('/', '-'), design);
            var traces = TrafficGenerator.Generate(design, draw);
            var trafficPath = Path.Combine(root, "traffic.jsonl");
            TrafficGenerator.Write(trafficPath, traces, design.Labelled ? design.Taxonomy.Select(i => i.Name).ToHashSet(StringComparer.Ordinal) : []);

            var project = Load(root);
            await using var store = await SqliteStore.OpenAsync(project.Settings.StorePath, cancellationToken).ConfigureAwait(false);
            var classifier = new TraceClassifier(Classifiers.For(project.Taxonomy), project.Taxonomy);
            var ingest = await IngestPipeline.RunAsync(trafficPath, store, classifier.Classify, Path.Combine(root, ".recal", "quarantine.jsonl"), null, cancellationToken).ConfigureAwait(false);
            if (ingest.Added != traces.Count)
            {
                throw new InvalidOperationException($"{scenario} seed {seed}: {ingest.Added} of {traces.Count} traces stored ({ingest.Quarantined} quarantined)");
            }

            var sampler = new Sampler(project.Policy, project.Cases, seed: draw);
            await store.ScanTracesAsync(Timeline.Start, Timeline.ReferenceEnd, sampler.Add, cancellationToken).ConfigureAwait(false);
            var gold = ValidationProject.WriteGold(root, sampler.Draw().Drawn, traces.ToDictionary(t => t.Id, StringComparer.Ordinal), design);
            project = Load(root);

            var report = await IntentDivergenceAnalyzer.AnalyzeAsync(
                project, ProjectHasher.SuiteVersion(project), store, new DriftRequest(Timeline.Start, Timeline.End, Period.Week), cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("no traffic stored");
            var embedder = new HashedEmbeddingGenerator();
            report = await GapTimeline.ExtendAsync(report, project, store, embedder, embedder.Id, cancellationToken).ConfigureAwait(false);
            return new ScenarioRun(scenario, seed, gold, [.. report.Series.Select(Week)]);
        }
        finally
        {
            TryDelete(root);
        }
    }

    private static WeekAlarms Week(DriftWindow window) => new(
        (int)((window.From - Timeline.Start).TotalDays / 7) + 1,
        window.Traces,
        [.. window.Alarms.Select(a => a.Instrument).Distinct(StringComparer.Ordinal)],
        window.Intent.Measures?.JsDistance ?? 0,
        window.Intent.Measures?.Psi ?? 0,
        window.Intent.MissingShare,
        window.UnknownShare,
        window.Coverage?.Share,
        window.Cohorts.Select(c => c.Measures?.JsDistance ?? 0).DefaultIfEmpty(0).Max());

    private static EvalProject Load(string root)
    {
        var result = EvalProjectLoader.Load(root);
        if (result.Project is null || result.HasErrors)
        {
            throw new InvalidOperationException("the scenario's project is invalid: " + string.Join("; ", result.Diagnostics.Select(d => $"{d.Location}: {d.Message}")));
        }

        return result.Project;
    }

    private static void TryDelete(string root)
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temporary folder.
        }
    }
}
