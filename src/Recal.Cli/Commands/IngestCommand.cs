using System.CommandLine;
using System.Globalization;
using Recal.Classification;
using Recal.Ingest;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal ingest</c>: streams trace files into the store, classifying each trace.</summary>
internal static class IngestCommand
{
    /// <summary>Files at least this big get a progress bar.</summary>
    private const long ProgressThresholdBytes = 8L * 1024 * 1024;

    public static Command Create(CliContext context)
    {
        var files = new Argument<FileInfo[]>("files")
        {
            Description = "Trace files in Recal's JSONL format (docs/trace-format.md); .gz files are decompressed",
            Arity = ArgumentArity.OneOrMore,
        };
        var quarantine = new Option<FileInfo?>("--quarantine")
        {
            Description = "Where rejected lines go, with their line number and reason (default: .recal/quarantine.jsonl in the project)",
            HelpName = "file",
        };
        var command = new Command("ingest", "Read trace files, classify each trace's intent and cohort, and store them; bad records go to a quarantine file and the rest is kept");
        command.Arguments.Add(files);
        command.Options.Add(quarantine);
        command.SetAction((parse, cancellationToken) => RunAsync(context, parse.GetValue(GlobalOptions.Project)!, parse.GetValue(files)!, parse.GetValue(quarantine), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, DirectoryInfo directory, FileInfo[] files, FileInfo? quarantine, CancellationToken cancellationToken)
    {
        var project = ProjectSession.Load(context, directory);
        if (project is null)
        {
            return ExitCodes.CannotRun;
        }

        await using var store = await ProjectSession.OpenStoreAsync(context, project, cancellationToken).ConfigureAwait(false);
        var classifier = await ClassifierCache.GetAsync(project.Taxonomy, store, cancellationToken).ConfigureAwait(false);
        var traceClassifier = new TraceClassifier(classifier, project.Taxonomy);
        var quarantinePath = quarantine?.FullName ?? Path.Combine(Path.GetDirectoryName(project.Settings.StorePath)!, "quarantine.jsonl");

        var table = new Table().Border(TableBorder.Simple);
        table.AddColumns("file", "lines", "added", "duplicates", "quarantined", "traces/s");
        foreach (var column in table.Columns.Skip(1))
        {
            column.RightAligned();
        }

        var exitCode = ExitCodes.Ok;
        long quarantinedTotal = 0;
        foreach (var file in files)
        {
            if (!file.Exists)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(file.FullName)}: no such file; the other files are still ingested.");
                exitCode = ExitCodes.CannotRun;
                continue;
            }

            try
            {
                var summary = await IngestOneAsync(context, file, store, traceClassifier, quarantinePath, cancellationToken).ConfigureAwait(false);
                quarantinedTotal += summary.Quarantined;
                table.AddRow(
                    Markup.Escape(file.Name),
                    summary.LinesRead.ToString("N0", CultureInfo.InvariantCulture),
                    summary.Added.ToString("N0", CultureInfo.InvariantCulture),
                    summary.Duplicates.ToString("N0", CultureInfo.InvariantCulture),
                    summary.Quarantined > 0 ? $"[yellow]{summary.Quarantined:N0}[/]" : "0",
                    summary.TracesPerSecond.ToString("N0", CultureInfo.InvariantCulture));
                if (summary.Failure is { } failure)
                {
                    // The store or the file failed mid-way: say what is kept and stop; later files would fail the same way.
                    context.Out.Write(table);
                    ProjectSession.WriteDiagnostics(context.Error, [failure]);
                    context.Error.MarkupLine($"The store is {Markup.Escape(store.Path)}; the files after {Markup.Escape(file.Name)} were not ingested.");
                    return ExitCodes.CannotRun;
                }
            }
            catch (OperationCanceledException)
            {
                context.Out.Write(table);
                context.Error.MarkupLine($"[yellow]Stopped.[/] Every batch stored before the stop is kept; run the same command again to finish {Markup.Escape(file.Name)}.");
                return ExitCodes.Cancelled;
            }
        }

        context.Out.Write(table);
        if (quarantinedTotal > 0)
        {
            context.Out.MarkupLine($"[yellow]{quarantinedTotal:N0} record(s) quarantined[/] with line numbers and reasons in {Markup.Escape(quarantinePath)}.");
        }

        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is not null)
        {
            context.Out.MarkupLine($"The store holds {span.Count:N0} traces from {span.First.UtcDateTime:yyyy-MM-dd} to {span.Last.UtcDateTime:yyyy-MM-dd}.");
            if (span.Outliers > 0)
            {
                context.Out.MarkupLine($"[yellow]{span.Outliers:N0} trace(s) far from the rest[/] (more than 7 days from any other, at the start or end of the traffic) do not anchor the drift windows (docs/drift.md#what-is-compared).");
            }
        }

        return exitCode;
    }

    private static async Task<IngestSummary> IngestOneAsync(CliContext context, FileInfo file, IRecalStore store, TraceClassifier classifier, string quarantinePath, CancellationToken cancellationToken)
    {
        if (file.Length < ProgressThresholdBytes || !context.Error.Profile.Capabilities.Interactive)
        {
            return await IngestPipeline.RunAsync(file.FullName, store, classifier.Classify, quarantinePath, null, cancellationToken).ConfigureAwait(false);
        }

        IngestSummary? result = null;
        await context.Error.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async progressContext =>
            {
                var task = progressContext.AddTask(Markup.Escape(file.Name), maxValue: file.Length);
                var progress = new Progress<IngestProgress>(p =>
                {
                    task.Value = p.BytesRead;
                    task.Description = $"{Markup.Escape(file.Name)} {p.Lines:N0} lines";
                });
                result = await IngestPipeline.RunAsync(file.FullName, store, classifier.Classify, quarantinePath, progress, cancellationToken).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return result!;
    }
}
