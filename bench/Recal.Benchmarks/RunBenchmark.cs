using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Recal.Cli;
using Recal.Storage.Sqlite;
using Spectre.Console;

namespace Recal.Benchmarks;

/// <summary>
/// The score side: <c>recal run</c> against a loopback OpenAI-compatible endpoint with a fixed latency.
/// <list type="bullet">
/// <item><c>run [--cases 2000] [--latency-ms 200] [--concurrency 64] [--promptfoo]</c>: a cold run (<c>--no-cache</c>),
/// timed in-process and as a <c>recal</c> process, against the ideal cases × latency / concurrency; with
/// <c>--promptfoo</c> the same cases through promptfoo 0.123.1 (bench/promptfoo/run.sh) and the wall-time ratio.</item>
/// <item><c>run-warm [--cases 10000] [--latency-ms 0] [--concurrency 64]</c>: one run to fill the response cache, then
/// re-runs with the cache on, timed, with the number of calls the endpoint received.</item>
/// </list>
/// </summary>
internal static class RunBenchmark
{
    internal const string TargetName = "bench";
    private const string Model = "support-bot-v1";

    public static async Task<int> RunAsync(string[] args, bool warm)
    {
        var count = IntOption(args, "--cases", warm ? 10_000 : 2_000);
        var latencyMs = IntOption(args, "--latency-ms", warm ? 0 : 200);
        var concurrency = IntOption(args, "--concurrency", 64);
        var promptfoo = args.Contains("--promptfoo");

        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, {RuntimeInformationText()}; load average {LoadAverage()} (other work on the machine skews every figure)");
        await using var server = await EndpointProcess.StartAsync(latencyMs);
        var directory = Path.Combine(Paths.Work, $"run-{count}");
        var cases = WriteProject(directory, server.BaseUrl, count);
        Console.WriteLine($"project: {directory} ({count:N0} cases, unique inputs)");
        Console.WriteLine($"endpoint: {server.BaseUrl}, fixed latency {latencyMs} ms; concurrency {concurrency}");

        var repeat = IntOption(args, "--repeat", 1);
        return warm
            ? await WarmAsync(directory, server, count, concurrency, repeat)
            : await ColdAsync(directory, server, cases, latencyMs, concurrency, promptfoo, repeat);
    }

    private static async Task<int> ColdAsync(string directory, EndpointProcess server, IReadOnlyList<BenchCase> cases, int latencyMs, int concurrency, bool promptfoo, int repeat)
    {
        var count = cases.Count;
        var ideal = TimeSpan.FromMilliseconds((double)count * latencyMs / concurrency);
        var waves = TimeSpan.FromMilliseconds(Math.Ceiling((double)count / concurrency) * latencyMs);
        // With a fixed latency the calls go in rounds of `concurrency`; a last, partial round still takes the whole latency.
        Console.WriteLine($"ideal: {count:N0} × {latencyMs} ms / {concurrency} = {ideal.TotalSeconds:N2} s (at best {Math.Ceiling((double)count / concurrency):N0} rounds of {latencyMs} ms: {waves.TotalSeconds:N2} s)");
        Console.WriteLine();

        var floor = await BareClientAsync(server.BaseUrl, cases, concurrency);
        Report("bare HttpClient, same requests (the endpoint's floor)", floor, ideal, count);

        long before, calls;
        int code = 0, cliCode = 0;
        TimeSpan elapsed = default, cliElapsed = default;
        for (var i = 1; i <= repeat; i++)
        {
            var again = i == 1 ? string.Empty : $", again ({i})";
            before = await server.CompletionsAsync();
            (code, elapsed, var output) = await InProcessAsync(directory, concurrency, cache: false);
            calls = await server.CompletionsAsync() - before;
            Report($"recal run --no-cache, in-process{again} (exit {code}, {calls:N0} calls received)", elapsed, ideal, count);
            Stored(await StoredRunTimeAsync(directory), ideal);
            Summary(output);

            before = await server.CompletionsAsync();
            (cliCode, cliElapsed, var cliOutput) = await CliProcessAsync(directory, concurrency, cache: false);
            calls = await server.CompletionsAsync() - before;
            Report($"recal run --no-cache, `dotnet recal.dll` process{again} (exit {cliCode}, {calls:N0} calls received)", cliElapsed, ideal, count);
            Stored(await StoredRunTimeAsync(directory), ideal);
            Summary(cliOutput);
        }

        if (promptfoo)
        {
            var config = WritePromptfooConfig(directory, server.BaseUrl, cases);
            before = await server.CompletionsAsync();
            var (pfCode, pfElapsed, pfOutput) = await PromptfooAsync(config, concurrency);
            calls = await server.CompletionsAsync() - before;
            if (pfCode != 0 || pfElapsed is null)
            {
                Console.Error.WriteLine(pfOutput);
                Console.Error.WriteLine($"error: bench/promptfoo/run.sh exited with {pfCode}");
                return 1;
            }

            Report($"promptfoo 0.123.1 eval --no-cache --max-concurrency {concurrency} ({calls:N0} calls received)", pfElapsed.Value, ideal, count);
            foreach (var line in pfOutput.Split('\n').Where(l => l.StartsWith("promptfoo results", StringComparison.Ordinal) || l.StartsWith("Duration:", StringComparison.Ordinal)))
            {
                Console.WriteLine($"    {line}");
            }

            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wall-time ratio promptfoo / recal (both as processes): {pfElapsed.Value.TotalSeconds / cliElapsed.TotalSeconds:N2}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wall-time ratio promptfoo / recal (recal in-process): {pfElapsed.Value.TotalSeconds / elapsed.TotalSeconds:N2}"));
        }

        return code == 0 && cliCode == 0 ? 0 : 1;
    }

