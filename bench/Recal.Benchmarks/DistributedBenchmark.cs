using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Recal.Cli;
using Recal.Running;
using Recal.Storage.Postgres;
using Spectre.Console;

namespace Recal.Benchmarks;

/// <summary>
/// <c>distributed [--cases 10000] [--latency-ms 200] [--workers 4] [--concurrency 16] [--scaling] [--in-process]</c>: a
/// distributed run (<c>recal run --distributed</c>) executed by W <c>recal worker</c> processes on the PostgreSQL server
/// <c>RECAL_BENCH_POSTGRES</c> names (a connection string; the benchmark creates and drops a database of its own there),
/// against the loopback endpoint of the run benchmark, timed against the ideal cases × latency / (W × concurrency).
/// <c>--scaling</c> measures 1, 2 and 4 workers in turn; <c>--in-process</c> runs the workers in the benchmark's process.
/// </summary>
internal static class DistributedBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (Environment.GetEnvironmentVariable("RECAL_BENCH_POSTGRES") is not { Length: > 0 } server)
        {
            Console.Error.WriteLine("error: RECAL_BENCH_POSTGRES must name a PostgreSQL server (a connection string of a role that may create databases)");
            return 2;
        }

        var count = RunBenchmark.IntOption(args, "--cases", 10_000);
        var latencyMs = RunBenchmark.IntOption(args, "--latency-ms", 200);
        var concurrency = RunBenchmark.IntOption(args, "--concurrency", 16);
        var inProcess = args.Contains("--in-process");
        var waiting = !args.Contains("--cold");
        int[] counts = args.Contains("--scaling") ? [1, 2, 4] : [RunBenchmark.IntOption(args, "--workers", 4)];
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {RunBenchmark.RuntimeInformationText()}; load average {RunBenchmark.LoadAverage()}");
        Console.WriteLine($"workers: {(inProcess ? "in the benchmark's process, each on its own store connections" : "`dotnet recal.dll worker` processes")}, concurrency {concurrency} each, {(waiting ? "running and waiting before the run is queued" : "started with --once after the run is queued")}; {count:N0} cases, fixed latency {latencyMs} ms");
        await using var endpoint = await RunBenchmark.EndpointProcess.StartAsync(latencyMs);
        var admin = new NpgsqlConnectionStringBuilder(server) { Pooling = false };
        var ok = true;
        foreach (var workers in counts)
        {
            var database = "recal_bench_dist_" + Guid.NewGuid().ToString("N")[..8];
            await AdminAsync(admin, $"CREATE DATABASE {database}");
            try
            {
                ok &= await MeasureAsync(endpoint, admin, database, count, latencyMs, workers, concurrency, inProcess, waiting);
            }
            finally
            {
                NpgsqlConnection.ClearAllPools();
                await AdminAsync(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            }
        }

        return ok ? 0 : 1;
    }

    private static async Task<bool> MeasureAsync(RunBenchmark.EndpointProcess endpoint, NpgsqlConnectionStringBuilder admin, string database, int count, int latencyMs, int workers, int concurrency, bool inProcess, bool waiting)
    {
        var directory = Path.Combine(Paths.Work, $"distributed-{count}");
        RunBenchmark.WriteProject(directory, endpoint.BaseUrl, count);
        var yaml = Path.Combine(directory, "recal.yaml");
        File.WriteAllText(yaml, File.ReadAllText(yaml).Replace("store: .recal/recal.db", "store: " + StoreUrl(admin, database), StringComparison.Ordinal));

        var connection = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = database, SearchPath = PostgresStore.Schema, Pooling = true }.ConnectionString;
        string[] submit = ["run", "-p", directory, "-t", RunBenchmark.TargetName, "--no-judge", "--no-cache", "--distributed"];
        string[] worker = ["worker", "-p", directory, "-c", concurrency.ToString(CultureInfo.InvariantCulture), "--poll", "0.2", .. waiting ? Array.Empty<string>() : ["--once"]];
        var before = await endpoint.CompletionsAsync();
        Stopwatch watch;
        int[] codes;
        (TimeSpan Workers, TimeSpan Server)? cpu = null;
        if (waiting)
        {
            // Workers already running and polling (as deployed), the run queued once all have registered; stopped by Ctrl-C (SIGINT) once it is finished.
            var running = Enumerable.Range(0, workers).Select(_ => inProcess ? InProcessWorker(worker) : ProcessWorker(worker)).ToList();
            await using (var watching = NpgsqlDataSource.Create(connection))
            {
                while (await ScalarAsync(watching, "SELECT (to_regclass('run_workers') IS NOT NULL)::int") == 0 || await ScalarAsync(watching, "SELECT count(*) FROM run_workers") < workers)
                {
                    await Task.Delay(50);
                }

                var postmaster = ServerCpu.Postmaster((int)await ScalarAsync(watching, "SELECT pg_backend_pid()"));
                var (workersBefore, serverBefore) = (running.Sum(w => w.Cpu().Ticks), ServerCpu.Of(postmaster));
                watch = Stopwatch.StartNew();
                if (!await SubmitAsync(submit))
                {
                    return false;
                }

                while (await ScalarAsync(watching, "SELECT count(*) FROM runs WHERE status = 'running'") > 0)
                {
                    await Task.Delay(20);
                }

                cpu = (TimeSpan.FromTicks(running.Sum(w => w.Cpu().Ticks) - workersBefore), ServerCpu.Of(postmaster) - serverBefore);
            }

            watch.Stop();
            running.ForEach(w => w.Stop());
            codes = await Task.WhenAll(running.Select(w => w.Exit));
        }
        else
        {
            if (!await SubmitAsync(submit))
            {
                return false;
            }

            watch = Stopwatch.StartNew();
            codes = inProcess
                ? await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ => (await InProcessAsync(worker)).Code))
                : await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => ProcessWorker(worker).Exit));
            watch.Stop();
        }

        var wall = watch.Elapsed;
        var calls = await endpoint.CompletionsAsync() - before;

        await using var store = await PostgresStore.OpenReadOnlyAsync(connection, database);
        var run = (await store.ListRunsAsync(1)).Single();
        var state = (await store.GetRunStateAsync(run.Id))!;
        var stored = run.Finished!.Value - run.Started;
        var ideal = TimeSpan.FromMilliseconds((double)count * latencyMs / (workers * concurrency));
        await using var data = NpgsqlDataSource.Create(connection);
        await using var ready = data.CreateCommand("SELECT min(started), max(started) FROM run_workers");
        await using var reader = await ready.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (first, last) = (reader.GetFieldValue<DateTimeOffset>(0), reader.GetFieldValue<DateTimeOffset>(1));
        Console.WriteLine();
        Console.WriteLine($"{workers} worker(s) × concurrency {concurrency}: ideal {count:N0} × {latencyMs} ms / {workers * concurrency} = {ideal.TotalSeconds:N2} s");
        Console.WriteLine(waiting
            ? string.Create(CultureInfo.InvariantCulture, $"    workers waiting; run queued → run finished: {wall.TotalSeconds:N2} s, {wall / ideal:N3}× the ideal")
            : string.Create(CultureInfo.InvariantCulture, $"    workers started (--once) → all exited: {wall.TotalSeconds:N2} s, {wall / ideal:N3}× the ideal"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    the run as stored (queued → last case written): {stored.TotalSeconds:N2} s, {stored / ideal:N3}× the ideal"));
        if (!waiting)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    first worker ready (project loaded, store open) → last case written: {(run.Finished.Value - first).TotalSeconds:N2} s, {(run.Finished.Value - first) / ideal:N3}× the ideal; the last worker was ready {(last - first).TotalSeconds:N2} s after the first"));
        }

        Console.WriteLine($"    status {run.Status.ToString().ToLowerInvariant()}, {state.Done:N0} results, {state.Errors:N0} errors, {calls:N0} calls received by the endpoint, exit codes {string.Join(' ', codes)}");
        // Where the time went: a call's latency as recorded, and how full the W × concurrency call slots were kept.
        var latencies = (await store.GetRunCasesAsync(run.Id)).Select(r => r.LatencyMs ?? 0).Order().ToList();
        var busy = latencies.Sum() / 1000 / (stored.TotalSeconds * workers * concurrency);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    call latency as stored: median {RunReportBuilder.Quantile(latencies, 0.5):0} ms, p90 {RunReportBuilder.Quantile(latencies, 0.9):0} ms, p99 {RunReportBuilder.Quantile(latencies, 0.99):0} ms; call slots busy {busy:P1} of the run"));
        if (cpu is var (workerCpu, serverCpu))
        {
            // CPU time, unlike wall time, hardly moves with the machine's load: the cost of each case to the workers (their
            // processes, or the benchmark's own in-process) and to the database server (every postgres process).
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    CPU during the run: workers {workerCpu.TotalSeconds:N1} s ({workerCpu.TotalMilliseconds / count:0.00} ms a case){(inProcess ? " (the benchmark's process, the submission included)" : string.Empty)}, database server {serverCpu.TotalSeconds:N1} s ({serverCpu.TotalMilliseconds / count:0.00} ms a case){(ServerCpu.Available ? string.Empty : " (not measured: no /proc)")}"));
        }

        foreach (var w in state.Workers)
        {
            Console.WriteLine($"    {w.Worker}: {w.Done:N0} cases, {w.Calls:N0} calls");
        }

        return codes.All(c => c is 0 or 130) && state.Done == count && calls == count;
    }

    /// <summary>
    /// The <c>store:</c> URL of <paramref name="database"/> on the server of <paramref name="admin"/>; its password, if
    /// any, in RECAL_BENCH_PG_PASSWORD of this process (which the processes it starts inherit), never in the URL.
    /// </summary>
    internal static string StoreUrl(NpgsqlConnectionStringBuilder admin, string database)
    {
        Environment.SetEnvironmentVariable("RECAL_BENCH_PG_PASSWORD", admin.Password);
        return $"postgres://{admin.Username}@{admin.Host}:{admin.Port}/{database}{(admin.Password is null ? string.Empty : "?password_env=RECAL_BENCH_PG_PASSWORD")}";
    }

    /// <summary>The postmaster of the server of <paramref name="admin"/>: the parent of the backend of a connection to it.</summary>
    internal static async Task<int> PostmasterAsync(NpgsqlConnectionStringBuilder admin)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = "postgres" }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_backend_pid()", connection);
        return ServerCpu.Postmaster((int)(await command.ExecuteScalarAsync())!);
    }

    internal static async Task AdminAsync(NpgsqlConnectionStringBuilder admin, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(admin.ConnectionString) { Database = "postgres" }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<(int Code, string Out, string Error)> InProcessAsync(string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole Console(TextWriter writer)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
            console.Profile.Width = CliContext.RedirectedWidth;
            return console;
        }

        var code = await RecalCli.RunAsync(args, new CliContext(Console(output), Console(error)));
        return (code, output.ToString(), error.ToString());
    }

    private static async Task<bool> SubmitAsync(string[] args)
    {
        var (code, _, error) = await InProcessAsync(args);
        if (code != 0)
        {
            Console.Error.WriteLine(error);
        }

        return code == 0;
    }

    private static async Task<long> ScalarAsync(NpgsqlDataSource data, string sql)
    {
        await using var command = data.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <param name="Cpu">The worker's CPU time so far (an in-process worker: the benchmark's process, shared by all of them).</param>
    private sealed record RunningWorker(Task<int> Exit, Action Stop, Func<TimeSpan> Cpu);

    private static RunningWorker InProcessWorker(string[] args)
    {
        var stop = new CancellationTokenSource();
        var first = Interlocked.Increment(ref _inProcessWorkers) == 1;
        return new RunningWorker(Task.Run(async () => await RecalCli.RunAsync(args, new CliContext(Null(), Null()), stop.Token)), stop.Cancel, () => first ? Process.GetCurrentProcess().TotalProcessorTime : TimeSpan.Zero);

        static IAnsiConsole Null() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null), Ansi = AnsiSupport.No, Interactive = InteractionSupport.No });
    }

    /// <summary>A <c>dotnet recal.dll worker</c> process; stopping it sends SIGINT, as Ctrl-C does.</summary>
    private static RunningWorker ProcessWorker(string[] args)
    {
        var start = RunBenchmark.CliStartInfo();
        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var process = Process.Start(start)!;
        var pid = process.Id;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        async Task<int> ExitAsync()
        {
            await process.WaitForExitAsync();
            if (process.ExitCode is not (0 or 130))
            {
                Console.Error.WriteLine(await stdout + await stderr);
            }

            var code = process.ExitCode;
            process.Dispose();
            return code;
        }

        return new RunningWorker(ExitAsync(), () => Process.Start("kill", ["-INT", pid.ToString(CultureInfo.InvariantCulture)])!.WaitForExit(), () => ServerCpu.OfProcess(pid));
    }

    private static int _inProcessWorkers;

    /// <summary>CPU time of processes read from Linux's /proc (utime + stime, in clock ticks of 1/100 s).</summary>
    internal static class ServerCpu
    {
        public static bool Available => File.Exists("/proc/self/stat");

        /// <summary>The postmaster: the parent of a backend.</summary>
        public static int Postmaster(int backend) => Available ? Fields(backend) is { Length: > 3 } f ? int.Parse(f[3], CultureInfo.InvariantCulture) : 0 : 0;

        /// <summary>The CPU of the postmaster and every process it started (backends, the writer, the WAL writer, ...).</summary>
        public static TimeSpan Of(int postmaster)
        {
            if (!Available || postmaster == 0)
            {
                return TimeSpan.Zero;
            }

            var ticks = 0L;
            foreach (var directory in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(directory), out var pid) && Fields(pid) is { Length: > 14 } f && (pid == postmaster || f[3] == postmaster.ToString(CultureInfo.InvariantCulture)))
                {
                    ticks += long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
                }
            }

            return TimeSpan.FromMilliseconds(ticks * 10);
        }

        public static TimeSpan OfProcess(int pid) =>
            Available && Fields(pid) is { Length: > 14 } f ? TimeSpan.FromMilliseconds((long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture)) * 10) : TimeSpan.Zero;

        /// <summary>The fields of /proc/PID/stat after the command name (which may hold spaces): index 0 is the pid, 3 the parent, 13 and 14 utime and stime.</summary>
        private static string[]? Fields(int pid)
        {
            try
            {
                var text = File.ReadAllText($"/proc/{pid}/stat");
                var end = text.LastIndexOf(')');
                return [text[..text.IndexOf(' ', StringComparison.Ordinal)], "comm", .. text[(end + 2)..].Split(' ')];
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }
    }
}
