using System.CommandLine;
using System.Globalization;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Drift;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Reporting.Json;
using Recal.Reporting.Runs;
using Recal.Reporting.Terminal;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal sample</c>: draws drafts from a traffic window as the sampling policy says.</summary>
internal static class SampleCommand
{
    public const string DraftsFolder = DraftFile.Folder;

    /// <summary>Drafts drawn from a blind spot unless --size says otherwise.</summary>
    public const int BlindSpotSize = 20;

    /// <summary>The draw <c>recal check</c> proposes when the eval and users disagree: drafts from the traffic where users were unhappy.</summary>
    public const string FixTheBench = Workflows.CheckUseCase.FixTheBench;

    public static Command Create(CliContext context)
    {
        var pool = EnumOptions.One<Pool>("--pool", "The pool the drafts will join once labelled (default: shadow)");
        var size = new Option<int?>("--size") { Description = "How many cases the weights share out (default: the policy's size); floors may add more", HelpName = "n" };
        var seed = new Option<int>("--seed") { Description = "The draw's seed: the same traffic and seed give the same sample (default 0)" };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Start of the traffic window (default: the policy's traffic window before --to)", HelpName = "date" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "End of the traffic window, exclusive (default: just after the newest trace)", HelpName = "date" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show the allocation and exclusions without writing drafts" };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the draw as JSON: the allocation, its arithmetic and its notices (docs/schemas/sample-report.schema.json)", HelpName = "file" };
        var blindSpot = new Option<int?>("--from-blind-spot")
        {
            Description = $"Draw from blind spot N of 'recal coverage' instead of by the policy's strata (default size {BlindSpotSize})",
            HelpName = "N",
        };
        var clusters = new Option<int?>("--clusters") { Description = "--from-blind-spot: as 'recal coverage --clusters'", HelpName = "k" };
        var radius = new Option<double?>("--radius") { Description = "--from-blind-spot: as 'recal coverage --radius'", HelpName = "r" };
        var coverageSeed = new Option<int>("--coverage-seed") { Description = "--from-blind-spot: the seed of the 'recal coverage' run whose blind spots are meant (default 0)", HelpName = "n" };
        var coveragePools = EnumOptions.Many<Pool>("--coverage-pool", "--from-blind-spot: the pools that cover traffic, as 'recal coverage --pool' (default: gold)");
        var where = new Option<string?>("--where")
        {
            Description = "Draw only from traffic matching a condition on feedback and metadata, e.g. 'thumbs = down or escalated', 'csat <= 2 and metadata.plan = free' (docs/lifecycle.md)",
            HelpName = "expr",
        };
        var command = new Command("sample", "Draw drafts from a traffic window by the policy's strata, weights, floors and exclusions; label them with 'recal label'");
        var rowsOption = RowsOption.Create("the allocation table");
        foreach (var option in new Option[] { pool, size, seed, from, to, dryRun, json, where, blindSpot, clusters, radius, coverageSeed, coveragePools, rowsOption })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            TraceFilter? filter = null;
            if (parse.GetValue(where) is { } expression)
            {
                if (parse.GetValue(blindSpot) is not null)
                {
                    context.Error.MarkupLine("[red]error[/]: --where filters the policy's stratified draw and --from-blind-spot draws from one blind spot; use one of them.");
                    return ExitCodes.CannotRun;
                }

                (filter, var problem) = TraceFilter.Parse(expression, project.Taxonomy);
                if (problem is not null)
                {
                    context.Error.MarkupLine($"[red]error[/]: --where, column {problem.Column}: {Markup.Escape(problem.Message)} ({Markup.Escape(problem.Hint)})");
                    context.Error.WriteLine("  " + expression, Style.Plain);
                    context.Error.WriteLine("  " + new string(' ', problem.Column - 1) + "^", Style.Plain);
                    return ExitCodes.CannotRun;
                }
            }

            await using var store = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
            var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
            if (span is null)
            {
                context.Error.MarkupLine("[red]error[/]: the store holds no traffic yet; run [blue]recal ingest FILE[/] first.");
                return ExitCodes.CannotRun;
            }

            var end = parse.GetValue(to) ?? span.Last.AddMilliseconds(1);
            var start = parse.GetValue(from) ?? end - project.Policy.TrafficWindow;
            var target = parse.GetValue(pool) ?? Pool.Shadow;
            var draws = parse.GetValue(seed);
            SampleResult result;
            string prefix;
            string? note = null;
            var notices = new List<Diagnostic>();
            var (askedSize, sizeSource, sizeName) = DrawSize(project.Policy, target, parse.GetValue(size));
            if (Storage.Retention.PrunedNote(await store.GetPrunedBeforeAsync(cancellationToken).ConfigureAwait(false), start, end, "the draw", out var prunedWhole) is { } pruned)
            {
                // A draw takes raw traces: from a pruned window it takes what is kept, from a wholly pruned one nothing.
                var said = new Diagnostic(prunedWhole ? Severity.Error : Severity.Warning, Storage.Retention.PrunedCode, pruned, null, prunedWhole ? "draw from a later window (--from, --to), or keep raw traces longer (retention.raw_traces)" : null);
                ProjectSession.WriteDiagnostics(context.Error, [said]);
                if (prunedWhole)
                {
                    return ExitCodes.CannotRun;
                }

                notices.Add(said);
            }

            if (parse.GetValue(blindSpot) is { } spot)
            {
                if (parse.GetValue(size) is < 1 || parse.GetValue(clusters) is < 1)
                {
                    context.Error.MarkupLine("[red]error[/]: --size and --clusters are at least 1.");
                    return ExitCodes.CannotRun;
                }

                (askedSize, sizeSource) = parse.GetValue(size) is { } spotSize ? (spotSize, "--size") : (BlindSpotSize, "the blind-spot default");
                var request = new CoverageRequest(parse.GetValue(from), parse.GetValue(to), parse.GetValue(coveragePools), parse.GetValue(radius), Seed: parse.GetValue(coverageSeed), Clusters: parse.GetValue(clusters));
                var drawn = await BlindSpotSample.DrawAsync(context, project, store, request, spot, askedSize, draws, cancellationToken).ConfigureAwait(false);
                if (drawn is null)
                {
                    return ExitCodes.CannotRun;
                }

                (result, note) = drawn.Value;
                prefix = string.Create(CultureInfo.InvariantCulture, $"blind-spot-{spot}-{end.UtcDateTime:yyyyMMdd}-s{draws}");
            }
            else
            {
                if (parse.GetValue(size) is < 1)
                {
                    context.Error.MarkupLine("[red]error[/]: --size is at least 1.");
                    return ExitCodes.CannotRun;
                }

                // The same rule as the policy's size (RC1106), said before anything is drawn.
                notices.AddRange(SayFloors(context, project, askedSize, sizeName));

                var sampler = NewSampler(context, project, askedSize, draws, filter);
                result = await sampler.DrawFromAsync(store, start, end, cancellationToken).ConfigureAwait(false);
                Render(context, result, start, end, filter, sizeSource, parse.GetValue(rowsOption));
                var filtered = filter is null ? string.Empty : "-where-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(filter.Text)))[..8];
                prefix = string.Create(CultureInfo.InvariantCulture, $"{target.ToString().ToLowerInvariant()}{filtered}-{end.UtcDateTime:yyyyMMdd}-s{draws}");
                note = filter is null ? null : $"drawn where {filter.Text}";
                if (target == Pool.Gold && project.Policy.HoldoutFraction > 0)
                {
                    context.Out.MarkupLine(NothingSealed(project.Policy));
                }
            }

            var echo = new SampleRequestEcho(target.ToString().ToLowerInvariant(), draws, start, end, filter?.Text, parse.GetValue(blindSpot), askedSize, sizeSource);
            async Task WriteJsonAsync(string? draftsFile)
            {
                if (parse.GetValue(json) is { } jsonFile)
                {
                    await SampleJsonWriter.WriteAsync(SampleReport.Of(result, echo, notices, parse.GetValue(dryRun), draftsFile), jsonFile.FullName, cancellationToken).ConfigureAwait(false);
                    context.Out.MarkupLine($"JSON report: {Markup.Escape(jsonFile.FullName)}");
                }
            }

            if (parse.GetValue(dryRun))
            {
                context.Out.MarkupLine($"Dry run: {result.Drawn.Count:N0} drafts would be written; nothing was.");
                await WriteJsonAsync(null).ConfigureAwait(false);
                return ExitCodes.Ok;
            }

            using var workspace = ProjectSession.OpenWorkspace(context, parse.GetValue(GlobalOptions.Project)!, "sample");
            var path = Path.Combine(project.Root, DraftsFolder, prefix + ".jsonl");
            if (File.Exists(path))
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(path)} exists: this window was already drawn with seed {draws}. Label it, delete it, or draw with another --seed.");
                return ExitCodes.CannotRun;
            }

