using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using Recal.Embeddings;
using Recal.Storage.Sqlite;

namespace Recal.Benchmarks;

/// <summary>
/// The coverage instrument's costs: exact nearest-neighbour search of Q traffic vectors against C case vectors
/// (default 100,000 × 5,000 at 256 dimensions: unit vectors near random case centres), with the register-blocked kernel
/// and the portable one, on one thread and on all; then the built-in embedder over the sample's traffic texts and the
/// store's embedding cache (write, then read back). Prints GFLOP/s (2·Q·C·D flops per second) and peak working set.
/// </summary>
internal static class CoverageBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var queries = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100_000;
        var cases = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5_000;
        var dimensions = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 256;
        Console.WriteLine($"{Environment.ProcessorCount} cores; vectorised kernel: {NearestNeighbourIndex.IsVectorised}; {queries:N0} queries × {cases:N0} vectors × {dimensions} dimensions");

        var random = new Random(42);
        var caseVectors = UnitVectors(random, cases, dimensions, null, 0);
        var traffic = UnitVectors(random, queries, dimensions, caseVectors, 0.7f);
        var build = Stopwatch.StartNew();
        var index = new NearestNeighbourIndex(caseVectors, dimensions);
        Console.WriteLine($"index build (packing): {build.Elapsed.TotalMilliseconds:N1} ms");

        var flops = 2.0 * queries * cases * dimensions;
        var nearest = new int[queries];
        var similarity = new float[queries];
        int[]? reference = null;
        foreach (var (kernel, threads) in new[] { (SearchKernel.Avx512, -1), (SearchKernel.Avx512, 1), (SearchKernel.Avx2, -1), (SearchKernel.Avx2, 1), (SearchKernel.Portable, -1), (SearchKernel.Portable, 1) })
        {
            if (!NearestNeighbourIndex.Supports(kernel))
            {
                continue;
            }

            var times = new List<double>();
            for (var rep = 0; rep < 3; rep++)
            {
                var watch = Stopwatch.StartNew();
                index.Search(traffic, nearest, similarity, threads, kernel);
                times.Add(watch.Elapsed.TotalSeconds);
            }

            reference ??= [.. nearest];
            var agree = nearest.Zip(reference).Count(p => p.First == p.Second);
            var best = times.Min();
            Console.WriteLine(
                $"{kernel switch { SearchKernel.Avx512 => "AVX-512 kernel", SearchKernel.Avx2 => "AVX2 kernel", _ => "portable (TensorPrimitives.Dot)" }}, {(threads == 1 ? "1 thread" : $"{Environment.ProcessorCount} threads")}: " +
                $"{string.Join(" / ", times.Select(t => t.ToString("0.000", CultureInfo.InvariantCulture)))} s; best {flops / best / 1e9:N1} GFLOP/s; " +
                $"{agree:N0} of {queries:N0} nearest as the first run");
        }

        Console.WriteLine($"peak working set after the search: {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:N0} MB (queries {traffic.Length * 4 / 1e6:N0} MB, vectors {caseVectors.Length * 4 / 1e6:N1} MB twice: rows and panels)");

        await EmbedAndCacheAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary>
    /// One size: Q traffic vectors against C case vectors, the register-blocked kernel on every core, best of three,
    /// and the process's peak working set, so a script can chart time and memory against either size.
    /// </summary>
    public static int SearchOnce(string[] args)
    {
        var queries = int.Parse(args[0], CultureInfo.InvariantCulture);
        var cases = int.Parse(args[1], CultureInfo.InvariantCulture);
        var dimensions = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 256;
        var kernel = args.Length > 3 ? Enum.Parse<SearchKernel>(args[3], ignoreCase: true) : NearestNeighbourIndex.Best;
        var random = new Random(42);
        var caseVectors = UnitVectors(random, cases, dimensions, null, 0);
        var traffic = UnitVectors(random, queries, dimensions, caseVectors, 0.7f);
        var index = new NearestNeighbourIndex(caseVectors, dimensions);
        var nearest = new int[queries];
        var similarity = new float[queries];
        var best = double.MaxValue;
        for (var rep = 0; rep < 3; rep++)
        {
            var watch = Stopwatch.StartNew();
            index.Search(traffic, nearest, similarity, -1, kernel);
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }

        var flops = 2.0 * queries * cases * dimensions;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"kernel={kernel.ToString().ToLowerInvariant()} queries={queries} cases={cases} dimensions={dimensions} best_s={best:0.000} gflops={flops / best / 1e9:0.0} peak_mb={Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:0} inputs_mb={(traffic.Length + (2.0 * caseVectors.Length)) * 4 / 1e6:0.0}"));
        return 0;
    }

    private static async Task EmbedAndCacheAsync()
    {
        var texts = new List<string>();
        await using (var file = File.OpenRead(Path.Combine(Paths.Sample, "traffic", "traffic.jsonl.gz")))
        using (var reader = new StreamReader(new GZipStream(file, CompressionMode.Decompress)))
        {
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                texts.Add(JsonDocument.Parse(line).RootElement.GetProperty("input").GetString()!);
            }
        }

        var distinct = texts.Distinct(StringComparer.Ordinal).ToList();
        var embedder = new HashedEmbeddingGenerator();
        var vectors = new float[distinct.Count][];
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < distinct.Count; i++)
        {
            vectors[i] = embedder.Embed(distinct[i]);
        }

        var oneThread = watch.Elapsed.TotalSeconds;
        watch.Restart();
        await embedder.GenerateAsync(distinct).ConfigureAwait(false);
        var parallel = watch.Elapsed.TotalSeconds;
        Console.WriteLine($"built-in embedder over the sample's {distinct.Count:N0} distinct traffic texts: {oneThread / distinct.Count * 1e6:N1} µs per text on one thread, {distinct.Count / parallel:N0} texts/s on all");

        var storePath = Path.Combine(Paths.Work, "embeddings.db");
        Directory.CreateDirectory(Path.GetDirectoryName(storePath)!);
        foreach (var stale in Directory.EnumerateFiles(Path.GetDirectoryName(storePath)!, "embeddings.db*"))
        {
            File.Delete(stale);
        }

        await using var store = await SqliteStore.OpenAsync(storePath).ConfigureAwait(false);
        var rows = distinct.Select((t, i) => new KeyValuePair<UInt128, float[]>(TextHash.Of(t), vectors[i])).ToList();
        watch.Restart();
        await store.PutEmbeddingsAsync(embedder.Id, rows).ConfigureAwait(false);
        var write = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var hashes = distinct.Select(TextHash.Of).ToList();
        var hashing = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var found = await store.GetEmbeddingsAsync(embedder.Id, hashes).ConfigureAwait(false);
        var read = watch.Elapsed.TotalSeconds;
        Console.WriteLine(
            $"embedding cache, {rows.Count:N0} vectors of {embedder.Dimensions} floats: write {write / rows.Count * 1e6:N1} µs per vector (one transaction); " +
            $"text hashing {hashing / rows.Count * 1e6:N1} µs per text; read back {read / rows.Count * 1e6:N1} µs per vector ({found.Count:N0} found); store {Directory.EnumerateFiles(Path.GetDirectoryName(storePath)!, "embeddings.db*").Sum(f => new FileInfo(f).Length) / 1e6:N1} MB with its log");
    }

    /// <summary>Unit vectors: random directions, or near random centres (centre + noise), like traffic near its cases.</summary>
    private static float[] UnitVectors(Random random, int count, int dimensions, float[]? centres, float noise)
    {
        var data = new float[count * dimensions];
        var centreCount = centres is null ? 0 : centres.Length / dimensions;
        for (var v = 0; v < count; v++)
        {
            var row = data.AsSpan(v * dimensions, dimensions);
            var centre = centres is null ? -1 : random.Next(centreCount);
            for (var k = 0; k < dimensions; k++)
            {
                var gaussian = (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
                row[k] = centre < 0 ? gaussian : centres![(centre * dimensions) + k] + (noise * gaussian / MathF.Sqrt(dimensions));
            }

            System.Numerics.Tensors.TensorPrimitives.Divide(row, System.Numerics.Tensors.TensorPrimitives.Norm(row), row);
        }

        return data;
    }
}
