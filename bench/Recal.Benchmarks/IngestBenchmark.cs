using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using Recal.Classification;
using Recal.Drift;
using Recal.Ingest;
using Recal.Project;
using Recal.Storage;
using Recal.Storage.Sqlite;

namespace Recal.Benchmarks;

/// <summary>
/// End-to-end figures: builds an N-trace JSONL file from the sample's traffic (new ids and timestamps spread over
/// twelve weeks), ingests it with the sample taxonomy's real classifier into a fresh store, then runs drift over it.
/// </summary>
internal static partial class IngestBenchmark
{
    /// <summary>
    /// <c>ingest [N] [--unique] [--ingest-only]</c>: <c>--unique</c> makes every trace's input a text no other trace has
    /// (the sample's text with a per-line order number appended), so the classifier's memo never answers;
    /// <c>--ingest-only</c> stops after the ingest figures (no drift, timeline or draw).
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var numbers = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
        var count = numbers.Length > 0 ? int.Parse(numbers[0], CultureInfo.InvariantCulture) : 1_000_000;
        var unique = args.Contains("--unique");
        var ingestOnly = args.Contains("--ingest-only");
        var work = Paths.Work;
        Directory.CreateDirectory(work);
        var file = Path.Combine(work, unique ? $"traces-{count}-unique.jsonl" : $"traces-{count}.jsonl");
        if (!File.Exists(file))
        {
            Generate(file, count, unique);
        }

        var project = EvalProjectLoader.Load(Paths.Sample).Project ?? throw new InvalidOperationException("the sample project does not load");
        var storePath = Path.Combine(work, "bench.db");
        // RECAL_BENCH_POSTGRES (a connection string to a database) measures the PostgreSQL store instead of SQLite, and
        // leaves a SQLite store built in the same folder as it is.
        var postgres = Environment.GetEnvironmentVariable("RECAL_BENCH_POSTGRES") is { Length: > 0 } pg ? pg : null;
        foreach (var stale in postgres is null ? Directory.EnumerateFiles(work, "bench.db*") : [])
        {
            File.Delete(stale);
        }

        var train = Stopwatch.StartNew();
        var linear = LinearIntentClassifier.Train(project.Taxonomy);
        var classifier = new TraceClassifier(linear, project.Taxonomy);
        train.Stop();

        if (Environment.GetEnvironmentVariable("RECAL_BENCH_STAGES") == "1")
        {
            Stages(file, new TraceClassifier(linear, project.Taxonomy), linear);
        }

        await using var store = postgres is null ? await SqliteStore.OpenAsync(storePath) : await OpenEmptyPostgresAsync(postgres);
        var watch = Stopwatch.StartNew();
        // RECAL_BENCH_CLASSIFY=none isolates parse + store by skipping the classifier.
        Func<Recal.Domain.Trace, string, Recal.Domain.ClassifiedTrace> classify = Environment.GetEnvironmentVariable("RECAL_BENCH_CLASSIFY") == "none"
            ? (trace, key) => new Recal.Domain.ClassifiedTrace(trace, key, trace.Intent ?? "unknown", Recal.Domain.IntentSource.Unknown, 0, "")
            : classifier.Classify;
        var summary = await IngestPipeline.RunAsync(file, store, classify, Path.Combine(work, "quarantine.jsonl"));
        watch.Stop();
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");
        Console.WriteLine($"input: {count:N0} traces, {new FileInfo(file).Length / 1e6:N0} MB JSONL, {(unique ? "every input text different" : "inputs repeating the sample's texts")}");
        Console.WriteLine($"classifier training: {train.Elapsed.TotalSeconds:N2} s ({project.Taxonomy.Intents.Count} intents)");
        Console.WriteLine($"ingest + classify + store: {watch.Elapsed.TotalSeconds:N2} s, {summary.Added / watch.Elapsed.TotalSeconds:N0} traces/s ({summary.Added:N0} added, {summary.Quarantined} quarantined)");
        Console.WriteLine($"classifier memo hit rate: {classifier.MemoHitRate:P1} ({DistinctInputs(file):N0} distinct texts among the first 100,000 lines)");
        Console.WriteLine($"time in the store: {summary.StoreTime.TotalSeconds:N2} s ({summary.StoreTime.TotalMicroseconds / summary.Added:N1} µs per trace)");
        Console.WriteLine($"peak working set: {peak / 1e6:N0} MB");
        Console.WriteLine($"store: {(postgres is null ? "SQLite" : "PostgreSQL")}, {(postgres is null ? new FileInfo(storePath).Length + (File.Exists(storePath + "-wal") ? new FileInfo(storePath + "-wal").Length : 0) : await PostgresSizeAsync(postgres)) / 1e6:N0} MB");
        if (ingestOnly)
        {
            return 0;
        }

        foreach (var period in new[] { Period.None, Period.Week })
        {
            var times = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                var drift = Stopwatch.StartNew();
                var span = await store.GetTrafficSpanAsync();
                var report = await IntentDivergenceAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, new DriftRequest(From: span!.First, Over: period));
                drift.Stop();
                times.Add(drift.Elapsed.TotalSeconds);
                _ = report;
            }

