using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Recal.Validation;

/// <summary>
/// Runs the validation scenarios and prints the figures of docs/validation.md as Markdown.
/// Usage: dotnet run -c Release --project bench/Recal.Validation -- [--seeds 20] [--first-seed 1] [--tuning] [--dataset clinc150|hwu64|mt-bench] [--scenario NAME] [--jobs N] [--detail] [--examples]
/// The reported seeds are 1–20; <c>--tuning</c> runs the tuning seeds 1001–1010 instead, the only ones settings may be
/// chosen on. Progress (and with --detail every run's weekly measures) goes to standard error, the tables to standard
/// output; --examples prints, instead, the texts each within-intent shift trades (for the first seed).
/// </summary>
internal static class Program
{
    public const int FirstTuningSeed = 1001;

    public const int TuningSeeds = 10;

    private static async Task<int> Main(string[] args)
    {
        if (args.Contains("--taxonomy-from-traces"))
        {
            return await TaxonomyFromTraces.RunAsync(args);
        }

        var tuning = args.Contains("--tuning");
        var count = int.Parse(Arg(args, "--seeds") ?? (tuning ? TuningSeeds : 20).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var first = int.Parse(Arg(args, "--first-seed") ?? (tuning ? FirstTuningSeed : 1).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var jobs = int.Parse(Arg(args, "--jobs") ?? Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        var dataset = Arg(args, "--dataset");
        var name = Arg(args, "--scenario");
        var detail = args.Contains("--detail");
        var scenarios = ScenarioCatalog.All
            .Where(s => (dataset is null || s.Dataset == dataset) && (name is null || s.Name == name))
            .ToList();
        if (scenarios.Count == 0)
        {
            await Console.Error.WriteLineAsync($"error: no scenario matches; known: {string.Join(", ", ScenarioCatalog.All.Select(s => s.Key))}");
            return 2;
        }

        var seeds = Enumerable.Range(first, count).ToList();
        if (args.Contains("--examples"))
        {
            Console.Write(Examples(scenarios, first));
            return 0;
        }

        // Runs are independent (own temporary project and store, seeded draws), so they run in parallel and are put
        // back in catalogue and seed order: the report does not depend on --jobs.
        var watch = Stopwatch.StartNew();
        var runs = new ConcurrentDictionary<(Scenario Scenario, int Seed), ScenarioRun>();
        var left = scenarios.ToDictionary(s => s, _ => seeds.Count);
        var work = scenarios.SelectMany(s => seeds.Select(seed => (Scenario: s, Seed: seed)));
        await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs) }, async (item, cancellationToken) =>
        {
            var run = await ScenarioRunner.RunAsync(item.Scenario, item.Seed, cancellationToken);
            runs[item] = run;
            int remaining;
            lock (left)
            {
                remaining = --left[item.Scenario];
            }

            if (detail)
            {
                await Console.Error.WriteAsync(Detail(run));
            }

            if (remaining == 0)
            {
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{item.Scenario.Key}: {seeds.Count} seeds done at {watch.Elapsed.TotalSeconds:0} s"));
            }
        });

        var summaries = scenarios.Select(s => new ScenarioSummary(s, [.. seeds.Select(seed => runs[(s, seed)])])).ToList();
        await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{scenarios.Count} scenarios × {seeds.Count} seeds in {watch.Elapsed.TotalMinutes:0.0} min ({jobs} jobs)"));
        Console.Write(MarkdownReport.Write(summaries, seeds, tuning));
        return 0;
    }

    /// <summary>For each scenario, the intents whose texts change at the shift, with a few texts before and after.</summary>
    private static string Examples(IEnumerable<Scenario> scenarios, int seed)
    {
        var text = new System.Text.StringBuilder();
        foreach (var scenario in scenarios.Where(s => s.ShiftWeek is not null))
        {
            var design = scenario.Design(scenario.DrawSeed(seed));
            var before = design.Week(1).ToDictionary(c => c.Intent, StringComparer.Ordinal);
            foreach (var after in design.Week(scenario.ShiftWeek!.Value).Where(c => before.TryGetValue(c.Intent, out var b) && !b.Texts.SequenceEqual(c.Texts)))
            {
                text.Append(CultureInfo.InvariantCulture, $"{scenario.Key} seed {seed}, {after.Intent} ({before[after.Intent].Texts.Count} texts before, {after.Texts.Count} after)\n");
                text.Append("  before: ").AppendJoin(" | ", before[after.Intent].Texts.Take(4)).Append('\n');
                text.Append("  after:  ").AppendJoin(" | ", after.Texts.Take(4)).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string Detail(ScenarioRun run)
    {
        var text = new System.Text.StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{run.Scenario.Key} seed {run.Seed}: {run.GoldCases} gold cases\n"));
        foreach (var w in run.Weeks)
        {
            text.Append(CultureInfo.InvariantCulture, $"  week {w.Week,2}: {w.Traces,5} traces  js {w.JsDistance:0.000}  psi {w.Psi:0.000}  missing {w.MissingShare:0.000}  unknown {w.UnknownShare:0.000}  coverage {w.Coverage:0.000}  plan js {w.CohortJsDistance:0.000}  {string.Join(' ', w.Instruments)}\n");
        }

        return text.ToString();
    }

    private static string? Arg(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
