using System.Diagnostics;
using System.Globalization;
using Recal.Storage;
using Recal.Storage.Sqlite;

namespace Recal.Benchmarks;

/// <summary>
/// <c>prune</c>: retention of raw traces on the store the <c>ingest</c> benchmark left (SQLite in <c>RECAL_BENCH_DIR</c>,
/// or PostgreSQL with <c>RECAL_BENCH_POSTGRES</c>): the oldest month of traffic pruned (cutoff: the first of the month
/// after the first trace), timing the dry run and the prune, with the store's size before and after, the span and the
/// weekly counts compared before and after (the rollup keeps them), and the store's quick check. It deletes traces:
/// run <c>ingest</c> again before measuring anything else on that store.
/// </summary>
internal static class PruneBenchmark
{
    public static async Task<int> RunAsync()
    {
        var postgres = Environment.GetEnvironmentVariable("RECAL_BENCH_POSTGRES") is { Length: > 0 } pg ? pg : null;
        var storePath = Path.Combine(Paths.Work, "bench.db");
        if (postgres is null && !File.Exists(storePath))
        {
            Console.Error.WriteLine($"no store at {storePath}: run the ingest benchmark first");
            return 2;
        }

        await using IRecalStore store = postgres is null
            ? await SqliteStore.OpenAsync(storePath)
            : await Storage.Postgres.PostgresStore.OpenAsync(new Npgsql.NpgsqlConnectionStringBuilder(postgres) { SearchPath = Storage.Postgres.PostgresStore.Schema }.ConnectionString, "bench");
        async Task<long> SizeAsync() => postgres is null
            ? new FileInfo(storePath).Length + (File.Exists(storePath + "-wal") ? new FileInfo(storePath + "-wal").Length : 0)
            : await IngestBenchmark.PostgresSizeAsync(postgres);

        var span = await store.GetTrafficSpanAsync() ?? throw new InvalidOperationException("the store is empty");
        var first = new DateTimeOffset(span.First.Year, span.First.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var cutoff = first.AddMonths(1);
        var weekly = await store.CountTrafficAsync(new TrafficQuery(Period: Period.Week));
        var before = await SizeAsync();
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {IngestBenchmark.LoadAverage()}");
        Console.WriteLine($"store: {(postgres is null ? "SQLite" : "PostgreSQL")}, {span.Count:N0} traces from {span.First:yyyy-MM-dd} to {span.Last:yyyy-MM-dd}, {before / 1e6:N0} MB; pruning before {cutoff:yyyy-MM-dd}");

        var watch = Stopwatch.StartNew();
        var plan = await store.PlanPruneAsync(cutoff);
        watch.Stop();
        Console.WriteLine($"dry run: {watch.Elapsed.TotalSeconds:N2} s: {plan.Traces:N0} traces, {plan.Days} days, months {string.Join(", ", plan.Months)}, partitions {string.Join(", ", plan.DroppedPartitions)}, {plan.Bytes / 1e6:N1} MB");

        var steps = 0;
        var longest = TimeSpan.Zero;
        var last = Stopwatch.StartNew();
        watch.Restart();
        var pruned = await store.PruneTracesAsync(cutoff, new SyncProgress(_ =>
        {
            steps++;
            longest = last.Elapsed > longest ? last.Elapsed : longest;
            last.Restart();
        }));
        watch.Stop();
        var after = await SizeAsync();
        Console.WriteLine($"prune: {watch.Elapsed.TotalSeconds:N2} s, {pruned.Traces:N0} traces ({pruned.Traces / watch.Elapsed.TotalSeconds:N0} traces/s) in {steps} steps, the longest {longest.TotalMilliseconds:N0} ms");
        Console.WriteLine($"store size: {before / 1e6:N0} MB before, {after / 1e6:N0} MB after");
        if (postgres is null)
        {
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={storePath};Mode=ReadOnly");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT (SELECT freelist_count FROM pragma_freelist_count) * (SELECT page_size FROM pragma_page_size)";
            Console.WriteLine($"free pages inside the file (reused by later writes): {Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture) / 1e6:N0} MB");
        }

        var spanAfter = await store.GetTrafficSpanAsync();
        var weeklyAfter = await store.CountTrafficAsync(new TrafficQuery(Period: Period.Week));
        Console.WriteLine($"span after: {spanAfter!.First:yyyy-MM-dd} to {spanAfter.Last:yyyy-MM-dd}, {spanAfter.Count:N0} traces (before: {span.Count:N0}); weekly counts {(weeklyAfter.SequenceEqual(weekly) ? "unchanged" : "CHANGED")}");
        watch.Restart();
        var problems = await store.CheckIntegrityAsync(quick: true);
        Console.WriteLine($"quick check: {watch.Elapsed.TotalSeconds:N2} s, {(problems.Count == 0 ? "sound" : string.Join("; ", problems))}");
        return problems.Count == 0 && weeklyAfter.SequenceEqual(weekly) ? 0 : 1;
    }

    private sealed class SyncProgress(Action<PruneSummary> report) : IProgress<PruneSummary>
    {
        public void Report(PruneSummary value) => report(value);
    }
}
