using System.Diagnostics;
using System.Globalization;
using Recal.Embeddings;
using Recal.Ingest.Otel;
using Recal.Project;
using Recal.Reporting.Dashboard;
using Recal.Server;
using Recal.Storage.Sqlite;

namespace Recal.Benchmarks;

/// <summary>
/// <c>dashboard [warm] [settle=SECONDS]</c>: the dashboard's views over the store the last <c>ingest</c> left (1,000,000 traces by
/// default), served in-process on 127.0.0.1 with the sample project and the built-in embedder: each view's first
/// render (it computes) and <c>warm</c> (default 20) renders after it (from the cache, as while the store does not
/// change), wall time at the client over loopback, p50 and p95.
/// </summary>
internal static class DashboardBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var warm = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;

        // settle=SECONDS waits after the start before the first renders: the time the server's warmer has to compute ahead.
        var settle = args.FirstOrDefault(a => a.StartsWith("settle=", StringComparison.Ordinal)) is { } given ? int.Parse(given["settle=".Length..], CultureInfo.InvariantCulture) : 0;
        var storePath = Path.Combine(Paths.Work, "bench.db");
        if (!File.Exists(storePath))
        {
            Console.Error.WriteLine($"no store at {storePath}: run the ingest benchmark first (ingest 1000000 --ingest-only)");
            return 2;
        }

        var project = EvalProjectLoader.Load(Paths.Sample).Project ?? throw new InvalidOperationException("the sample project does not load");
        await using var store = await SqliteStore.OpenAsync(storePath);
        var span = await store.GetTrafficSpanAsync();
        var options = new RecalServerOptions { NoToken = true, Urls = ["http://127.0.0.1:0"] };
        var context = new RecalServerContext(store, (_, _) => throw new InvalidOperationException("the benchmark receives nothing"), Path.Combine(Paths.Work, "quarantine.jsonl"), new OtelMappingOptions(InteractionRule.Trace, Recal.Ingest.FeedbackMap.Default), project.Settings.Name)
        {
            ProjectRoot = Paths.Sample,
            Embedder = _ =>
            {
                var builtin = new HashedEmbeddingGenerator();
                return (builtin, builtin.Id, null);
            },
        };
        await using var app = RecalServer.Build(options, context, logging: _ => { });
        await app.StartAsync();
        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromMinutes(10) };
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}; {span?.Count:N0} stored traces; {warm} warm renders per view");
        if (settle > 0)
        {
            Console.WriteLine($"waiting {settle} s for the views computed ahead");
            await Task.Delay(TimeSpan.FromSeconds(settle));
        }

        Console.WriteLine("| view | first render | warm p50 | warm p95 |");
        Console.WriteLine("|---|---|---|---|");
        foreach (var view in DashboardPages.Views.Select(v => v.Path).Append("/mix?from=" + span!.Last.AddDays(-7).UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
        {
            var first = await TimeAsync(client, view);
            var times = new List<double>();
            for (var i = 0; i < warm; i++)
            {
                times.Add(await TimeAsync(client, view));
            }

            times.Sort();
            Console.WriteLine($"| `{view}` | {first:N0} ms | {Quantile(times, 0.5):N1} ms | {Quantile(times, 0.95):N1} ms |");
        }

        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:N0} MB; load average {LoadAverage()}");
        await app.StopAsync();
        return 0;
    }

    private static async Task<double> TimeAsync(HttpClient client, string path)
    {
        var watch = Stopwatch.StartNew();
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        watch.Stop();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {body[..Math.Min(400, body.Length)]}");
        }

        return watch.Elapsed.TotalMilliseconds;
    }

    /// <summary>The q-quantile of sorted values by linear interpolation (NumPy's default).</summary>
    private static double Quantile(List<double> sorted, double q)
    {
        var position = (sorted.Count - 1) * q;
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Count - 1);
        return sorted[lower] + ((position - lower) * (sorted[upper] - sorted[lower]));
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}