    private static async Task<int> WarmAsync(string directory, EndpointProcess server, int count, int concurrency, int repeat)
    {
        var before = await server.CompletionsAsync();
        var (fillCode, fill, _) = await InProcessAsync(directory, concurrency, cache: true);
        var filled = await server.CompletionsAsync() - before;
        Console.WriteLine($"fill the cache: recal run, in-process: {fill.TotalSeconds:N2} s, exit {fillCode}, {filled:N0} calls received");
        Console.WriteLine();

        var ok = fillCode == 0;
        for (var i = 1; i <= repeat; i++)
        {
            var again = i == 1 ? string.Empty : $", again ({i})";
            before = await server.CompletionsAsync();
            var (code, elapsed, output) = await InProcessAsync(directory, concurrency, cache: true);
            var calls = await server.CompletionsAsync() - before;
            Console.WriteLine($"warm re-run, in-process{again}: {elapsed.TotalSeconds:N2} s, {count / elapsed.TotalSeconds:N0} cases/s, exit {code}, {calls:N0} calls received");
            Summary(output);
            ok &= code == 0 && calls == 0;

            before = await server.CompletionsAsync();
            (code, elapsed, output) = await CliProcessAsync(directory, concurrency, cache: true);
            calls = await server.CompletionsAsync() - before;
            Console.WriteLine($"warm re-run, `dotnet recal.dll` process{again}: {elapsed.TotalSeconds:N2} s, {count / elapsed.TotalSeconds:N0} cases/s, exit {code}, {calls:N0} calls received");
            Summary(output);
            ok &= code == 0 && calls == 0;
        }

        return ok ? 0 : 1;
    }

    private static void Report(string what, TimeSpan elapsed, TimeSpan ideal, int count)
    {
        Console.WriteLine(what);
        var overhead = ideal > TimeSpan.Zero ? string.Create(CultureInfo.InvariantCulture, $"{(elapsed / ideal - 1) * 100:+0.0;-0.0}%") : "n/a";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    wall {elapsed.TotalSeconds:N2} s, ideal {ideal.TotalSeconds:N2} s, overhead {overhead}, {count / elapsed.TotalSeconds:N0} cases/s"));
    }

    private static void Stored(TimeSpan run, TimeSpan ideal) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    the run as stored (started → finished, without start-up and project load): {run.TotalSeconds:N2} s{(ideal > TimeSpan.Zero ? $", overhead {(run / ideal - 1) * 100:+0.0;-0.0}%" : string.Empty)}"));

    /// <summary>The newest run's time as stored (from its record's creation to its finish), and its over the ideal.</summary>
    private static async Task<TimeSpan> StoredRunTimeAsync(string directory)
    {
        await using var store = await SqliteStore.OpenAsync(Path.Combine(directory, ".recal", "recal.db"));
        var run = (await store.ListRunsAsync(1)).Single();
        return run.Finished!.Value - run.Started;
    }

    /// <summary>The lines of recal's result table that say how the run went.</summary>
    private static void Summary(string output)
    {
        foreach (var line in output.Split('\n'))
        {
            var trimmed = line.Trim();
            if (trimmed.StartsWith("Run ", StringComparison.Ordinal) || trimmed.StartsWith("pass rate", StringComparison.Ordinal)
                || trimmed.StartsWith("errors", StringComparison.Ordinal) || trimmed.StartsWith("calls", StringComparison.Ordinal))
            {
                Console.WriteLine($"    {trimmed}");
            }
        }
    }

