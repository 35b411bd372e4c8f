using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Recal.Classification;
using Recal.Ingest;
using Recal.Ingest.Otel.Proto;
using Recal.Project;
using Recal.Storage.Sqlite;

namespace Recal.Benchmarks;

/// <summary>
/// <c>ingest-otlp [N] [json|proto]</c>: N GenAI chat spans (latest conventions: gen_ai.input.messages and
/// gen_ai.output.messages as JSON text, request and response model, usage, the sample's metadata as attributes), built
/// from the sample's traffic and written the way exporters write them: 512 spans per TracesData, one per line (the
/// file exporter's OTLP/JSON) or one ExportTraceServiceRequest per 4-byte length prefix (protobuf). Ingested with the
/// sample taxonomy's classifier into a fresh store; prints spans/s and the peak working set.
/// </summary>
internal static class OtlpIngestBenchmark
{
    private const int SpansPerRequest = 512;

    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1_000_000;
        var protobuf = args.Length > 1 && args[1] == "proto";
        var work = Paths.Work;
        Directory.CreateDirectory(work);
        var file = Path.Combine(work, $"spans-{count}.{(protobuf ? "otlp" : "jsonl")}");
        if (!File.Exists(file))
        {
            Generate(file, count, protobuf);
        }

        var project = EvalProjectLoader.Load(Paths.Sample).Project ?? throw new InvalidOperationException("the sample project does not load");
        var storePath = Path.Combine(work, "bench-otlp.db");
        foreach (var stale in Directory.EnumerateFiles(work, "bench-otlp.db*"))
        {
            File.Delete(stale);
        }

        var classifier = new TraceClassifier(LinearIntentClassifier.Train(project.Taxonomy), project.Taxonomy);
        if (Environment.GetEnvironmentVariable("RECAL_BENCH_STAGES") == "1")
        {
            Stages(file, classifier, protobuf);
            await StoreStageAsync(file, classifier, work, protobuf);
        }

        await using var store = await SqliteStore.OpenAsync(storePath);
        using var events = GcEvents.StartIfAsked();
        var watch = Stopwatch.StartNew();
        var summary = await IngestPipeline.RunAsync(file, store, classifier.Classify, Path.Combine(work, "quarantine-otlp.jsonl"), new IngestOptions());
        watch.Stop();
        var peak = Process.GetCurrentProcess().PeakWorkingSet64;
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        Console.WriteLine($"input: {count:N0} GenAI chat spans, {new FileInfo(file).Length / 1e6:N0} MB {(protobuf ? "OTLP protobuf (length-prefixed requests)" : "OTLP/JSON (one TracesData per line)")}, {SpansPerRequest} spans per request");
        Console.WriteLine($"format detected: {TraceFormats.Name(summary.Format)}");
        Console.WriteLine($"ingest + classify + store: {watch.Elapsed.TotalSeconds:N2} s, {summary.Records / watch.Elapsed.TotalSeconds:N0} spans/s ({summary.Records:N0} spans read, {summary.Added:N0} traces added, {summary.Quarantined} quarantined)");
        Console.WriteLine($"time in the store: {summary.StoreTime.TotalSeconds:N2} s");
        Console.WriteLine($"peak working set: {peak / 1e6:N0} MB");
        Console.WriteLine(GcFigures());
        if (events is not null)
        {
            Console.WriteLine(events.Summary());
        }