            Console.WriteLine($"drift over all {count:N0} stored traces, period {period}: best {times.Min():N3} s, median {times.Order().ElementAt(1):N3} s");
        }

        await TimelineAsync(project, store, count, ["cold cache", "warm cache", "warm cache", "warm cache"]);

        await DrawAsync(project, store, count);
        return 0;
    }

    /// <summary>
    /// <c>sample-draw [N]</c>: <c>recal sample</c>'s draw over every trace of the store the <c>ingest N</c> benchmark
    /// left in the temporary folder (run that first), three times: seconds, traces per second and bytes allocated.
    /// </summary>
    public static async Task<int> SampleDrawAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var storePath = Path.Combine(Paths.Work, "bench.db");
        if (!File.Exists(storePath))
        {
            Console.Error.WriteLine($"no store at {storePath}: run the 'ingest {count}' benchmark first");
            return 2;
        }

        var project = EvalProjectLoader.Load(Paths.Sample).Project ?? throw new InvalidOperationException("the sample project does not load");
        await using var store = await SqliteStore.OpenAsync(storePath);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var bare = Stopwatch.StartNew();
        long rows = 0;
        await store.ScanSampleRowsAsync(null, null, (in SampleRow _) => rows++);
        Console.WriteLine($"  the rows alone: {bare.Elapsed.TotalSeconds:N2} s for {rows:N0} rows, {(GC.GetTotalAllocatedBytes(precise: true) - before) / 1e6:N0} MB allocated");
        for (var i = 0; i < 3; i++)
        {
            await DrawAsync(project, store, count, seed: 1);
        }

        // The default seed (0) is the one whose priorities the store keeps: no key is hashed.
        for (var i = 0; i < 3; i++)
        {
            await DrawAsync(project, store, count, seed: 0);
        }

        // The same draw from whole traces (what a --where filter still needs), for comparison.
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var whole = Stopwatch.StartNew();
        var sampler = new Lifecycle.Sampler(project.Policy, project.Cases, seed: 1);
        await store.ScanTracesAsync(null, null, sampler.Add);
        var sample = sampler.Draw();
        Console.WriteLine($"the same draw from whole traces: {whole.Elapsed.TotalSeconds:N2} s, {sample.Drawn.Count:N0} drawn; {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 1e6:N0} MB allocated");

        return 0;
    }

    /// <summary>recal sample: a stratified draw by the sample policy over every stored trace (the widest window).</summary>
    private static async Task DrawAsync(Recal.Domain.EvalProject project, IRecalStore store, int count, int seed = 1)
    {
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var sampling = Stopwatch.StartNew();
        var sampler = new Lifecycle.Sampler(project.Policy, project.Cases, seed: seed);
        await store.ScanSampleRowsAsync(null, null, sampler.Offer);
        var (scanned, scanAllocated) = (sampling.Elapsed, GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore);
        var sample = await sampler.DrawAsync(store);
        sampling.Stop();
        Console.WriteLine($"  scan: {scanned.TotalSeconds:N2} s, {scanAllocated / 1e6:N0} MB allocated; fetching the candidates and drawing: {(sampling.Elapsed - scanned).TotalSeconds:N2} s");
        var heap = GC.GetGCMemoryInfo().HeapSizeBytes;
        Console.WriteLine($"sample (recal sample's draw, seed {seed}) over all {count:N0} stored traces: {sampling.Elapsed.TotalSeconds:N2} s, {sample.Seen / sampling.Elapsed.TotalSeconds:N0} traces/s, {sample.Drawn.Count:N0} drawn over {sample.Allocations.Count} strata; {(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 1e6:N0} MB allocated; GC heap after the draw {heap / 1e6:N0} MB");
    }

    /// <summary>
    /// <c>ingest-bad-line [N]</c>: an N-line file (default 300,000) whose middle line holds an escaped lone surrogate,
    /// ingested with the sample's classifier into a fresh store; prints lines, stored, quarantined and seconds.
    /// </summary>
    public static async Task<int> BadLineAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 300_000;
        var work = Paths.Work;
        Directory.CreateDirectory(work);
        var clean = Path.Combine(work, $"traces-{count}.jsonl");
        if (!File.Exists(clean))
        {
            Generate(clean, count);
        }

        var file = Path.Combine(work, $"traces-{count}-bad-line.jsonl");
        var middle = (count / 2) + 1;
        using (var writer = new StreamWriter(file, append: false, new UTF8Encoding(false)))
        {
            var number = 0;
            foreach (var line in File.ReadLines(clean))
            {
                number++;
                writer.Write(number == middle ? """{"id":"bad","timestamp":"2026-07-01T00:00:00Z","input":"\ud800"}""" : line);
                writer.Write('\n');
            }
        }

        var project = EvalProjectLoader.Load(Paths.Sample).Project ?? throw new InvalidOperationException("the sample project does not load");
        var storePath = Path.Combine(work, "bad-line.db");
        foreach (var stale in Directory.EnumerateFiles(work, "bad-line.db*").Concat(Directory.EnumerateFiles(work, "bad-line-quarantine.jsonl")))
        {
            File.Delete(stale);
        }

        var classifier = new TraceClassifier(LinearIntentClassifier.Train(project.Taxonomy), project.Taxonomy);
        // RECAL_BENCH_POSTGRES (a connection string to a database) measures the PostgreSQL store instead of SQLite.
        var postgres = Environment.GetEnvironmentVariable("RECAL_BENCH_POSTGRES") is { Length: > 0 } pg ? pg : null;
        await using var store = postgres is null ? await SqliteStore.OpenAsync(storePath) : await OpenEmptyPostgresAsync(postgres);
        var watch = Stopwatch.StartNew();
        var summary = await IngestPipeline.RunAsync(file, store, classifier.Classify, Path.Combine(work, "bad-line-quarantine.jsonl"));
        watch.Stop();
        var stored = (await store.GetTrafficSpanAsync())?.Count ?? 0;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine($"input: {summary.LinesRead:N0} lines, a lone surrogate on line {middle:N0}");
        Console.WriteLine($"stored: {stored:N0} ({summary.Added:N0} added, {summary.Duplicates:N0} duplicates), quarantined: {summary.Quarantined:N0}, failure: {summary.Failure?.ToString() ?? "none"}");
        Console.WriteLine($"ingest + classify + store: {watch.Elapsed.TotalSeconds:N2} s");
        return stored == summary.LinesRead - 1 ? 0 : 1;
    }

    /// <summary>
    /// <c>timeline [passes]</c>: the gap timeline alone, three times (or <c>passes</c>) with a warm cache, over the store the
    /// last <c>ingest</c> built (its report is written beside it as <c>timeline.json</c>, to compare two builds' figures).
    /// </summary>
    public static async Task<int> TimelineOnlyAsync(string[] args)
    {
        var passes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
        var storePath = Path.Combine(Paths.Work, "bench.db");
        if (!File.Exists(storePath))
        {
            Console.Error.WriteLine($"no store at {storePath}: run the ingest benchmark first");
            return 2;
        }

        var project = EvalProjectLoader.Load(Paths.Sample).Project ?? throw new InvalidOperationException("the sample project does not load");
        await using var store = await SqliteStore.OpenAsync(storePath);
        var span = await store.GetTrafficSpanAsync();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");
        await TimelineAsync(project, store, span!.Count, [.. Enumerable.Repeat("warm cache", passes)]);
        return 0;
    }

    /// <summary>
    /// recal drift's gap timeline over every week: coverage (each window sampled to 20,000), online signals, reference;
    /// a cold pass computes and caches the vectors, a warm one reads them back.
    /// </summary>
    private static async Task TimelineAsync(Recal.Domain.EvalProject project, IRecalStore store, long count, IReadOnlyList<string> passes)
    {
        var span = await store.GetTrafficSpanAsync();
        var weekly = await IntentDivergenceAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), store, new DriftRequest(From: span!.First, Over: Period.Week));
        var times = new List<double>();
        foreach (var pass in passes)
        {
            var builtin = new Embeddings.HashedEmbeddingGenerator();
            using var cached = new Embeddings.CachedEmbeddingGenerator(builtin, store, builtin.Id);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var timeline = Stopwatch.StartNew();
            var extended = await GapTimeline.ExtendAsync(weekly!, project, store, cached, builtin.Id);
            timeline.Stop();
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            if (pass.StartsWith("warm", StringComparison.Ordinal))
            {
                times.Add(timeline.Elapsed.TotalSeconds);
            }

            await Reporting.Json.DriftJsonWriter.WriteAsync(extended, Path.Combine(Paths.Work, "timeline.json"));
            Console.WriteLine($"gap timeline over {extended.Series.Count} weeks of {count:N0} traces ({pass}): {timeline.Elapsed.TotalSeconds:N2} s, CPU {cpu.TotalSeconds:N2} s; {cached.Computed:N0} vectors computed, {cached.CacheHits:N0} from the cache; peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:N0} MB; load average {LoadAverage()}");
        }

        if (times.Count > 1)
        {
            Console.WriteLine($"gap timeline, warm cache: best {times.Min():N2} s, range {times.Min():N2}-{times.Max():N2} s over {times.Count} passes");
        }
    }

    /// <summary>A PostgreSQL store with nothing in it: the store's schema in the database dropped, then the store opened (migrated).</summary>
    private static async Task<IRecalStore> OpenEmptyPostgresAsync(string connectionString)
    {
        await using (var data = Npgsql.NpgsqlDataSource.Create(connectionString))
        {
            await data.CreateCommand($"DROP SCHEMA IF EXISTS {Storage.Postgres.PostgresStore.Schema} CASCADE").ExecuteNonQueryAsync();
        }

        return await Storage.Postgres.PostgresStore.OpenAsync(new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { SearchPath = Storage.Postgres.PostgresStore.Schema }.ConnectionString, "bench");
    }

    /// <summary>The bytes the store's schema takes in the database: tables, indexes and TOAST.</summary>
    internal static async Task<long> PostgresSizeAsync(string connectionString)
    {
        await using var data = Npgsql.NpgsqlDataSource.Create(connectionString);
        await using var command = data.CreateCommand($"SELECT sum(pg_total_relation_size(c.oid))::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{Storage.Postgres.PostgresStore.Schema}' AND c.relkind = 'r'");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    /// <summary>Single-threaded cost of each stage, to see where ingest time goes.</summary>
    private static void Stages(string file, TraceClassifier classifier, LinearIntentClassifier linear)
    {
        var lines = File.ReadLines(file).Take(100_000).Select(Encoding.UTF8.GetBytes).ToList();
        var parse = Stopwatch.StartNew();
        var traces = lines.Select(l => TraceLineParser.Parse(l).Trace!).ToList();
        parse.Stop();
        var keys = Stopwatch.StartNew();
        var keyed = traces.Select(TraceKeys.For).ToList();
        keys.Stop();
        var classify = Stopwatch.StartNew();
        for (var i = 0; i < traces.Count; i++)
        {
            classifier.Classify(traces[i], keyed[i]);
        }

        classify.Stop();
        var storeOnly = Path.Combine(Paths.Work, "stages.db");
        foreach (var stale in Directory.EnumerateFiles(Path.GetDirectoryName(storeOnly)!, "stages.db*"))
        {
            File.Delete(stale);
        }

        var classified = traces.Select((t, i) => classifier.Classify(t, keyed[i])).ToList();
        var store = SqliteStore.OpenAsync(storeOnly).GetAwaiter().GetResult();
        var insert = Stopwatch.StartNew();
        foreach (var chunk in classified.Chunk(IngestPipeline.BatchLines))
        {
            store.AddTracesAsync(chunk).AsTask().GetAwaiter().GetResult();
        }

        insert.Stop();
        store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Console.WriteLine($"store per trace (1 thread): {insert.Elapsed.TotalMicroseconds / lines.Count:N2} µs");
        var features = new ulong[256];
        var counts = new int[256];
        var featurize = Stopwatch.StartNew();
        foreach (var trace in traces)
        {
            TextFeaturizer.Featurize(trace.Input.ClassificationText, ref features, ref counts);
        }

        featurize.Stop();
        var predict = Stopwatch.StartNew();
        foreach (var trace in traces)
        {
            linear.Classify(trace.Input.ClassificationText);
        }

        predict.Stop();
        Console.WriteLine($"featurize per trace (1 thread): {featurize.Elapsed.TotalMicroseconds / lines.Count:N2} µs; featurize and score, no memo: {predict.Elapsed.TotalMicroseconds / lines.Count:N2} µs");
        Console.WriteLine($"stages per trace (1 thread): parse {parse.Elapsed.TotalMicroseconds / lines.Count:N2} µs, key {keys.Elapsed.TotalMicroseconds / lines.Count:N2} µs, classify {classify.Elapsed.TotalMicroseconds / lines.Count:N2} µs");
    }

    private static int DistinctInputs(string file) =>
        File.ReadLines(file).Take(100_000).Select(l => InputPattern().Match(l).Value).Distinct(StringComparer.Ordinal).Count();

    [GeneratedRegex("\"input\":\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex InputPattern();

    /// <summary>
    /// Writes <paramref name="count"/> lines from the sample's traffic with new ids and timestamps; with
    /// <paramref name="unique"/> each input also ends in a per-line order number (" order 4821735"), so none repeats.
    /// </summary>
    private static void Generate(string path, int count, bool unique = false)
    {
        var source = new List<string>();
        using (var gzip = new GZipStream(File.OpenRead(Path.Combine(Paths.Sample, "traffic", "traffic.jsonl.gz")), CompressionMode.Decompress))
        using (var reader = new StreamReader(gzip))
        {
            while (reader.ReadLine() is { } line)
            {
                source.Add(line);
            }
        }

        var start = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
        var step = TimeSpan.FromDays(84).Ticks / count;
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        for (var i = 0; i < count; i++)
        {
            var line = source[i % source.Count];
            line = IdPattern().Replace(line, $"\"id\":\"b-{i:0000000}\"", 1);
            line = TimestampPattern().Replace(line, $"\"timestamp\":\"{start.AddTicks(step * i):yyyy-MM-ddTHH:mm:ssZ}\"", 1);
            if (unique)
            {
                // The order number is a bijection of the line number, so neighbouring lines do not share prefixes.
                var order = (int)(((long)i * 7_368_787L + 1_000_003L) % 9_000_000L) + 1_000_000;
                line = InputPattern().Replace(line, m => $"{m.Value[..^1]} order {order}\"", 1);
            }
            writer.Write(line);
            writer.Write('\n');
        }
    }

    [GeneratedRegex("\"id\":\"[^\"]*\"")]
    private static partial Regex IdPattern();

    [GeneratedRegex("\"timestamp\":\"[^\"]*\"")]
    private static partial Regex TimestampPattern();
}
