using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Recal.Statistics;

namespace Recal.Samples;

/// <summary>
/// Builds the CLINC150 support-bot sample: a taxonomy, a policy, twelve weeks of drifting traffic and an eval
/// set drawn from the first four weeks. Deterministic: the same data and seed give byte-identical files.
/// Usage: dotnet run --project samples/Recal.SampleGenerator -- --data ../shared/data/clinc150 --out samples/clinc150-support --seed 42
/// </summary>
internal static class Program
{
    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static int Main(string[] args)
    {
        var data = Arg(args, "--data") ?? Path.Combine("..", "shared", "data", "clinc150");
        var output = Arg(args, "--out") ?? Path.Combine("samples", "clinc150-support");
        var seed = int.Parse(Arg(args, "--seed") ?? "42", CultureInfo.InvariantCulture);
        if (!File.Exists(Path.Combine(data, "data_full.json")))
        {
            Console.Error.WriteLine($"error: {Path.Combine(data, "data_full.json")} not found; pass --data DIR (the CLINC150 folder)");
            return 2;
        }

        var clinc = Clinc.Load(data);
        var random = new Random(seed);
        var traffic = TrafficGenerator.Generate(clinc, random);
        var cases = CaseGenerator.Generate(clinc, traffic, random);
        var goldTexts = cases.Select(c => JsonDocument.Parse(c).RootElement.GetProperty("input").GetString()!).ToHashSet(StringComparer.Ordinal);
        var shadow = CaseGenerator.Shadow(clinc, traffic, goldTexts, new Random(seed + 1));
        var holdout = CaseGenerator.Holdout(clinc, traffic, goldTexts, new Random(seed + 2));

        Directory.CreateDirectory(Path.Combine(output, "traffic"));
        Directory.CreateDirectory(Path.Combine(output, "cases"));
        WriteTraffic(Path.Combine(output, "traffic", "traffic.jsonl.gz"), traffic);
        File.WriteAllText(Path.Combine(output, "traffic", "broken-sample.jsonl"), BrokenSample(traffic));
        File.WriteAllText(Path.Combine(output, "cases", "gold.jsonl"), string.Concat(cases.Select(c => c + "\n")));
        File.WriteAllText(Path.Combine(output, "cases", "shadow.jsonl"), string.Concat(shadow.Select(c => c + "\n")));
        Directory.CreateDirectory(Path.Combine(output, "rubrics"));
        Directory.CreateDirectory(Path.Combine(output, "prompts"));
        File.WriteAllText(Path.Combine(output, "rubrics", "support-answer.yaml"), ProjectFiles.Rubric);
        SealHoldout(output, holdout, seed);
        File.WriteAllText(Path.Combine(output, "prompts", "support.md"), ProjectFiles.Prompt);
        File.WriteAllText(Path.Combine(output, "taxonomy.yaml"), ProjectFiles.Taxonomy(clinc));
        File.WriteAllText(Path.Combine(output, "policy.yaml"), ProjectFiles.Policy);
        File.WriteAllText(Path.Combine(output, "recal.yaml"), ProjectFiles.Project);
        File.WriteAllText(Path.Combine(output, ".gitignore"), ".recal/\n");
        File.WriteAllText(Path.Combine(output, "ATTRIBUTION.md"), ProjectFiles.Attribution);
        File.WriteAllText(Path.Combine(output, "README.md"), ProjectFiles.Readme(GroundTruth(traffic, cases), traffic.Count, cases.Count, seed));
        Console.WriteLine($"wrote {traffic.Count:N0} traces, {cases.Count} gold-file cases and {shadow.Count} shadow cases to {output}");
        return 0;
    }

