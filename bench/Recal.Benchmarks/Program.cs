using BenchmarkDotNet.Running;

namespace Recal.Benchmarks;

/// <summary>
/// <c>ingest [N] [--unique] [--ingest-only]</c>: end-to-end ingest + classify + store of N traces (with --unique every input text differs), then drift over them unless --ingest-only (figures printed); RECAL_BENCH_POSTGRES (a connection string to a database) measures the PostgreSQL store instead.
/// <c>ingest-otlp [N] [json|proto]</c>: N GenAI chat spans as OTLP/JSON lines or length-prefixed protobuf, ingested end to end (see <see cref="OtlpIngestBenchmark"/>).
/// <c>serve-otlp [N] [clients] [json|proto] [gzip] [queue=PARTS]</c>: <c>recal serve</c> as a process receiving N spans in requests of 512 from loopback clients (see <see cref="ServeBenchmark"/>).
/// <c>ingest-bad-line [N]</c>: N lines (default 300,000) with a lone surrogate in the middle: every other record stored.
/// <c>timeline [passes]</c>: the gap timeline alone over the store the last <c>ingest</c> left (warm cache, three passes).
/// <c>coverage [Q] [C] [D]</c>: nearest-neighbour search, the built-in embedder and the embedding cache (see <see cref="CoverageBenchmark"/>).
/// <c>coverage-search Q C [D] [portable|avx2|avx512]</c>: the search alone at one size (default: the fastest kernel), one line of figures (bench/coverage-scaling.sh runs it per size).
/// <c>embedders [K]</c> and <c>embedders throughput NAME [N]</c>: the built-in embedder against MiniLM (see <see cref="EmbeddersBenchmark"/>).
/// <c>dashboard [warm]</c>: each dashboard view's first and warm renders over the stored traces (see <see cref="DashboardBenchmark"/>).
/// <c>run</c> and <c>run-warm</c>: <c>recal run</c> against a loopback endpoint with a fixed latency (see <see cref="RunBenchmark"/>).
/// <c>distributed</c>: a distributed run executed by <c>recal worker</c> processes on PostgreSQL (see <see cref="DistributedBenchmark"/>).
/// Anything else runs the BenchmarkDotNet micro-benchmarks (e.g. <c>--filter *Classifier*</c>).
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "ingest")
        {
            return await IngestBenchmark.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "prune")
        {
            return await PruneBenchmark.RunAsync();
        }

        if (args.Length > 0 && args[0] == "ingest-otlp")
        {
            return await OtlpIngestBenchmark.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "ingest-bad-line")
        {
            return await IngestBenchmark.BadLineAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "timeline")
        {
            return await IngestBenchmark.TimelineOnlyAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "sample-draw")
        {
            return await IngestBenchmark.SampleDrawAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "coverage-search")
        {
            return CoverageBenchmark.SearchOnce(args[1..]);
        }

        if (args.Length > 0 && args[0] == "coverage")
        {
            return await CoverageBenchmark.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] is "run" or "run-warm")
        {
            return await RunBenchmark.RunAsync(args[1..], warm: args[0] == "run-warm");
        }

        if (args.Length > 0 && args[0] == "distributed")
        {
            return await DistributedBenchmark.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "embedders")
        {
            return await EmbeddersBenchmark.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "serve-otlp")
        {
            return await ServeBenchmark.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "dashboard")
        {
            return await DashboardBenchmark.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "serve")
        {
            return await LoopbackServer.RunAsync(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
