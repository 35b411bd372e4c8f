using System.Diagnostics;
using System.Globalization;
using Recal.Domain;
using Recal.Embeddings;
using Recal.Ingest;
using Recal.Ingest.Otel;
using Recal.Project;
using Recal.Reporting.Dashboard;
using Recal.Server;
using Recal.Storage;
using Recal.Storage.Sqlite;

namespace Recal.Benchmarks;

/// <summary>
/// <c>dashboard [warm] [settle=SECONDS]</c>: the dashboard's views over the store the last <c>ingest</c> left (1,000,000 traces by
/// default), served in-process on 127.0.0.1 with the sample project and the built-in embedder: each view's first
/// render (it computes) and <c>warm</c> (default 20) renders after it (from the cache, as while the store does not
/// change), wall time at the client over loopback, p50 and p95.
/// <c>dashboard first [rounds=K] [forget]</c>: each view's first render in the three cases a reader meets
/// (<see cref="FirstRendersAsync"/>): right after a start on an unchanged store, after the store's state changes, and,
/// with <c>forget</c>, on a store whose views were never computed (the kept views cleared first).
/// <c>dashboard profile</c>: where a round of the views computed ahead spends its time (<see cref="ProfileAsync"/>).
/// </summary>
internal static class DashboardBenchmark
{
    /// <summary>The views the server computes ahead and keeps, by their cache keys (what <c>/api/state?view=</c> asks about).</summary>
    private static readonly string[] KeptViews = ["health", "drift|Week|||True", "drift|None|||False", "coverage||"];

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "first")
        {
            return await FirstRendersAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "profile")
        {
            return await ProfileAsync();
        }

        var warm = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;

        // settle=SECONDS waits after the start before the first renders: the time the server's warmer has to compute ahead.
        var settle = args.FirstOrDefault(a => a.StartsWith("settle=", StringComparison.Ordinal)) is { } given ? int.Parse(given["settle=".Length..], CultureInfo.InvariantCulture) : 0;
        if (await OpenAsync() is not var (project, store))
        {
            return 2;
        }

        await using var opened = store;
        var span = await store.GetTrafficSpanAsync();
        await using var server = await StartAsync(store, project);
        var client = server.Client;
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
        return 0;
    }

    /// <summary>
    /// First renders as a reader meets them, each view asked once per case: with <c>forget</c>, first the server's
    /// start on a store whose views were never computed; then <c>rounds</c> (default 5) starts on the unchanged store
    /// (a new server, the kept views read back); then <c>rounds</c> changes of the store's state under one server (100
    /// traces stored, copies of the newest under new ids, once the round before is done). Views, then p50 and p95 per case.
    /// </summary>
    private static async Task<int> FirstRendersAsync(string[] args)
    {
        var rounds = args.FirstOrDefault(a => a.StartsWith("rounds=", StringComparison.Ordinal)) is { } given ? int.Parse(given["rounds=".Length..], CultureInfo.InvariantCulture) : 5;
        if (await OpenAsync() is not var (project, store))
        {
            return 2;
        }

        await using var opened = store;
        var span = await store.GetTrafficSpanAsync() ?? throw new InvalidOperationException("the store is empty");
        var week = new DateTimeOffset(span.Last.AddDays(-7).UtcDateTime.Date, TimeSpan.Zero);
        string[] views = [.. DashboardPages.Views.Select(v => v.Path), "/mix?from=" + Day(week), "/traces?q=card", "/traces?feedback=down", "/traces?uncertain=1"];
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}; {span.Count:N0} stored traces; {rounds} rounds");

        var never = new Dictionary<string, double>(StringComparer.Ordinal);
        var restarts = views.ToDictionary(v => v, _ => new List<double>(), StringComparer.Ordinal);
        var changes = views.ToDictionary(v => v, _ => new List<double>(), StringComparer.Ordinal);
        if (args.Contains("forget"))
        {
            foreach (var key in KeptViews.Append(string.Create(CultureInfo.InvariantCulture, $"drift|None|{week:O}||False")))
            {
                await store.PutBlobAsync("dashboard-view:" + key, []);
            }

            await using var server = await StartAsync(store, project);
            foreach (var view in views)
            {
                never[view] = await TimeAsync(server.Client, view);
            }

            await ReadyAsync(server.Client);
        }

        for (var i = 0; i < rounds; i++)
        {
            await using var server = await StartAsync(store, project);
            foreach (var view in views)
            {
                restarts[view].Add(await TimeAsync(server.Client, view));
            }

            await ReadyAsync(server.Client);
        }

        await using (var server = await StartAsync(store, project))
        {
            await ReadyAsync(server.Client);
            for (var i = 0; i < rounds; i++)
            {
                var before = await StateAsync(server.Client);
                await AddCopiesAsync(store, span, 100);
                while (await StateAsync(server.Client) == before)
                {
                    await Task.Delay(50);
                }

                foreach (var view in views)
                {
                    changes[view].Add(await TimeAsync(server.Client, view));
                }

                await ReadyAsync(server.Client);
            }
        }

        Console.WriteLine("| view | never computed | after a start p50 | p95 | after a state change p50 | p95 |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var view in views)
        {
            var (r, c) = (Sorted(restarts[view]), Sorted(changes[view]));
            var first = never.TryGetValue(view, out var ms) ? $"{ms:N0} ms" : "—";
            Console.WriteLine($"| `{view}` | {first} | {Quantile(r, 0.5):N0} ms | {Quantile(r, 0.95):N0} ms | {Quantile(c, 0.5):N0} ms | {Quantile(c, 0.95):N0} ms |");
        }

        var all = (Restarts: Sorted([.. restarts.Values.SelectMany(v => v)]), Changes: Sorted([.. changes.Values.SelectMany(v => v)]));
        Console.WriteLine($"every view: after a start p50 {Quantile(all.Restarts, 0.5):N0} ms, p95 {Quantile(all.Restarts, 0.95):N0} ms; after a state change p50 {Quantile(all.Changes, 0.5):N0} ms, p95 {Quantile(all.Changes, 0.95):N0} ms");
        if (never.Count > 0)
        {
            var n = Sorted([.. never.Values]);
            Console.WriteLine($"never computed (one start): p50 {Quantile(n, 0.5):N0} ms, p95 {Quantile(n, 0.95):N0} ms, slowest {n[^1]:N0} ms");
        }

        Console.WriteLine($"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:N0} MB; load average {LoadAverage()}");
        return 0;
    }

    /// <summary>
    /// One round of the views computed ahead, each use case timed in turn (the second of two runs, so JIT and the
    /// embedding cache are warm), and the store calls inside each: the rest is the computation above the store.
    /// </summary>
    private static async Task<int> ProfileAsync()
    {
        if (await OpenAsync() is not var (project, inner))
        {
            return 2;
        }

        await using var opened = inner;
        var (store, timer) = TimedStore.Wrap(inner);
        var builtin = new HashedEmbeddingGenerator();
        (Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>?, string?, string?) embedder = (builtin, builtin.Id, null);
        var suite = ProjectHasher.SuiteVersion(project);
        (string Name, Func<Task> Run)[] steps =
        [
            ("health (recal check)", () => Workflows.CheckUseCase.RunAsync(new Workflows.CheckRequest(project, DateTimeOffset.UtcNow, embedder), store)),
            ("timeline (weekly, with coverage)", () => Workflows.DriftUseCase.RunAsync(new Workflows.DriftUseCaseRequest(project, new Drift.DriftRequest(null, null, Period.Week), embedder), store)),
            ("current mix", () => Workflows.DriftUseCase.RunAsync(new Workflows.DriftUseCaseRequest(project, new Drift.DriftRequest(null, null, Period.None), null), store)),
            ("coverage (with the map)", async () =>
            {
                using var cached = new CachedEmbeddingGenerator(builtin, store, builtin.Id);
                await Drift.CoverageAnalyzer.AnalyzeAsync(project, suite, store, cached, builtin.Id, new Drift.CoverageRequest(null, null, Map: true));
            }),
        ];
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, load average {LoadAverage()}");
        foreach (var (name, run) in steps)
        {
            await run();
            timer.Calls.Clear();
            var watch = Stopwatch.StartNew();
            await run();
            watch.Stop();
            var inStore = timer.Calls.Sum(c => c.Value.Time.TotalMilliseconds);
            Console.WriteLine($"{name}: {watch.Elapsed.TotalMilliseconds:N0} ms; store calls {inStore:N0} ms: " +
                string.Join(", ", timer.Calls.OrderByDescending(c => c.Value.Time).Select(c => $"{c.Key} ×{c.Value.Calls} {c.Value.Time.TotalMilliseconds:N0} ms")));
        }

        // A trace search on text, feedback or certainty over the last 7 days: whole traces read (as before) against the search rows.
        var span = await inner.GetTrafficSpanAsync() ?? throw new InvalidOperationException("the store is empty");
        foreach (var search in new Workflows.TraceSearch[] { new(Text: "card"), new(Feedback: "down"), new(Uncertain: true) })
        {
            var from = span.Last.AddDays(-Workflows.TraceSearch.DefaultDays);
            var whole = Stopwatch.StartNew();
            long matched = 0;
            await inner.ScanTracesAsync(from, null, t => matched += search.Matches(t) ? 1 : 0);
            whole.Stop();
            var rows = Stopwatch.StartNew();
            var found = await Workflows.TraceSearchUseCase.RunAsync(search, inner);
            rows.Stop();
            Console.WriteLine($"trace search {search.Text ?? search.Feedback ?? "uncertain"}: whole traces {whole.Elapsed.TotalMilliseconds:N0} ms ({matched:N0} matches), search rows {rows.Elapsed.TotalMilliseconds:N0} ms ({found.Matched:N0} matches, {found.Scanned:N0} scanned)");
        }

        return 0;
    }

    private static List<double> Sorted(List<double> values)
    {
        values.Sort();
        return values;
    }

    /// <summary>The sample project and the store the last <c>ingest</c> left; null (and why) when there is none.</summary>
    private static async Task<(EvalProject Project, SqliteStore Store)?> OpenAsync()
    {
        var storePath = Path.Combine(Paths.Work, "bench.db");
        if (!File.Exists(storePath))
        {
            Console.Error.WriteLine($"no store at {storePath}: run the ingest benchmark first (ingest 1000000 --ingest-only)");
            return null;
        }

        var project = EvalProjectLoader.Load(Paths.Sample).Project ?? throw new InvalidOperationException("the sample project does not load");
        return (project, await SqliteStore.OpenAsync(storePath));
    }

    /// <summary>A server over <paramref name="store"/> as <c>dashboard</c> starts it, and a client of it.</summary>
    private static async Task<Running> StartAsync(SqliteStore store, EvalProject project)
    {
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
        var app = RecalServer.Build(options, context, logging: _ => { });
        await app.StartAsync();
        return new Running(app, new HttpClient { BaseAddress = new Uri(app.Urls.First()), Timeout = TimeSpan.FromMinutes(10) });
    }

    private static async Task<string> StateAsync(HttpClient client) => await client.GetStringAsync("/api/state");

    /// <summary>Waits until every kept view is computed for the store's state (the warmer's round done).</summary>
    private static async Task ReadyAsync(HttpClient client)
    {
        while (true)
        {
            var ready = true;
            foreach (var key in KeptViews)
            {
                ready &= (await client.GetStringAsync("/api/state?view=" + Uri.EscapeDataString(key))).Contains("\"ready\":true", StringComparison.Ordinal);
            }

            if (ready)
            {
                return;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>Stores copies of the newest traces under new ids and the same times: the state changes, the windows do not.</summary>
    private static async Task AddCopiesAsync(SqliteStore store, TrafficSpan span, int count)
    {
        var newest = new List<ClassifiedTrace>();
        await store.ScanTracesAsync(span.Last.AddMinutes(-30), null, newest.Add);
        var stamp = Guid.NewGuid().ToString("N")[..8];
        var copies = newest.TakeLast(count).Select((t, i) => t with { Key = $"{TraceKeys.IdPrefix}bench-{stamp}-{i}", Trace = t.Trace with { Id = $"bench-{stamp}-{i}" } }).ToList();
        await store.AddTracesAsync(copies);
    }

    private static string Day(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private sealed record Running(Microsoft.AspNetCore.Builder.WebApplication App, HttpClient Client) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
        }
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