    private static string[] RunArguments(string directory, int concurrency, bool cache) =>
        ["run", "-p", directory, "-t", TargetName, "-c", concurrency.ToString(CultureInfo.InvariantCulture), "--no-judge", .. cache ? Array.Empty<string>() : ["--no-cache"]];

    private static async Task<(int Code, TimeSpan Elapsed, string Output)> InProcessAsync(string directory, int concurrency, bool cache)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        IAnsiConsole Console(TextWriter writer)
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(writer),
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
            });
            console.Profile.Width = CliContext.RedirectedWidth;
            return console;
        }

        var watch = Stopwatch.StartNew();
        var code = await RecalCli.RunAsync(RunArguments(directory, concurrency, cache), new CliContext(Console(output), Console(error)));
        watch.Stop();
        if (code != 0)
        {
            System.Console.Error.WriteLine(error.ToString());
        }

        return (code, watch.Elapsed, output.ToString());
    }

    private static async Task<(int Code, TimeSpan Elapsed, string Output)> CliProcessAsync(string directory, int concurrency, bool cache)
    {
        var start = CliStartInfo();
        foreach (var argument in RunArguments(directory, concurrency, cache))
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        watch.Stop();
        if (process.ExitCode != 0)
        {
            Console.Error.WriteLine(await stderr);
        }

        return (process.ExitCode, watch.Elapsed, await stdout);
    }

    /// <summary>
    /// A process of the Release build's recal.dll, or of another build's (<c>RECAL_BENCH_CLI</c>: a recal.dll, or the
    /// <c>recal</c> of an installed tool package) for comparing versions back to back; arguments to be added.
    /// </summary>
    internal static ProcessStartInfo CliStartInfo()
    {
        // A .dll runs under `dotnet`; anything else is an executable, such as the `recal` an installed tool package puts on the path.
        var recal = CliPath();
        var dll = recal.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var start = new ProcessStartInfo(dll ? "dotnet" : recal) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (dll)
        {
            start.ArgumentList.Add(recal);
        }

        return start;
    }

    /// <summary>The Release build's recal.dll, or <c>RECAL_BENCH_CLI</c>.</summary>
    internal static string CliPath()
    {
        var recal = Environment.GetEnvironmentVariable("RECAL_BENCH_CLI") is { Length: > 0 } other ? other : Path.Combine(Paths.Root, "src", "Recal.Cli", "bin", "Release", "net10.0", "recal.dll");
        return File.Exists(recal) ? recal : throw new InvalidOperationException($"{recal} is missing: dotnet build -c Release src/Recal.Cli");
    }

    private static async Task<(int Code, TimeSpan? Elapsed, string Output)> PromptfooAsync(string config, int concurrency)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(Paths.Root, "bench", "promptfoo", "run.sh"));
        start.ArgumentList.Add(config);
        start.ArgumentList.Add(concurrency.ToString(CultureInfo.InvariantCulture));
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var output = await stdout + await stderr;
        const string Prefix = "promptfoo wall time: ";
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith(Prefix, StringComparison.Ordinal));
        TimeSpan? elapsed = line is null ? null : TimeSpan.FromSeconds(double.Parse(line[Prefix.Length..].Split(' ')[0], CultureInfo.InvariantCulture));
        return (process.ExitCode, elapsed, output);
    }

    /// <summary>The same chat requests from a bare HttpClient: what the endpoint and loopback allow at best.</summary>
    private static async Task<TimeSpan> BareClientAsync(string baseUrl, IReadOnlyList<BenchCase> cases, int concurrency)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        var url = new Uri(baseUrl + "/chat/completions");
        var watch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (c, token) =>
        {
            var body = JsonSerializer.Serialize(new { model = Model, messages = new[] { new { role = "user", content = c.Input } }, temperature = 0, max_tokens = 200 });
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(url, content, token);
            response.EnsureSuccessStatusCode();
            _ = await response.Content.ReadAsByteArrayAsync(token);
        });
        return watch.Elapsed;
    }

    /// <summary>Writes recal.yaml, the sample's taxonomy and policy, and N gold cases with unique inputs.</summary>
    internal static List<BenchCase> WriteProject(string directory, string baseUrl, int count)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        Directory.CreateDirectory(Path.Combine(directory, "cases"));
        File.Copy(Path.Combine(Paths.Sample, "taxonomy.yaml"), Path.Combine(directory, "taxonomy.yaml"));
        File.Copy(Path.Combine(Paths.Sample, "policy.yaml"), Path.Combine(directory, "policy.yaml"));
        File.WriteAllText(Path.Combine(directory, "recal.yaml"), $"""
            # Generated by the run benchmark (bench/Recal.Benchmarks RunBenchmark.cs).
            version: 1
            name: run-bench
            store: .recal/recal.db
            taxonomy: taxonomy.yaml
            policy: policy.yaml
            cases: cases

            run:
              concurrency: 64
              max_error_share: 0.02
              cache_ttl: 30d
              retries: 3
              timeout: 30s

            targets:
              {TargetName}:
                type: openai
                base_url: {baseUrl}
                model: {Model}
                parameters:
                  temperature: 0
                  max_tokens: 200
            """);

        var gold = File.ReadAllLines(Path.Combine(Paths.Sample, "cases", "gold.jsonl")).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var cases = new List<BenchCase>(count);
        using var writer = new StreamWriter(Path.Combine(directory, "cases", "gold.jsonl"));
        for (var i = 0; i < count; i++)
        {
            var line = gold[i % gold.Count].DeepClone().AsObject();
            var input = $"{line["input"]!.GetValue<string>()} (#{i + 1})";
            line["id"] = $"bench-{i + 1:D6}";
            line["input"] = input;
            if (line["assertions"] is not JsonArray { Count: > 0 })
            {
                line["assertions"] = new JsonArray(new JsonObject { ["type"] = "contains", ["value"] = "here is how" });
            }

            var contains = line["assertions"]!.AsArray().Where(a => a!["type"]!.GetValue<string>() == "contains").Select(a => a!["value"]!.GetValue<string>()).ToList();
            cases.Add(new BenchCase(input, contains));
            writer.WriteLine(line.ToJsonString());
        }

        return cases;
    }

    /// <summary>The same cases as a promptfoo config: the input as the user turn, the same model and parameters, icontains for recal's (case-insensitive) contains.</summary>
    private static string WritePromptfooConfig(string directory, string baseUrl, IReadOnlyList<BenchCase> cases)
    {
        var config = new JsonObject
        {
            ["description"] = "recal run benchmark: the same cases, endpoint and concurrency",
            ["prompts"] = new JsonArray("{{input}}"),
            ["providers"] = new JsonArray(new JsonObject
            {
                ["id"] = $"openai:chat:{Model}",
                ["config"] = new JsonObject { ["apiBaseUrl"] = baseUrl, ["temperature"] = 0, ["max_tokens"] = 200 },
            }),
            ["tests"] = new JsonArray([.. cases.Select(c => (JsonNode)new JsonObject
            {
                ["vars"] = new JsonObject { ["input"] = c.Input },
                ["assert"] = new JsonArray([.. c.Contains.Select(v => (JsonNode)new JsonObject { ["type"] = "icontains", ["value"] = v })]),
            })]),
        };
        var path = Path.Combine(directory, "promptfooconfig.yaml");
        // JSON is YAML: no quoting rules to get wrong.
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    internal static int IntOption(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    internal static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    internal static string RuntimeInformationText() => System.Runtime.InteropServices.RuntimeInformation.OSDescription;

    internal sealed record BenchCase(string Input, IReadOnlyList<string> Contains);

    /// <summary>The loopback endpoint as a child process (<c>serve</c>): its own thread pool and cores' share.</summary>
    internal sealed class EndpointProcess : IAsyncDisposable
    {
        private static readonly HttpClient Http = new();
        private readonly Process _process;

        private EndpointProcess(Process process, string baseUrl)
        {
            _process = process;
            BaseUrl = baseUrl;
        }

        public string BaseUrl { get; }

        public static async Task<EndpointProcess> StartAsync(int latencyMs)
        {
            var self = Environment.ProcessPath!;
            var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            {
                start.ArgumentList.Add(typeof(RunBenchmark).Assembly.Location);
            }

            start.ArgumentList.Add("serve");
            start.ArgumentList.Add("--latency-ms");
            start.ArgumentList.Add(latencyMs.ToString(CultureInfo.InvariantCulture));
            var process = Process.Start(start)!;
            var line = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the loopback endpoint did not start");
            return new EndpointProcess(process, line.Trim());
        }

        /// <summary>Chat completions the endpoint has answered so far.</summary>
        public async Task<long> CompletionsAsync() =>
            long.Parse(await Http.GetStringAsync(new Uri(BaseUrl.Replace("/v1", "/stats", StringComparison.Ordinal))), CultureInfo.InvariantCulture);

        public async ValueTask DisposeAsync()
        {
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill();
            }

            _process.Dispose();
        }
    }
}