    private static void WriteTraffic(string path, IReadOnlyList<GeneratedTrace> traffic)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
        foreach (var trace in traffic)
        {
            gzip.Write(Encoding.UTF8.GetBytes(TraceJson(trace) + "\n"));
        }
    }

    internal static string TraceJson(GeneratedTrace t)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Json))
        {
            json.WriteStartObject();
            json.WriteString("id", t.Id);
            json.WriteString("timestamp", t.Timestamp.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
            json.WriteString("input", t.Text);
            json.WriteString("output", t.Output);
            json.WriteString("model", t.Model);
            json.WriteStartObject("metadata");
            json.WriteString("plan", t.Plan);
            json.WriteString("locale", t.Locale);
            json.WriteString("surface", t.Surface);
            json.WriteString("user_id", t.UserId);
            json.WriteString("session_id", t.SessionId);
            if (t.Internal)
            {
                json.WriteString("user_type", "internal");
            }

            json.WriteEndObject();
            json.WriteStartObject("feedback");
            if (t.Thumbs is { } thumbs)
            {
                json.WriteString("thumbs", thumbs > 0 ? "up" : "down");
            }

            if (t.Csat is { } csat)
            {
                json.WriteNumber("csat", csat);
            }

            json.WriteBoolean("escalated", t.Escalated);
            json.WriteBoolean("continued", t.Continued);
            json.WriteBoolean("completed", t.Completed);
            json.WriteBoolean("follow_up", t.FollowUp);
            json.WriteEndObject();
            if (t.Labelled)
            {
                json.WriteString("intent", t.Intent);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A few lines a real export might contain, each broken in a different way, plus two good lines.</summary>
    private static string BrokenSample(IReadOnlyList<GeneratedTrace> traffic) =>
        string.Join('\n',
            TraceJson(traffic[0]),
            """{"id":"t-broken-1","timestamp":"2026-06-01T10:00:00Z","input":"what's my balance""",
            """{"id":"t-broken-2","input":"when is my bill due","output":"Your bill is due on the 5th."}""",
            """{"id":"t-broken-3","timestamp":"2026-06-01T10:02:00Z","input":42}""",
            "",
            """{"id":"t-broken-4","timestamp":"yesterday","input":"freeze my card"}""",
            """{"id":"t-broken-5","timestamp":"03/04/2026 10:03","input":"cancel my card","feedback":{"thumbs":"up"}}""",
            TraceJson(traffic[1])) + "\n";

    /// <summary>Per week, from true labels: domain shares, plan share, and the eval set's JS distance and missing share.</summary>
    private static List<WeekTruth> GroundTruth(IReadOnlyList<GeneratedTrace> traffic, IReadOnlyList<string> caseLines)
    {
        var caseIntents = caseLines.Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("pool").GetString() == "gold")
            .GroupBy(e => e.GetProperty("intent").GetString()!)
            .ToDictionary(g => g.Key, g => (double)g.Count());
        var truths = new List<WeekTruth>();
        foreach (var week in traffic.GroupBy(t => t.Week).OrderBy(g => g.Key))
        {
            var counts = week.GroupBy(t => t.Intent).ToDictionary(g => g.Key, g => (double)g.Count());
            var strata = counts.Keys.Union(caseIntents.Keys).Order(StringComparer.Ordinal).ToList();
            var js = Divergence.JensenShannonDistance(
                strata.Select(s => caseIntents.GetValueOrDefault(s)).ToArray(),
                strata.Select(s => counts.GetValueOrDefault(s)).ToArray());
            var total = (double)week.Count();
            var missing = counts.Where(kv => !caseIntents.ContainsKey(kv.Key)).Sum(kv => kv.Value) / total;
            truths.Add(new WeekTruth(
                week.Key,
                week.Count(),
                week.Count(t => t.Domain == Scenario.Travel) / total,
                week.Count(t => t.Domain == Scenario.Auto) / total,
                week.Count(t => t.Intent == Scenario.OutOfScope) / total,
                week.Count(t => t.Plan == "free") / total,
                js,
                missing));
        }

        return truths;
    }

    /// <summary>
    /// Seals the sample's holdout at the end of week 4 until a rotation cadence later, with a demo key written next to
    /// it (a real project never commits its key). Key and nonce derive from the seed, so reruns are byte-identical.
    /// </summary>
    private static void SealHoldout(string output, IReadOnlyList<string> holdout, int seed)
    {
        var key = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"recal-sample-holdout-key|{seed}"));
        var nonce = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"recal-sample-holdout-nonce|{seed}"))[..12];
        var cases = holdout.Select(line => JsonDocument.Parse(line).RootElement).Select((e, i) => (e.GetProperty("id").GetString()!, e.GetProperty("intent").GetString()!, holdout[i])).ToList();
        var sealedAt = Scenario.Start.AddDays(7 * Scenario.EvalWeeks);
        var (record, ciphertext) = Lifecycle.HoldoutSeal.Seal(cases, key, sealedAt, sealedAt.AddDays(84), nonce);
        var hadState = Directory.Exists(Path.Combine(output, Project.ProjectWorkspace.StateFolder));
        using (var workspace = Project.ProjectWorkspace.Open(output, "sample generator"))
        {
            Lifecycle.HoldoutSeal.Write(workspace, record, ciphertext);
        }

        if (!hadState)
        {
            // The generated sample is committed: the workspace's lock file is not part of it.
            Directory.Delete(Path.Combine(output, Project.ProjectWorkspace.StateFolder), recursive: true);
        }
        File.WriteAllText(Path.Combine(output, "sample-holdout.key"), Convert.ToBase64String(key) + "\n");
    }

    private static string? Arg(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}

internal sealed record WeekTruth(int Week, int Traces, double Travel, double Auto, double OutOfScope, double Free, double JsDistance, double MissingShare);
