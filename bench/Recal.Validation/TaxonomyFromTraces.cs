using System.Globalization;
using System.Text;
using Recal.Domain;
using Recal.Embeddings;
using Recal.Project;
using Recal.Statistics;

namespace Recal.Validation;

/// <summary>
/// How well <c>recal init --from-traces</c> recovers a dataset's intents (docs/taxonomy-from-traces.md): the
/// dataset's in-scope traffic queries (never its taxonomy examples) as traces, the proposer's seeded sample clustered
/// with its defaults, and the clusters compared with the true intents by purity and the adjusted Rand index.
/// Usage: dotnet run -c Release --project bench/Recal.Validation -- --taxonomy-from-traces [--tuning] [--seeds 5]
/// [--dataset clinc150|hwu64] [--sample N] [--max-intents N] [--per-intent N] [--intents N]
/// </summary>
internal static class TaxonomyFromTraces
{
    public static async Task<int> RunAsync(string[] args)
    {
        var tuning = args.Contains("--tuning");
        var count = Int(args, "--seeds") ?? 5;
        var first = Int(args, "--first-seed") ?? (tuning ? Program.FirstTuningSeed : 1);
        var defaults = new TaxonomyProposalOptions();
        var options = defaults with
        {
            SampleSize = Int(args, "--sample") ?? defaults.SampleSize,
            MaxIntents = Int(args, "--max-intents") ?? defaults.MaxIntents,
            TracesPerIntent = Int(args, "--per-intent") ?? defaults.TracesPerIntent,
            Intents = Int(args, "--intents"),
        };
        var datasets = new (string Name, Func<IntentCorpus> Load)[]
        {
            ("clinc150", () => ClincCorpus.Load(SharedData.Clinc150)),
            ("hwu64", () => Hwu64Corpus.Load(SharedData.Hwu64)),
        }.Where(d => Arg(args, "--dataset") is not { } only || only == d.Name);
        using var embedder = new HashedEmbeddingGenerator();
        var report = new StringBuilder();
        report.Append(CultureInfo.InvariantCulture, $"sample {options.SampleSize}, k ≤ {options.MaxIntents} and ≤ sample/{options.TracesPerIntent}{(options.Intents is { } k ? $", k = {k} given" : "")}, seeds {first}–{first + count - 1}{(tuning ? " (tuning)" : "")}, {embedder.Id}\n\n");
        report.Append("| dataset | intents in traffic | sampled | clusters (k) | intents proposed | purity | ARI | purity of proposed intents | seconds |\n|---|---|---|---|---|---|---|---|---|\n");
        foreach (var (name, load) in datasets)
        {
            var corpus = load();
            var traffic = corpus.Traffic
                .Where(t => t.Key != ClincCorpus.OutOfScope)
                .SelectMany(t => t.Value.Select(text => (Intent: t.Key, Text: text)))
                .ToList();
            var rows = new List<(int Seed, int Sampled, int K, int Proposed, double Purity, double Ari, double ProposedPurity, double Seconds)>();
            foreach (var seed in Enumerable.Range(first, count))
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var sample = new TraceSample(options.SampleSize, seed, options.MaxCohortValues);
                var truthOf = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = 0; i < traffic.Count; i++)
                {
                    // Keys differ by seed, so each seed samples other traces.
                    var key = string.Create(CultureInfo.InvariantCulture, $"id:{seed}-{i}");
                    truthOf[key] = traffic[i].Intent;
                    sample.Add(key, new Trace(key, DateTimeOffset.UnixEpoch, TraceInput.FromText(traffic[i].Text), null, null, new Dictionary<string, string>(), Feedback.None, null));
                }

                var (proposal, problem) = await TaxonomyProposer.ProposeAsync(sample, embedder, embedder.Id, options with { Seed = seed });
                if (proposal is null)
                {
                    await Console.Error.WriteLineAsync(problem);
                    return 1;
                }

                var truth = proposal.Sample.Select(t => truthOf[t.Key]).ToList();
                var placed = proposal.Intents.SelectMany(i => i.Members.Select(m => (Truth: truth[m], Intent: i.Name))).ToList();
                rows.Add((seed, proposal.Sample.Count, proposal.K, proposal.Intents.Count,
                    ClusterAgreement.Purity(truth, proposal.Clusters),
                    ClusterAgreement.AdjustedRandIndex(truth, proposal.Clusters),
                    ClusterAgreement.Purity(placed.Select(p => p.Truth).ToList(), placed.Select(p => p.Intent).ToList()),
                    watch.Elapsed.TotalSeconds));
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{name} seed {seed}: k {proposal.K}, purity {rows[^1].Purity:0.000}, ARI {rows[^1].Ari:0.000}, silhouettes {string.Join(" ", proposal.Silhouettes.Select(s => $"{s.K}:{s.Silhouette:0.000}"))}"));
            }

            static string Range(IEnumerable<double> values, string format) =>
                values.Min().ToString(format, CultureInfo.InvariantCulture) + "–" + values.Max().ToString(format, CultureInfo.InvariantCulture);
            report.Append(CultureInfo.InvariantCulture,
                $"| {name} | {corpus.Traffic.Count(t => t.Key != ClincCorpus.OutOfScope)} | {rows[0].Sampled} | {rows.Average(r => r.K):0} ({Range(rows.Select(r => (double)r.K), "0")}) | {rows.Average(r => r.Proposed):0} | {rows.Average(r => r.Purity):0.000} ({Range(rows.Select(r => r.Purity), "0.000")}) | {rows.Average(r => r.Ari):0.000} ({Range(rows.Select(r => r.Ari), "0.000")}) | {rows.Average(r => r.ProposedPurity):0.000} | {rows.Average(r => r.Seconds):0.0} |\n");
        }

        Console.Write(report);
        return 0;
    }

    private static string? Arg(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static int? Int(string[] args, string name) => Arg(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : null;
}
