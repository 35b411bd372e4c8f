using System.CommandLine;
using System.Globalization;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Reporting.Runs;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal sample</c>: draws drafts from a traffic window as the sampling policy says.</summary>
internal static class SampleCommand
{
    public const string DraftsFolder = "drafts";

    public static Command Create(CliContext context)
    {
        var pool = new Option<Pool>("--pool") { Description = "The pool the drafts will join once labelled (default: shadow)", DefaultValueFactory = _ => Pool.Shadow };
        var size = new Option<int?>("--size") { Description = "How many cases the weights share out (default: the policy's size); floors may add more", HelpName = "n" };
        var seed = new Option<int>("--seed") { Description = "The draw's seed: the same traffic and seed give the same sample (default 0)" };
        var from = new Option<DateTimeOffset?>("--from") { Description = "Start of the traffic window (default: the policy's traffic window before --to)", HelpName = "date" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "End of the traffic window, exclusive (default: just after the newest trace)", HelpName = "date" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show the allocation and exclusions without writing drafts" };
        var command = new Command("sample", "Draw drafts from a traffic window by the policy's strata, weights, floors and exclusions; label them with 'recal label'");
        foreach (var option in new Option[] { pool, size, seed, from, to, dryRun })
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

            await using var store = await ProjectSession.OpenStoreAsync(project, cancellationToken).ConfigureAwait(false);
            var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
            if (span is null)
            {
                context.Error.MarkupLine("[red]error[/]: the store holds no traffic yet; run [blue]recal ingest FILE[/] first.");
                return ExitCodes.CannotRun;
            }

            var end = parse.GetValue(to) ?? span.Last.AddMilliseconds(1);
            var start = parse.GetValue(from) ?? end - project.Policy.TrafficWindow;
            var target = parse.GetValue(pool);
            var draws = parse.GetValue(seed);
            var existingDrafts = ReadDrafts(context, project.Root);
            var sampler = new Sampler(project.Policy, project.Cases, parse.GetValue(size), draws);
            foreach (var draft in existingDrafts)
            {
                sampler.Cover(draft.Input ?? string.Join('\n', draft.Messages!.Select(m => m.Content)));
            }

            await store.ScanTracesAsync(start, end, sampler.Add, cancellationToken).ConfigureAwait(false);
            var result = sampler.Draw();
            Render(context, result, start, end);
            if (parse.GetValue(dryRun))
            {
                context.Out.MarkupLine($"Dry run: {result.Drawn.Count:N0} drafts would be written; nothing was.");
                return ExitCodes.Ok;
            }

            var prefix = string.Create(CultureInfo.InvariantCulture, $"{target.ToString().ToLowerInvariant()}-{end.UtcDateTime:yyyyMMdd}-s{draws}");
            var path = Path.Combine(project.Root, DraftsFolder, prefix + ".jsonl");
            if (File.Exists(path))
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(path)} exists: this window was already drawn with seed {draws}. Label it, delete it, or draw with another --seed.");
                return ExitCodes.CannotRun;
            }

            var drafts = DraftFile.FromSample(result, target, prefix);
            DraftFile.Write(path, drafts);
            context.Out.MarkupLine($"{drafts.Count:N0} drafts written to {Markup.Escape(Path.GetRelativePath(project.Root, path))}; they need references before they may gate: [blue]recal label export[/].");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Every draft of the project (drafts/*.jsonl); unreadable lines are reported and skipped.</summary>
    public static List<(string Path, Draft Draft)> ReadDraftFiles(CliContext context, string root)
    {
        var drafts = new List<(string, Draft)>();
        var folder = Path.Combine(root, DraftsFolder);
        if (!Directory.Exists(folder))
        {
            return drafts;
        }

        foreach (var file in Directory.EnumerateFiles(folder, "*.jsonl").Order(StringComparer.Ordinal))
        {
            var (read, problems) = DraftFile.Read(file);
            foreach (var problem in problems)
            {
                context.Error.MarkupLine($"[yellow]warning[/]: {Markup.Escape(problem)}");
            }

            drafts.AddRange(read.Select(d => (file, d)));
        }

        return drafts;
    }

    private static List<Draft> ReadDrafts(CliContext context, string root) => [.. ReadDraftFiles(context, root).Select(d => d.Draft)];

    private static void Render(CliContext context, SampleResult result, DateTimeOffset start, DateTimeOffset end)
    {
        context.Out.MarkupLine($"Traffic from {start.UtcDateTime:yyyy-MM-dd} to {end.UtcDateTime:yyyy-MM-dd}: {result.Seen:N0} traces, {result.Allocations.Sum(a => a.Eligible):N0} eligible.");
        if (result.Excluded.Count > 0)
        {
            context.Out.MarkupLine("Excluded: " + string.Join(", ", result.Excluded.OrderBy(e => e.Key).Select(e => $"{e.Value:N0} {Describe(e.Key)}")) + ".");
        }

        var table = new Table().Border(TableBorder.Simple);
        table.AddColumns("stratum", "eligible", "traffic share", "target weight", "target", "allocated", "drawn");
        foreach (var column in table.Columns.Skip(1))
        {
            column.RightAligned();
        }

        foreach (var a in result.Allocations.OrderByDescending(a => a.Allocated).ThenBy(a => a.Stratum, StringComparer.Ordinal))
        {
            table.AddRow(
                Markup.Escape(a.Stratum),
                RunReportTables.Count(a.Eligible),
                RunReportTables.Percent(a.TrafficShare),
                RunReportTables.Percent(a.TargetWeight) + (a.ExplicitWeight ? " (policy)" : string.Empty),
                a.Target.ToString("0.0", CultureInfo.InvariantCulture),
                a.Allocated.ToString(CultureInfo.InvariantCulture) + (a.Allocated > Math.Round(a.Target) ? " (floor)" : string.Empty),
                a.Drawn < a.Allocated ? $"[yellow]{a.Drawn}[/]" : a.Drawn.ToString(CultureInfo.InvariantCulture));
        }

        context.Out.Write(table);
        context.Out.MarkupLine($"Drawn: {result.Drawn.Count:N0} across {result.Allocations.Count:N0} strata.");
    }

    private static string Describe(ExclusionReason reason) => reason switch
    {
        ExclusionReason.Unusable => "too short to use",
        ExclusionReason.Pattern => "matching a personal-data pattern",
        ExclusionReason.Metadata => "from internal or test users",
        _ => "near-duplicates of a case or draft",
    };
}