        return summary.Added == count ? 0 : 1;
    }

    /// <summary>The collector's settings and work over the run: what the peak working set is made of.</summary>
    internal static string GcFigures()
    {
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var settings = GC.GetConfigurationVariables();
        var budget = settings.TryGetValue("GCGen0MaxBudget", out var b) ? Convert.ToInt64(b, CultureInfo.InvariantCulture) / 1e6 : 0;
        var concurrent = settings.TryGetValue("ConcurrentGC", out var c) && c is true;
        return $"GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, {(concurrent ? "concurrent" : "non-concurrent")}, gen0 max budget {budget:N0} MB; "
            + $"collections gen0 {GC.CollectionCount(0):N0}, gen1 {GC.CollectionCount(1):N0}, gen2 {GC.CollectionCount(2):N0}; "
            + $"allocated {GC.GetTotalAllocatedBytes() / 1e9:N1} GB; paused {GC.GetTotalPauseDuration().TotalSeconds:N2} s; "
            + $"last heap {info.HeapSizeBytes / 1e6:N0} MB, committed {info.TotalCommittedBytes / 1e6:N0} MB";
    }

    /// <summary>
    /// RECAL_BENCH_STAGES=1: each stage alone on one thread (read, build traces, classify), in µs of process CPU time
    /// and bytes allocated per span, after a warm-up pass.
    /// </summary>
    private static void Stages(string file, TraceClassifier classifier, bool protobuf)
    {
        var payloads = protobuf ? ProtobufMessages(file).Take(100).ToList() : File.ReadLines(file).Take(100).Select(Encoding.UTF8.GetBytes).ToList();
        var spans = 0;
        TimeSpan read = default, build = default, classify = default;
        long readBytes = 0, buildBytes = 0, classifyBytes = 0;
        for (var pass = 0; pass < 2; pass++)
        {
            (read, build, classify, spans, readBytes, buildBytes, classifyBytes) = (default, default, default, 0, 0, 0, 0);
            foreach (var body in payloads)
            {
                var process = Process.GetCurrentProcess();
                var cpu = process.TotalProcessorTime;
                var bytes = GC.GetAllocatedBytesForCurrentThread();
                var payload = protobuf ? Recal.Ingest.Otel.OtlpProtobufReader.ReadTraces(body) : Recal.Ingest.Otel.OtlpJsonReader.Read(body);
                readBytes += GC.GetAllocatedBytesForCurrentThread() - bytes;
                process.Refresh();
                read += process.TotalProcessorTime - cpu;
                cpu = process.TotalProcessorTime;
                spans += payload.Spans.Count;
                bytes = GC.GetAllocatedBytesForCurrentThread();
                var parts = Recal.Ingest.Otel.OtelInteractions.Build(payload);
                buildBytes += GC.GetAllocatedBytesForCurrentThread() - bytes;
                process.Refresh();
                build += process.TotalProcessorTime - cpu;
                cpu = process.TotalProcessorTime;
                bytes = GC.GetAllocatedBytesForCurrentThread();
                foreach (var part in parts.Parts)
                {
                    classifier.Classify(part.Trace!, part.Key);
                }

                classifyBytes += GC.GetAllocatedBytesForCurrentThread() - bytes;
                process.Refresh();
                classify += process.TotalProcessorTime - cpu;
            }
        }

        Console.WriteLine($"stages per span (process CPU time and bytes allocated, after a warm-up pass): read {read.TotalMicroseconds / spans:N1} µs {readBytes / spans:N0} B, "
            + $"build {build.TotalMicroseconds / spans:N1} µs {buildBytes / spans:N0} B, classify {classify.TotalMicroseconds / spans:N1} µs {classifyBytes / spans:N0} B");
    }

    /// <summary>The request bodies of a length-prefixed protobuf file.</summary>
    private static IEnumerable<byte[]> ProtobufMessages(string file)
    {
        using var stream = File.OpenRead(file);
        var prefix = new byte[4];
        while (stream.Read(prefix) == 4)
        {
            var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(prefix)];
            stream.ReadExactly(body);
            yield return body;
        }
    }

    /// <summary>The same traces stored by AddTracesAsync and by MergeTracesAsync into fresh stores (process CPU time).</summary>
    private static async Task StoreStageAsync(string file, TraceClassifier classifier, string work, bool protobuf)
    {
        var bodies = protobuf ? ProtobufMessages(file).Take(40) : File.ReadLines(file).Take(40).Select(Encoding.UTF8.GetBytes);
        var traces = bodies.SelectMany(b => Recal.Ingest.Otel.OtelInteractions.Build(protobuf ? Recal.Ingest.Otel.OtlpProtobufReader.ReadTraces(b) : Recal.Ingest.Otel.OtlpJsonReader.Read(b)).Parts)
            .Select(p => classifier.Classify(p.Trace!, p.Key)).ToList();
        foreach (var merge in new[] { false, true })
        {
            var path = Path.Combine(work, "stage-store.db");
            foreach (var stale in Directory.EnumerateFiles(work, "stage-store.db*"))
            {
                File.Delete(stale);
            }

            await using var store = await SqliteStore.OpenAsync(path);
            var process = Process.GetCurrentProcess();
            var cpu = process.TotalProcessorTime;
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            for (var i = 0; i < traces.Count; i += 2500)
            {
                var batch = traces.GetRange(i, Math.Min(2500, traces.Count - i));
                if (merge)
                {
                    await store.MergeTracesAsync([.. batch.Select(t => new TraceUpdate(t.Key, t, t.Trace.Feedback))], (s, u) => null, null);
                }
                else
                {
                    await store.AddTracesAsync(batch);
                }
            }

            process.Refresh();
            var stored = GC.GetTotalAllocatedBytes(precise: true) - allocated;
            Console.WriteLine($"store stage ({(merge ? "MergeTracesAsync" : "AddTracesAsync")}): {(process.TotalProcessorTime - cpu).TotalMicroseconds / traces.Count:N1} µs CPU and {stored / traces.Count:N0} B allocated per trace over {traces.Count:N0}");
        }
    }

    internal static void Generate(string path, int count, bool protobuf)
    {
        var source = new List<Recal.Domain.Trace>();
        using (var gzip = new GZipStream(File.OpenRead(Path.Combine(Paths.Sample, "traffic", "traffic.jsonl.gz")), CompressionMode.Decompress))
        using (var reader = new StreamReader(gzip))
        {
            while (reader.ReadLine() is { } line)
            {
                if (TraceLineParser.Parse(Encoding.UTF8.GetBytes(line)).Trace is { } trace)
                {
                    source.Add(trace);
                }
            }
        }

        var start = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds() * 1_000_000L;
        var step = TimeSpan.FromDays(84).Ticks * 100 / count;
        using var output = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var resource = new Resource { Attributes = { Kv("service.name", "support-bot"), Kv("service.version", "2026.06.1"), Kv("telemetry.sdk.language", "dotnet") } };
        for (var first = 0; first < count; first += SpansPerRequest)
        {
            var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "Experimental.Microsoft.Extensions.AI" } };
            for (var i = first; i < Math.Min(count, first + SpansPerRequest); i++)
            {
                var trace = source[i % source.Count];
                var time = start + (step * i);
                var id = new byte[16];
                BinaryPrimitives.WriteInt64BigEndian(id, 0x5b8efff798038103);
                BinaryPrimitives.WriteInt64BigEndian(id.AsSpan(8), i + 1);
                var span = new Span
                {
                    TraceId = ByteString.CopyFrom(id),
                    SpanId = ByteString.CopyFrom(id, 8, 8),
                    Name = "chat gpt-4o-mini",
                    Kind = Span.Types.SpanKind.Client,
                    StartTimeUnixNano = (ulong)time,
                    EndTimeUnixNano = (ulong)(time + 900_000_000),
                    Attributes =
                    {
                        Kv("gen_ai.operation.name", "chat"), Kv("gen_ai.provider.name", "openai"), Kv("gen_ai.request.model", "gpt-4o-mini"),
                        Kv("gen_ai.response.model", trace.Model ?? "gpt-4o-mini-2024-07-18"), Kv("gen_ai.response.id", "chatcmpl-" + i),
                        Kv("gen_ai.usage.input_tokens", 30 + (i % 40)), Kv("gen_ai.usage.output_tokens", 12 + (i % 30)),
                        Kv("gen_ai.input.messages", JsonSerializer.Serialize(new[] { new { role = "user", parts = new[] { new { type = "text", content = trace.Input.ClassificationText } } } })),
                        Kv("gen_ai.output.messages", JsonSerializer.Serialize(new[] { new { role = "assistant", parts = new[] { new { type = "text", content = trace.Output ?? "ok" } }, finish_reason = "stop" } })),
                    },
                };
                foreach (var (key, value) in trace.Metadata)
                {
                    span.Attributes.Add(Kv(key, value));
                }

                scope.Spans.Add(span);
            }

            var request = new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = resource, ScopeSpans = { scope } } } };
            if (protobuf)
            {
                var bytes = request.ToByteArray();
                var prefix = new byte[4];
                BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)bytes.Length);
                output.Write(prefix);
                output.Write(bytes);
            }
            else
            {
                WriteJson(output, request);
                output.WriteByte((byte)'\n');
            }
        }
    }

    private static KeyValue Kv(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static KeyValue Kv(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    /// <summary>OTLP/JSON as the specification writes it: hex ids, 64-bit integers as strings.</summary>
    private static void WriteJson(Stream output, ExportTraceServiceRequest request)
    {
        using var json = new Utf8JsonWriter(output);
        json.WriteStartObject();
        json.WriteStartArray("resourceSpans");
        foreach (var resourceSpans in request.ResourceSpans)
        {
            json.WriteStartObject();
            json.WriteStartObject("resource");
            Attributes(json, resourceSpans.Resource.Attributes);
            json.WriteEndObject();
            json.WriteStartArray("scopeSpans");
            foreach (var scope in resourceSpans.ScopeSpans)
            {
                json.WriteStartObject();
                json.WriteStartObject("scope");
                json.WriteString("name", scope.Scope.Name);
                json.WriteEndObject();
                json.WriteStartArray("spans");
                foreach (var span in scope.Spans)
                {
                    json.WriteStartObject();
                    json.WriteString("traceId", Convert.ToHexStringLower(span.TraceId.Span));
                    json.WriteString("spanId", Convert.ToHexStringLower(span.SpanId.Span));
                    json.WriteString("name", span.Name);
                    json.WriteNumber("kind", (int)span.Kind);
                    json.WriteString("startTimeUnixNano", span.StartTimeUnixNano.ToString(CultureInfo.InvariantCulture));
                    json.WriteString("endTimeUnixNano", span.EndTimeUnixNano.ToString(CultureInfo.InvariantCulture));
                    Attributes(json, span.Attributes);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Attributes(Utf8JsonWriter json, IEnumerable<KeyValue> attributes)
    {
        json.WriteStartArray("attributes");
        foreach (var kv in attributes)
        {
            json.WriteStartObject();
            json.WriteString("key", kv.Key);
            json.WriteStartObject("value");
            if (kv.Value.ValueCase == AnyValue.ValueOneofCase.IntValue)
            {
                json.WriteString("intValue", kv.Value.IntValue.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                json.WriteString("stringValue", kv.Value.StringValue);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