            var drafts = DraftFile.FromSample(result, target, prefix, note);
            DraftFile.Write(workspace!, path, drafts);
            context.Out.MarkupLine($"{drafts.Count:N0} drafts written to {Markup.Escape(Path.GetRelativePath(project.Root, path))}; they need references before they may gate: [blue]recal label export[/].");
            await WriteJsonAsync(Path.GetRelativePath(project.Root, path)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Every draft of the project (drafts/*.jsonl); unreadable lines are reported and skipped.</summary>
    public static List<(string Path, Draft Draft)> ReadDraftFiles(CliContext context, string root)
    {
        var (drafts, problems) = Workflows.LabelImportUseCase.ReadDrafts(root);
        foreach (var problem in problems)
        {
            context.Error.MarkupLine($"[yellow]warning[/]: {Markup.Escape(problem)}");
        }

        return [.. drafts.Select(d => (d.Path, d.Draft))];
    }

    /// <summary>A sampler that treats the project's cases and pending drafts as already covered.</summary>
    public static Sampler NewSampler(CliContext context, EvalProject project, int? size, int seed, TraceFilter? where = null) =>
        Workflows.BlindSpotDraftUseCase.NewSampler(project, ReadDraftFiles(context, project.Root).Select(d => d.Draft), size, seed, where);

    /// <summary>What the exclusion rules removed, in words (nothing when nothing was).</summary>
    public static void RenderExcluded(CliContext context, SampleResult result)
    {
        if (result.Excluded.Count > 0)
        {
            context.Out.MarkupLine("Excluded: " + string.Join(", ", result.Excluded.OrderBy(e => e.Key).Select(e => $"{e.Value:N0} {Describe(e.Key)}")) + ".");
        }
    }

    private static void Render(CliContext context, SampleResult result, DateTimeOffset start, DateTimeOffset end, TraceFilter? filter, string sizeSource, int? rows)
    {
        var matched = result.Matched is { } m ? $"{m:N0} matching --where '{Markup.Escape(filter!.Text)}', " : string.Empty;
        context.Out.MarkupLine($"Traffic from {start.UtcDateTime:yyyy-MM-dd} to {end.UtcDateTime:yyyy-MM-dd}: {result.Seen:N0} traces, {matched}{result.Allocations.Sum(a => a.Eligible):N0} eligible.");
        RenderExcluded(context, result);
        RenderArithmetic(context, result, sizeSource);

        var table = new FitTable().Column("stratum");
        foreach (var header in (string[])[.. filter is null ? Array.Empty<string>() : ["matched"], "eligible", "traffic share", "target weight", "target", "allocated", "drawn"])
        {
            table.Column(header, rightAligned: true);
        }

        table.Limit(rows, "strata");

        foreach (var a in result.Allocations.OrderByDescending(a => a.Allocated).ThenBy(a => a.Stratum, StringComparer.Ordinal))
        {
            table.Row([
                Markup.Escape(a.Stratum),
                .. a.Matched is { } matching ? [RunReportTables.Count(matching)] : Array.Empty<string>(),
                RunReportTables.Count(a.Eligible),
                RunReportTables.Percent(a.TrafficShare),
                RunReportTables.Percent(a.TargetWeight) + (a.ExplicitWeight ? " (policy)" : string.Empty),
                a.Target.ToString("0.0", CultureInfo.InvariantCulture),
                a.Allocated.ToString(CultureInfo.InvariantCulture) + (a.Allocated > Math.Round(a.Target) ? " (floor)" : string.Empty),
                a.Drawn < a.Allocated ? $"[yellow]{a.Drawn}[/]" : a.Drawn.ToString(CultureInfo.InvariantCulture)]);
        }

        table.Render(context.Out);
        context.Out.MarkupLine($"Drawn: {result.Drawn.Count:N0} across {result.Allocations.Count:N0} strata.");
    }

    /// <summary>
    /// The size a draw by the strata asks for, where it came from, and what RC1106 calls it: <c>--size</c>; else, for
    /// the holdout, the policy's holdout share of its size; else the policy's size.
    /// </summary>
    public static (int Size, string Source, string Name) DrawSize(SamplingPolicy policy, Pool pool, int? given) => Sampler.DrawSize(policy, pool, given);

    /// <summary>Says before a draw by the strata that the floors need more than its size (RC1106, the policy's rule); the notice, if any.</summary>
    public static IReadOnlyList<Diagnostic> SayFloors(CliContext context, EvalProject project, int size, string sizeName)
    {
        if (FloorRule.Check(project.Policy, project.Taxonomy, size, sizeName) is not { } floors)
        {
            return [];
        }

        ProjectSession.WriteDiagnostics(context.Error, [floors]);
        return [floors];
    }

    /// <summary>A draw for gold seals nothing: the holdout is a draw of its own (docs/lifecycle.md#when-the-holdout-is-drawn-and-sealed).</summary>
    public static string NothingSealed(SamplingPolicy policy) => string.Create(CultureInfo.InvariantCulture,
        $"Nothing of this draw is sealed: the policy's holdout ({policy.HoldoutFraction:0.##%} of the size, {policy.HoldoutSize:N0} cases) is a draw of its own: [blue]recal sample --pool holdout[/] (or [blue]recal rotate[/]), label it, then [blue]recal holdout seal[/].");

    /// <summary>How the total to draw comes about, before the table: the size, the floors, the short strata, the sum.</summary>
    public static void RenderArithmetic(CliContext context, SampleResult result, string sizeSource)
    {
        if (result.Arithmetic is { } arithmetic)
        {
            foreach (var line in arithmetic.Explain(sizeSource))
            {
                context.Out.MarkupLine(Markup.Escape(line));
            }
        }
    }

    private static string Describe(ExclusionReason reason) => reason switch
    {
        ExclusionReason.Unusable => "too short to use",
        ExclusionReason.Pattern => "matching a personal-data pattern",
        ExclusionReason.Metadata => "from internal or test users",
        _ => "near-duplicates of a case or draft",
    };
}
