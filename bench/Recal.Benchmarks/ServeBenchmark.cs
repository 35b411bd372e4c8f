using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Npgsql;

namespace Recal.Benchmarks;

/// <summary>
/// <c>serve-otlp [N] [clients] [json|proto] [gzip] [queue=PARTS]</c>: <c>recal serve</c> started as its own process (the built CLI,
/// on 127.0.0.1 with a free port, on a copy of the sample project with a fresh store) receives N GenAI chat spans in
/// requests of 512 (the requests <c>ingest-otlp</c> writes), posted by that many loopback clients at
/// once; a 429 or 503 is retried after its Retry-After. Prints sustained spans/s (first post to last acknowledgement),
/// the 429s, and the server's peak resident memory (VmHWM), then stops the server by its PID. With RECAL_BENCH_POSTGRES
/// (a connection string) it serves into a fresh database of its own on that PostgreSQL server and prints the database
/// server's CPU per span too.
/// </summary>
internal static class ServeBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500_000;
        var clients = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 4;
        var json = args.Contains("json");
        var gzip = args.Contains("gzip");
        var work = Paths.Work;
        Directory.CreateDirectory(work);
        var file = Path.Combine(work, $"spans-{count}.{(json ? "jsonl" : "otlp")}");
        if (!File.Exists(file))
        {
            OtlpIngestBenchmark.Generate(file, count, protobuf: !json);
        }

        var bodies = json ? File.ReadLines(file).Select(System.Text.Encoding.UTF8.GetBytes).ToList() : LengthPrefixed(file);
        if (gzip)
        {
            bodies = [.. bodies.Select(Compress)];
        }

        var project = Path.Combine(work, "serve-project");
        if (Directory.Exists(project))
        {
            Directory.Delete(project, recursive: true);
        }

        Copy(Paths.Sample, project);

        // RECAL_BENCH_POSTGRES (a connection string of a role that may create databases) serves into a fresh database of
        // its own on that server, dropped afterwards, and measures the database server's CPU too; RECAL_BENCH_STORE (a
        // store: value, e.g. postgres://postgres@127.0.0.1:55432/recal_bench) serves into that store instead of SQLite.
        NpgsqlConnectionStringBuilder? admin = null;
        string? database = null;
        var storeSetting = Environment.GetEnvironmentVariable("RECAL_BENCH_STORE");
        if (Environment.GetEnvironmentVariable("RECAL_BENCH_POSTGRES") is { Length: > 0 } postgres)
        {
            admin = new NpgsqlConnectionStringBuilder(postgres) { Pooling = false };
            database = "recal_bench_serve_" + Guid.NewGuid().ToString("N")[..8];
            await DistributedBenchmark.AdminAsync(admin, $"CREATE DATABASE {database}");
            storeSetting = DistributedBenchmark.StoreUrl(admin, database);
        }

        try
        {
            if (storeSetting is { Length: > 0 })
            {
                var yaml = Path.Combine(project, "recal.yaml");
                File.WriteAllText(yaml, File.ReadAllText(yaml).Replace("store: .recal/recal.db", "store: " + storeSetting, StringComparison.Ordinal));
            }

            return await ServeAsync(count, clients, json, gzip, bodies, project, args, admin);
        }
        finally
        {
            if (admin is not null)
            {
                await DistributedBenchmark.AdminAsync(admin, $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
            }
        }
    }

    private static async Task<int> ServeAsync(int count, int clients, bool json, bool gzip, List<byte[]> bodies, string project, string[] args, NpgsqlConnectionStringBuilder? admin)
    {

        var port = FreePort();
        // The CLI's own build output (built with this benchmark), as a user runs it.
        var configuration = Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!);
        var cli = Path.Combine(Paths.Root, "src", "Recal.Cli", "bin", configuration, "net10.0", "recal.dll");
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { cli, "serve", "-p", project, "--urls", $"http://127.0.0.1:{port}", "--no-token" })
        {
            start.ArgumentList.Add(argument);
        }

        // queue=N passes --queue N: a small queue shows the 429s and the memory they keep bounded.
        if (args.FirstOrDefault(a => a.StartsWith("queue=", StringComparison.Ordinal)) is { } queue)
        {
            start.ArgumentList.Add("--queue");
            start.ArgumentList.Add(queue["queue=".Length..]);
        }

        using var server = Process.Start(start)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("server: " + e.Data); };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients }) { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(5) };
            while (true)
            {
                try
                {
                    if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException) when (!server.HasExited)
                {
                }

                await Task.Delay(100);
            }

            var cpuBefore = CpuSeconds(server.Id);
            var postmaster = admin is null ? 0 : await DistributedBenchmark.PostmasterAsync(admin);
            var databaseBefore = DistributedBenchmark.ServerCpu.Of(postmaster);
            var media = new MediaTypeHeaderValue(json ? "application/json" : "application/x-protobuf");
            long next = -1, spans = 0, busy = 0, rejected = 0;
            var watch = Stopwatch.StartNew();
            var tasks = Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
            {
                int index;
                while ((index = (int)Interlocked.Increment(ref next)) < bodies.Count)
                {
                    while (true)
                    {
                        var content = new ByteArrayContent(bodies[index]);
                        content.Headers.ContentType = media;
                        if (gzip)
                        {
                            content.Headers.ContentEncoding.Add("gzip");
                        }

                        using var response = await http.PostAsync("/v1/traces", content);
                        if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable)
                        {
                            Interlocked.Increment(ref busy);
                            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                            continue;
                        }

                        response.EnsureSuccessStatusCode();
                        if ((await response.Content.ReadAsByteArrayAsync()).Length > 2)
                        {
                            Interlocked.Increment(ref rejected);
                        }

                        Interlocked.Add(ref spans, Math.Min(512, count - (index * 512L)));
                        break;
                    }
                }
            })).ToArray();
            await Task.WhenAll(tasks);
            watch.Stop();
            var cpu = CpuSeconds(server.Id) - cpuBefore;
            var databaseCpu = (DistributedBenchmark.ServerCpu.Of(postmaster) - databaseBefore).TotalSeconds;
            var peak = PeakResidentBytes(server.Id);
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
            Console.WriteLine($"input: {count:N0} GenAI chat spans in {bodies.Count:N0} requests of 512, {(json ? "OTLP/JSON" : "OTLP protobuf")}{(gzip ? ", gzip" : string.Empty)}, {bodies.Sum(b => (long)b.Length) / 1e6:N0} MB on the wire, {clients} loopback client(s)");
            Console.WriteLine($"acknowledged (committed): {spans:N0} spans in {watch.Elapsed.TotalSeconds:N2} s = {spans / watch.Elapsed.TotalSeconds:N0} spans/s sustained");
            Console.WriteLine($"server CPU: {cpu:N2} s user+system = {cpu * 1e6 / spans:N1} µs per span (load average at the end: {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
            if (postmaster != 0)
            {
                // Every process of the database server: the receiver's backends, autovacuum, the WAL writer, ... (a busy server of other databases counts too).
                Console.WriteLine($"database server CPU: {databaseCpu:N2} s user+system = {databaseCpu * 1e6 / spans:N1} µs per span; receiver and database together {(cpu + databaseCpu) * 1e6 / spans:N1} µs per span");
            }

            Console.WriteLine($"turned away (429/503, retried): {busy:N0}; responses with a partial success: {rejected:N0}");
            Console.WriteLine($"server peak resident memory (VmHWM): {peak / 1e6:N0} MB");
            return spans == count && rejected == 0 ? 0 : 1;
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }

    private static List<byte[]> LengthPrefixed(string file)
    {
        var bodies = new List<byte[]>();
        using var input = File.OpenRead(file);
        var prefix = new byte[4];
        while (input.Read(prefix) == 4)
        {
            var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(prefix)];
            input.ReadExactly(body);
            bodies.Add(body);
        }

        return bodies;
    }

    private static byte[] Compress(byte[] body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(body);
        }

        return buffer.ToArray();
    }

    /// <summary>The project files without its store, its traffic or anything git ignores.</summary>
    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var folder in Directory.EnumerateDirectories(from))
        {
            var name = Path.GetFileName(folder);
            if (name is not (".recal" or "traffic"))
            {
                Copy(folder, Path.Combine(to, name));
            }
        }
    }

    /// <summary>User and system CPU time of a process so far (/proc/PID/stat, fields 14 and 15, in clock ticks of 1/100 s).</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>VmHWM of /proc/PID/status: the most resident memory the process ever had.</summary>
    private static long PeakResidentBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
            }
        }

        return -1;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
