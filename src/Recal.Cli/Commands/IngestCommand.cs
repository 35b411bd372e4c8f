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
            Description = "Trace files: Recal's JSONL, OTLP (JSON or protobuf), Langfuse or LangSmith exports, or JSON read through the ingest: mapping (docs/trace-format.md); .gz files are decompressed",
            Arity = ArgumentArity.OneOrMore,
        };
        var quarantine = new Option<FileInfo?>("--quarantine")
        {
            Description = "Where rejected lines go, with their line number and reason (default: .recal/quarantine.jsonl in the project)",
            HelpName = "file",
        };
        var format = new Option<string>("--format")
        {
            Description = "The files' format: " + string.Join(", ", TraceFormats.Names) + " (default: ingest.format of recal.yaml, else auto, which detects each file from its content; mapped reads any JSON through ingest.mapping)",
            HelpName = "format",
        };
        format.AcceptOnlyFromAmong([.. TraceFormats.Names]);
        var interaction = new Option<string>("--interaction")
        {
            Description = "Which spans make one trace: trace (one per trace id: its root GenAI span; the default), span (one per GenAI span), conversation (one per gen_ai.conversation.id / session.id)",
            HelpName = "rule",
        };
        interaction.AcceptOnlyFromAmong("trace", "span", "conversation");
        var feedback = new Option<string[]>("--feedback")
        {
            Description = "Map a source's feedback name (evaluation, annotation, score, feedback key or span attribute) to a signal: NAME=" + string.Join("|", FeedbackMap.SignalNames) + "; repeatable",
            HelpName = "name=signal",
            AllowMultipleArgumentsPerToken = false,
        };
        var failOnQuarantine = new Option<bool>("--fail-on-quarantine")
        {
            Description = "Exit with code 1 when any record was quarantined or any feedback signal was dropped (for CI); the rest is still stored",
        };
        var command = new Command("ingest", "Read trace files, classify each trace's intent and cohort, and store them; bad records go to a quarantine file and the rest is kept");
        command.Arguments.Add(files);
        command.Options.Add(quarantine);
        command.Options.Add(format);
        command.Options.Add(interaction);
        command.Options.Add(feedback);
        command.Options.Add(failOnQuarantine);
        command.SetAction((parse, cancellationToken) =>
        {
            TraceFormat? chosen = parse.GetValue(format) is { } f && TraceFormats.TryParse(f, out var parsed) ? parsed : null;
            Recal.Ingest.Otel.InteractionRule? rule = parse.GetValue(interaction) is { } r ? Enum.Parse<Recal.Ingest.Otel.InteractionRule>(r, ignoreCase: true) : null;
            return RunAsync(context, parse.GetValue(GlobalOptions.Project)!, parse.GetValue(files)!, parse.GetValue(quarantine), chosen, rule, parse.GetValue(feedback) ?? [], parse.GetValue(failOnQuarantine), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        CliContext context, DirectoryInfo directory, FileInfo[] files, FileInfo? quarantine, TraceFormat? format, Recal.Ingest.Otel.InteractionRule? interaction, string[] feedback, bool failOnQuarantine, CancellationToken cancellationToken)
    {
        var project = ProjectSession.Load(context, directory);
        if (project is null)
        {
            return ExitCodes.CannotRun;
        }

        // The command line overrides the ingest: section of recal.yaml, which overrides the built-in defaults.
        var settings = project.Settings.Ingest;
        var (feedbackMap, feedbackErrors) = FeedbackMap.Parse(feedback, FeedbackMap.Default.With(settings?.Feedback ?? []));
        if (feedbackErrors.Count > 0)
        {
            ProjectSession.WriteDiagnostics(context.Error, feedbackErrors);
            return ExitCodes.CannotRun;
        }

        var chosenFormat = format ?? settings?.Format ?? TraceFormat.Auto;
        if (chosenFormat == TraceFormat.Mapped && settings?.Mapping is null)
        {
            ProjectSession.WriteDiagnostics(context.Error, [new Recal.Diagnostics.Diagnostic(
                Recal.Diagnostics.Severity.Error, "RC2012", "--format mapped needs an ingest.mapping section in recal.yaml", new Recal.Diagnostics.SourceLocation(Path.Combine(directory.FullName, "recal.yaml")),
                "add ingest: mapping: with JSON paths for timestamp and input at least (docs/project-format.md#ingest)")]);
            return ExitCodes.CannotRun;
        }

        var options = new IngestOptions(chosenFormat, interaction ?? settings?.Interaction ?? Recal.Ingest.Otel.InteractionRule.Trace, feedbackMap, settings?.Mapping);

        await using var store = await ProjectSession.OpenStoreAsync(context, project, cancellationToken).ConfigureAwait(false);
        var classifier = await ClassifierCache.GetAsync(project.Taxonomy, store, cancellationToken).ConfigureAwait(false);
        var traceClassifier = new TraceClassifier(classifier, project.Taxonomy);
        var quarantinePath = quarantine?.FullName ?? Path.Combine(Path.GetDirectoryName(project.Settings.StorePath)!, "quarantine.jsonl");

        // Recal JSONL alone keeps its table; other formats add their format, record count and updated traces.
        var rows = new List<(IngestSummary Summary, string File)>();
        Table Render()
        {
            var multiRecord = rows.Any(r => r.Summary.Format != TraceFormat.Jsonl);
            var table = new Table().Border(TableBorder.Simple);
            table.AddColumns(multiRecord ? ["file", "format", "lines", "records", "added", "updated", "duplicates", "quarantined", "traces/s"] : ["file", "lines", "added", "duplicates", "quarantined", "traces/s"]);
            foreach (var column in table.Columns.Skip(1))
            {
                column.RightAligned();
            }

            foreach (var (summary, name) in rows)
            {
                var cells = new List<string> { Markup.Escape(name) };
                if (multiRecord)
                {
                    cells.Add(TraceFormats.Name(summary.Format));
                }

                cells.Add(summary.LinesRead.ToString("N0", CultureInfo.InvariantCulture));
                if (multiRecord)
                {
                    cells.Add((summary.Format == TraceFormat.Jsonl ? summary.LinesRead - summary.Blank : summary.Records).ToString("N0", CultureInfo.InvariantCulture));
                }

                cells.Add(summary.Added.ToString("N0", CultureInfo.InvariantCulture));
                if (multiRecord)
                {
                    cells.Add(summary.Merged.ToString("N0", CultureInfo.InvariantCulture));
                }

                cells.Add(summary.Duplicates.ToString("N0", CultureInfo.InvariantCulture));
                cells.Add(summary.Quarantined > 0 ? $"[yellow]{summary.Quarantined:N0}[/]" : "0");
                cells.Add(summary.TracesPerSecond.ToString("N0", CultureInfo.InvariantCulture));
                table.AddRow([.. cells]);
            }

            return table;
        }

        var exitCode = ExitCodes.Ok;
        long quarantinedTotal = 0, droppedTotal = 0;
        var notes = new List<string>();
        var notices = new List<Recal.Diagnostics.Diagnostic>();
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
                var summary = await IngestOneAsync(context, file, store, traceClassifier, quarantinePath, options, cancellationToken).ConfigureAwait(false);
                quarantinedTotal += summary.Quarantined;
                droppedTotal += summary.SignalsDropped;
                notices.AddRange(summary.Notices);
                notes.AddRange(Notes(file.Name, summary));
                rows.Add((summary, file.Name));
                if (summary.Failure is { } failure)
                {
                    // The store or the file failed mid-way: say what is kept and stop; later files would fail the same way.
                    context.Out.Write(Render());
                    ProjectSession.WriteDiagnostics(context.Error, [failure]);
                    context.Error.MarkupLine($"The store is {Markup.Escape(project.Settings.Store.Display)}; the files after {Markup.Escape(file.Name)} were not ingested.");
                    return ExitCodes.CannotRun;
                }
            }
            catch (OperationCanceledException)
            {
                context.Out.Write(Render());
                context.Error.MarkupLine($"[yellow]Stopped.[/] Every batch stored before the stop is kept; run the same command again to finish {Markup.Escape(file.Name)}.");
                return ExitCodes.Cancelled;
            }
        }

        context.Out.Write(Render());
        foreach (var note in notes)
        {
            context.Out.MarkupLine(note);
        }

        if (quarantinedTotal > 0)
        {
            context.Out.MarkupLine($"[yellow]{quarantinedTotal:N0} record(s) quarantined[/] with line numbers and reasons in {Markup.Escape(quarantinePath)}.");
        }

        if (droppedTotal > 0)
        {
            ProjectSession.WriteDiagnostics(context.Error, notices);
            var more = droppedTotal - notices.Count;
            context.Out.MarkupLine($"[yellow]{droppedTotal:N0} feedback signal(s) could not be read and were left out[/]; their traces are stored with the other signals (RC2013{(more > 0 ? $"; the first {notices.Count} are listed above, {more:N0} more" : string.Empty)}).");
        }

        foreach (var unlisted in traceClassifier.UnlistedCohortValues())
        {
            context.Out.MarkupLine("[yellow]warning[/] RC2014: " + Markup.Escape(UnlistedNote(unlisted)));
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

        return exitCode == ExitCodes.Ok && failOnQuarantine && quarantinedTotal + droppedTotal > 0 ? ExitCodes.Findings : exitCode;
    }

    /// <summary>Names the cohort values the taxonomy does not list, which became the dimension's missing value.</summary>
    internal static string UnlistedNote(UnlistedCohortValues unlisted)
    {
        const int Shown = 8;
        var dimension = unlisted.Dimension;
        var values = string.Join(", ", unlisted.Values.Take(Shown).Select(v => $"{v.Value} ({v.Traces:N0})"));
        var rest = unlisted.Distinct > Shown ? $" and {unlisted.Distinct - Shown:N0}{(unlisted.Distinct >= CohortResolver.MaxUnlistedValues ? " or more" : string.Empty)} other value(s)" : string.Empty;
        return $"cohort '{dimension.Name}' (metadata field '{dimension.Field}'): {unlisted.Traces:N0} trace(s) carry values taxonomy.yaml does not list, stored as '{dimension.Missing}': {values}{rest}. " +
            $"Add them to the values of cohort '{dimension.Name}' to measure them apart; traces already stored keep '{dimension.Missing}' until they are ingested into a fresh store.";
    }

    /// <summary>What the table does not say: spans read and traces made, feedback attached, orphans, spans without content.</summary>
    private static IEnumerable<string> Notes(string file, IngestSummary summary)
    {
        if (summary.Format == TraceFormat.Jsonl)
        {
            yield break;
        }

        var name = Markup.Escape(file);
        yield return $"{name} ({TraceFormats.Name(summary.Format)}): {summary.Records:N0} record(s) read, {summary.Added:N0} trace(s) made, {summary.Merged:N0} stored trace(s) updated, feedback attached {summary.FeedbackAttached:N0} time(s), {summary.Quarantined:N0} quarantined.";
        if (summary.Orphans > 0)
        {
            yield return $"[yellow]{name}: {summary.Orphans:N0} trace(s) have spans whose parent never arrived[/] (RC2010 in the quarantine); they are stored from the spans that did, and a later file with the rest completes them.";
        }

        if (summary.SpansWithoutContent > 0)
        {
            yield return $"[yellow]{name}: {summary.SpansWithoutContent:N0} model-call span(s) carry no messages themselves[/] (fine when their content comes as log events; otherwise the producer did not record it: for Microsoft.Extensions.AI set EnableSensitiveData; for OpenTelemetry instrumentations OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true).";
        }
    }

    private static async Task<IngestSummary> IngestOneAsync(CliContext context, FileInfo file, IRecalStore store, TraceClassifier classifier, string quarantinePath, IngestOptions options, CancellationToken cancellationToken)
    {
        if (file.Length < ProgressThresholdBytes || !context.Error.Profile.Capabilities.Interactive)
        {
            return await IngestPipeline.RunAsync(file.FullName, store, classifier.Classify, quarantinePath, options, null, cancellationToken, logger: context.Logger).ConfigureAwait(false);
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
                result = await IngestPipeline.RunAsync(file.FullName, store, classifier.Classify, quarantinePath, options, progress, cancellationToken, logger: context.Logger).ConfigureAwait(false);
                task.Value = task.MaxValue;
            }).ConfigureAwait(false);
        return result!;
    }
}
