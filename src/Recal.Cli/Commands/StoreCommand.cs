using System.CommandLine;
using Recal.Domain;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary>
/// <c>recal store check</c>: the store's own check of its data (SQLite: every page, index and reference);
/// <c>recal store prune</c>: retention of raw traces (docs/store.md#retention-of-raw-traces).
/// </summary>
internal static class StoreCommand
{
    public static Command Create(CliContext context)
    {
        var quick = new Option<bool>("--quick") { Description = "Check pages and constraints but not that every index matches its table (several times faster)" };
        var check = new Command("check", "Check the store's integrity (every page, index and reference); exit 1 when it is damaged");
        check.Options.Add(quick);
        check.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            var path = project.Settings.Store.Display;
            if (!await ProjectSession.StoreExistsAsync(context, project, cancellationToken).ConfigureAwait(false))
            {
                context.Error.MarkupLine($"[red]error[/]: there is no store at {Markup.Escape(path)} yet; [blue]recal ingest FILE[/] creates it.");
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForCheckAsync(context, project, cancellationToken).ConfigureAwait(false);
            var problems = await store.CheckIntegrityAsync(parse.GetValue(quick), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (problems.Count == 0)
            {
                context.Out.MarkupLine($"[green]The store is sound[/]: {Markup.Escape(path)} (schema version {store.SchemaVersion}, {(parse.GetValue(quick) ? "quick check" : "full integrity check")}).");
                return ExitCodes.Ok;
            }

            ProjectSession.WriteDiagnostics(context.Error, [new Diagnostics.Diagnostic(
                Diagnostics.Severity.Error,
                StoreException.Damaged,
                $"the store is damaged: {problems.Count} problem(s), first: {problems[0]}",
                new Diagnostics.SourceLocation(path),
                "restore the store from a backup, or move it away and ingest the traces again (runs and caches are then lost); until then no command reports from it")]);
            foreach (var problem in problems.Skip(1))
            {
                context.Out.WriteLine(problem);
            }

            return ExitCodes.Findings;
        });
        var command = new Command("store", "Look after the project's store (docs/store.md)");
        command.Subcommands.Add(check);
        command.Subcommands.Add(Prune(context));
        return command;
    }

    private static Command Prune(CliContext context)
    {
        var olderThan = new Option<string?>("--older-than") { Description = "Prune raw traces older than this many days or weeks (e.g. 90d, 12w); default: retention.raw_traces in recal.yaml" };
        var before = new Option<DateTimeOffset?>("--before") { Description = "Prune raw traces before this date instead (its UTC midnight)", HelpName = "date" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Say what would be pruned (traces, days, months, bytes) and delete nothing" };
        var prune = new Command("prune", "Delete raw traces older than a cutoff, keeping the daily rollup and the keys (counts, drift and the timeline of pruned days still work)");
        prune.Options.Add(olderThan);
        prune.Options.Add(before);
        prune.Options.Add(dryRun);
        prune.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            DateTimeOffset cutoff;
            if (parse.GetValue(olderThan) is { } written)
            {
                if (!Retention.TryParseDays(written, out var keep) || parse.GetValue(before) is not null)
                {
                    ProjectSession.WriteDiagnostics(context.Error, [new Diagnostics.Diagnostic(Diagnostics.Severity.Error, "RC1018", parse.GetValue(before) is null ? $"--older-than {written} is not a number of whole days or weeks" : "--older-than and --before both give the cutoff", null, "e.g. --older-than 90d or --older-than 12w, or --before 2026-03-01")]);
                    return ExitCodes.CannotRun;
                }

                cutoff = new RetentionSettings(keep, RetentionSettings.DefaultEvery).CutoffAt(DateTimeOffset.UtcNow);
            }
            else if (parse.GetValue(before) is { } date)
            {
                cutoff = Retention.Cutoff(date);
            }
            else if (project.Settings.Retention is { } retention)
            {
                cutoff = retention.CutoffAt(DateTimeOffset.UtcNow);
            }
            else
            {
                ProjectSession.WriteDiagnostics(context.Error, [new Diagnostics.Diagnostic(Diagnostics.Severity.Error, "RC1018", "no cutoff: neither --older-than, --before nor retention.raw_traces in recal.yaml says how long raw traces are kept", null, "pass --older-than 90d, or set retention: {raw_traces: 90d} in recal.yaml")]);
                return ExitCodes.CannotRun;
            }

            if (!await ProjectSession.StoreExistsAsync(context, project, cancellationToken).ConfigureAwait(false))
            {
                context.Error.MarkupLine($"[red]error[/]: there is no store at {Markup.Escape(project.Settings.Store.Display)} yet; there is nothing to prune.");
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreAsync(context, project, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(dryRun))
            {
                var plan = await store.PlanPruneAsync(cutoff, cancellationToken).ConfigureAwait(false);
                context.Out.MarkupLine(Markup.Escape(Describe(plan, "Would prune")));
                context.Out.MarkupLine(Markup.Escape(Kept));
                return ExitCodes.Ok;
            }

            var done = PruneSummary.Nothing(cutoff);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                done = await store.PruneTracesAsync(cutoff, new SynchronousProgress<PruneSummary>(p => done = p), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                context.Out.MarkupLine(Markup.Escape(Describe(done, "Pruned")));
                context.Error.MarkupLine("[yellow]Stopped.[/] Every step committed before the stop is kept; run the same command again to prune the rest.");
                return ExitCodes.Cancelled;
            }

            context.Out.MarkupLine(Markup.Escape($"{Describe(done, "Pruned")} in {watch.Elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} s."));
            context.Out.MarkupLine(Markup.Escape(Kept));
            return ExitCodes.Ok;
        });
        return prune;
    }

    private const string Kept = "Kept: the daily rollup (counts, feedback, drift and the timeline of pruned days) and the keys (a pruned trace sent again is not counted twice). Coverage, samples, trace search and texts of pruned days need the raw traces.";

    /// <summary>One line: the traces, days and months of a prune, the partitions dropped whole, the bytes where measured.</summary>
    internal static string Describe(PruneSummary summary, string verb)
    {
        var before = summary.Before.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        if (summary.Traces == 0)
        {
            return $"{verb} nothing: no raw trace is older than {before} (UTC).";
        }

        var months = summary.Months.Count == 0 ? string.Empty : $" in {string.Join(", ", summary.Months)}";
        var partitions = summary.DroppedPartitions.Count == 0 ? string.Empty : $"; partitions dropped whole: {string.Join(", ", summary.DroppedPartitions)}";
        var bytes = summary.Bytes is { } b ? $" ({(b / 1e6).ToString("N1", System.Globalization.CultureInfo.InvariantCulture)} MB of trace data)" : string.Empty;
        return $"{verb} {Text.Figures.Count(summary.Traces)} raw traces{bytes} of {summary.Days} day(s){months}, before {before} (UTC){partitions}";
    }
}
