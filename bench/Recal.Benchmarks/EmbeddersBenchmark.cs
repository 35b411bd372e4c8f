using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using Microsoft.Extensions.AI;
using Recal.Classification;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Embeddings.MiniLM;

namespace Recal.Benchmarks;

/// <summary>
/// <c>embedders</c>: the built-in embedder and MiniLM side by side on CLINC150, HWU64 and MT-Bench (nearest-neighbour
/// intent accuracy, the calibrated radius, coverage of a same-distribution window, out-of-scope queries within it, and
/// the classifiers). <c>embedders throughput NAME [N]</c>: texts per second after warm-up and the process's peak working
/// set for one embedder (builtin, minilm, minilm-1x2, minilm-1x1: workers × threads), one process each.
/// </summary>
internal static class EmbeddersBenchmark
{
    private const double Percentile = 95;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "throughput")
        {
            return await ThroughputAsync(args[1], args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2000);
        }

        var perIntent = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
        var l2 = args.Length > 1 ? float.Parse(args[1], CultureInfo.InvariantCulture) : EmbeddingLogisticRegression.DefaultL2;
        var shared = Path.GetFullPath(Path.Combine(Paths.Root, "..", "shared", "data"));
        EmbedderDataset[] datasets =
        [
            EmbedderDataset.Clinc150(shared, perIntent),
            EmbedderDataset.Hwu64(shared, perIntent),
            EmbedderDataset.MtBench(shared, 5),
        ];

        using var builtin = new HashedEmbeddingGenerator();
        using var minilm = new MiniLMEmbeddingGenerator();
        var embedders = new (string Name, IEmbeddingGenerator<string, Embedding<float>> Generator, int Dimensions)[]
        {
            ("built-in", builtin, builtin.Dimensions),
            ("MiniLM", minilm, MiniLMEmbeddingGenerator.Dimensions),
        };

        Console.WriteLine($"LR head: L2 {l2}. Index: the first {perIntent} examples of each intent (MT-Bench: 5 first turns per category); queries: held-out examples of the same intents. Radius: CoverageAnalyzer.Calibrate, {Percentile}th percentile.");
        Console.WriteLine();
        Console.WriteLine("| dataset | embedder | index / queries | nearest example's intent | radius r | same intent within r (index) | coverage of the queries (same distribution) | out-of-scope within r | LR head: top-1 accuracy | LR head: accuracy, unknown below 0.3 | LR head: out-of-scope unknown |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        var classifierRows = new List<string>();
        foreach (var dataset in datasets)
        {
            foreach (var (name, generator, dimensions) in embedders)
            {
                var stopwatch = Stopwatch.StartNew();
                var index = await EmbedAsync(generator, dataset.Index.Select(t => t.Text), dimensions);
                var queries = await EmbedAsync(generator, dataset.Queries.Select(t => t.Text), dimensions);
                var outOfScope = await EmbedAsync(generator, dataset.OutOfScope, dimensions);
                var embedSeconds = stopwatch.Elapsed.TotalSeconds;

                var search = new NearestNeighbourIndex(index, dimensions);
                var (nearest, similarity) = search.Search(queries);
                var accuracy = Share(dataset.Queries.Count, i => dataset.Index[nearest[i]].Intent == dataset.Queries[i].Intent);
                var calibration = CoverageAnalyzer.Calibrate(Cases(dataset.Index), index, dimensions, Percentile)!;
                var coverage = Share(dataset.Queries.Count, i => similarity[i] >= calibration.Radius);
                var oosWithin = "–";
                if (dataset.OutOfScope.Count > 0)
                {
                    var (_, oosSimilarity) = search.Search(outOfScope);
                    oosWithin = Percent(Share(dataset.OutOfScope.Count, i => oosSimilarity[i] >= calibration.Radius));
                }

                var head = EmbeddingLogisticRegression.Train(index, dimensions, [.. dataset.Index.Select(t => t.Intent)], l2);
                var predictions = head.Predict(queries);
                var headTop1 = Share(predictions.Length, i => predictions[i].Intent == dataset.Queries[i].Intent);
                var headAccuracy = Share(predictions.Length, i => !predictions[i].Unknown && predictions[i].Intent == dataset.Queries[i].Intent);
                var headUnknown = Share(predictions.Length, i => predictions[i].Unknown);
                var oosPredictions = head.Predict(outOfScope);
                var headOos = dataset.OutOfScope.Count > 0 ? Percent(Share(dataset.OutOfScope.Count, i => oosPredictions[i].Unknown)) : "–";
                Console.WriteLine($"| {dataset.Name} | {name} | {dataset.Index.Count:N0} / {dataset.Queries.Count:N0} | {accuracy:0.000} | {calibration.Radius:0.000} | {Percent(calibration.SameIntentWithin ?? 0)} | {Percent(coverage)} | {oosWithin} | {headTop1:0.000} | {headAccuracy:0.000}, {Percent(headUnknown)} | {headOos} |");
                Console.Error.WriteLine($"{dataset.Name} {name}: embedded {dataset.Index.Count + dataset.Queries.Count + dataset.OutOfScope.Count:N0} texts in {embedSeconds:0.0} s");
            }

            classifierRows.Add(ClassifierRow(dataset));
        }

        Console.WriteLine();
        Console.WriteLine("The built-in classifier (LinearIntentClassifier, TF-IDF n-grams + logistic regression) trained on the same index, unknown below 0.3:");
        Console.WriteLine();
        Console.WriteLine("| dataset | top-1 accuracy | accuracy, unknown below 0.3 | out-of-scope unknown |");
        Console.WriteLine("|---|---|---|---|");
        classifierRows.ForEach(Console.WriteLine);
        return 0;
    }

    private static string ClassifierRow(EmbedderDataset dataset)
    {
        var intents = dataset.Index.GroupBy(t => t.Intent, StringComparer.Ordinal)
            .Select(g => new IntentDefinition(g.Key, null, [.. g.Select(t => t.Text)], [], null)).ToList();
        var classifier = LinearIntentClassifier.Train(new Taxonomy(1, intents, [], new ClassifierSettings()));
        var predictions = dataset.Queries.Select(q => classifier.Classify(q.Text)).ToList();
        var accuracy = Share(predictions.Count, i => !predictions[i].IsUnknown && predictions[i].Intent == dataset.Queries[i].Intent);
        var unknown = Share(predictions.Count, i => predictions[i].IsUnknown);
        var top1 = Share(predictions.Count, i => predictions[i].BestGuess == dataset.Queries[i].Intent);
        var oos = dataset.OutOfScope.Count > 0 ? Percent(Share(dataset.OutOfScope.Count, i => classifier.Classify(dataset.OutOfScope[i]).IsUnknown)) : "–";
        return $"| {dataset.Name} | {top1:0.000} | {accuracy:0.000}, {Percent(unknown)} | {oos} |";
    }

    private static async Task<int> ThroughputAsync(string name, int count)
    {
        var shared = Path.GetFullPath(Path.Combine(Paths.Root, "..", "shared", "data"));
        var texts = EmbedderDataset.Clinc150(shared, 100).Queries.Take(count).Select(t => t.Text).ToList();
        using IEmbeddingGenerator<string, Embedding<float>> generator = name switch
        {
            "builtin" => new HashedEmbeddingGenerator(),
            "minilm" => new MiniLMEmbeddingGenerator(),
            "minilm-1x2" => new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { Workers = 1, ThreadsPerWorker = 2 }),
            "minilm-1x1" => new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { Workers = 1, ThreadsPerWorker = 1 }),
            "minilm-2x2" => new MiniLMEmbeddingGenerator(new MiniLMEmbeddingOptions { Workers = 2, ThreadsPerWorker = 2 }),
            _ => throw new ArgumentException($"unknown embedder {name}", nameof(name)),
        };

        var load = Stopwatch.StartNew();
        await generator.GenerateAsync(texts.Take(200).Select(t => t + " (warm-up)"));
        var warmUp = load.Elapsed.TotalSeconds;
        var rates = new List<double>();
        for (var round = 0; round < 3; round++)
        {
            var stopwatch = Stopwatch.StartNew();
            await generator.GenerateAsync(texts);
            rates.Add(texts.Count / stopwatch.Elapsed.TotalSeconds);
        }

        rates.Sort();
        using var process = Process.GetCurrentProcess();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name} | {texts.Count:N0} | {rates[1]:N0} ({rates[0]:N0}–{rates[2]:N0}) | {warmUp:0.0} s | {process.PeakWorkingSet64 / (1024.0 * 1024):N0} MiB | {Environment.ProcessorCount} | {LoadAverage()} |"));
        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    private static async Task<float[]> EmbedAsync(IEmbeddingGenerator<string, Embedding<float>> generator, IEnumerable<string> texts, int dimensions)
    {
        var list = texts.ToList();
        var matrix = new float[list.Count * dimensions];
        if (list.Count == 0)
        {
            return matrix;
        }

        var embeddings = await generator.GenerateAsync(list);
        for (var i = 0; i < embeddings.Count; i++)
        {
            var vector = embeddings[i].Vector.Span;
            var row = matrix.AsSpan(i * dimensions, dimensions);
            vector.CopyTo(row);
            var norm = TensorPrimitives.Norm(row);
            if (norm > 0)
            {
                TensorPrimitives.Divide(row, norm, row);
            }
        }

        return matrix;
    }

    private static List<EvalCase> Cases(IReadOnlyList<LabelledText> index) =>
        [.. index.Select((t, i) => new EvalCase($"case-{i}", TraceInput.FromText(t.Text), [], [], t.Intent, new Dictionary<string, string>(), null,
            new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new Diagnostics.SourceLocation("index", i + 1)))];

    private static double Share(int count, Func<int, bool> predicate) =>
        count == 0 ? double.NaN : Enumerable.Range(0, count).Count(predicate) / (double)count;

    private static string Percent(double share) => string.Create(CultureInfo.InvariantCulture, $"{share * 100:0.0}%");
}
