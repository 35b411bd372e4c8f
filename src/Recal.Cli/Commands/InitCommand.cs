using System.CommandLine;
using System.Globalization;
using Recal.Domain;
using Recal.Ingest;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal init</c>: scaffolds a commented eval project, with a taxonomy proposed from traffic when given some.</summary>
internal static class InitCommand
{
    public static Command Create(CliContext context)
    {
        var directory = new Argument<DirectoryInfo?>("dir")
        {
            Description = "Where to create the project (default: the --project folder)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var name = new Option<string?>("--name") { Description = "The project name (default: the folder name)" };
        var fromTraces = new Option<FileInfo[]>("--from-traces")
        {
            Description = "Propose the taxonomy from these trace files (any format recal ingest reads, detected from the content): intents from clusters of a sample, cohort dimensions from metadata fields with few values (docs/taxonomy-from-traces.md)",
            HelpName = "file",
            AllowMultipleArgumentsPerToken = true,
        };
        var sampleSize = new Option<int>("--sample")
        {
            Description = "--from-traces: how many traces to cluster, a seeded sample of those read",
            DefaultValueFactory = _ => TaxonomyProposalOptions.DefaultSampleSize,
            HelpName = "n",
        };
        sampleSize.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 10)
            {
                r.AddError("--sample must be at least 10");
            }
        });
        var intents = new Option<int?>("--intents")
        {
            Description = "--from-traces: how many clusters to make (default: chosen by the silhouette)",
            HelpName = "n",
        };
        intents.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1)
            {
                r.AddError("--intents must be at least 1");
            }
        });
        var seed = new Option<int>("--seed") { Description = "--from-traces: seed of the sample and the clustering", DefaultValueFactory = _ => 0, HelpName = "n" };
        var formats = TraceFormats.Names.Where(n => n != TraceFormats.Name(TraceFormat.Mapped)).ToArray();
        var format = new Option<string>("--format")
        {
            Description = "--from-traces: the files' format: " + string.Join(", ", formats) + " (default: auto, detected from each file's content)",
            HelpName = "format",
        };
        format.AcceptOnlyFromAmong(formats);
        var embedder = new EmbedderOptions();
        var command = new Command("init", "Create a commented starter eval project: recal.yaml, taxonomy.yaml, policy.yaml, cases/ and a .gitignore for the store; with --from-traces the taxonomy is proposed from your traffic");
        command.Arguments.Add(directory);
        command.Options.Add(name);
        command.Options.Add(fromTraces);
        command.Options.Add(sampleSize);
        command.Options.Add(intents);
        command.Options.Add(seed);
        command.Options.Add(format);
        embedder.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(directory) ?? parse.GetValue(GlobalOptions.Project)!;
            var projectName = parse.GetValue(name) ?? target.Name;
            if (parse.GetValue(fromTraces) is not { Length: > 0 } files)
            {
                return Written(context, target, projectName, ProjectScaffolder.Scaffold(target.FullName, projectName), null);
            }

            var conflicts = ProjectScaffolder.Conflicts(target.FullName);
            if (conflicts.Count > 0)
            {
                ProjectSession.WriteDiagnostics(context.Error, conflicts);
                return ExitCodes.CannotRun;
            }

            var (kind, id, error) = EmbedderOptions.Create(embedder.Resolve(parse, new EmbeddingSettings()), new RunDefaults());
            if (kind is null)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)}");
                return ExitCodes.CannotRun;
            }

            using var generator = kind;
            var chosen = parse.GetValue(format) is { } f && TraceFormats.TryParse(f, out var parsed) ? parsed : TraceFormat.Auto;
            var options = new TaxonomyProposalOptions(SampleSize: parse.GetValue(sampleSize), Intents: parse.GetValue(intents), Seed: parse.GetValue(seed));
            var (sample, exit) = await ReadAsync(context, files, chosen, options, cancellationToken).ConfigureAwait(false);
            if (sample is null)
            {
                return exit;
            }

            var (proposal, problem) = await TaxonomyProposer.ProposeAsync(sample, generator, id!, options, cancellationToken).ConfigureAwait(false);
            if (proposal is null)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(problem!)}");
                return ExitCodes.CannotRun;
            }

            var today = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
            var code = Written(context, target, projectName, ProjectScaffolder.Scaffold(target.FullName, projectName, proposal, today), proposal);
            return code == ExitCodes.Ok ? exit : code;
        });
        return command;
    }

    /// <summary>A throwaway store file, opened by the host's provider for files.</summary>
    private static Task<Storage.IRecalStore> OpenScratchStoreAsync(CliContext context, string path, CancellationToken cancellationToken)
    {
        var location = Storage.StoreLocation.ForFile(path);
        return context.Stores.Resolve(location).OpenAsync(location, cancellationToken: cancellationToken);
    }

    /// <summary>
    /// Reads the files through the ingest pipeline into a throwaway store (so every format, and traces whose spans or
    /// feedback come in several records, read exactly as <c>recal ingest</c> reads them), then samples what was stored.
    /// </summary>
    private static async Task<(TraceSample? Sample, int Exit)> ReadAsync(CliContext context, FileInfo[] files, TraceFormat format, TaxonomyProposalOptions options, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("recal-init-");
        var exit = ExitCodes.Ok;
        try
        {
            var sample = new TraceSample(options.SampleSize, options.Seed, options.MaxCohortValues);
            await using (var store = await OpenScratchStoreAsync(context, Path.Combine(folder.FullName, "traces.db"), cancellationToken).ConfigureAwait(false))
            {
                var quarantined = 0L;
                foreach (var file in files)
                {
                    if (!file.Exists)
                    {
                        context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(file.FullName)}: no such file; the other files are still read.");
                        exit = ExitCodes.CannotRun;
                        continue;
                    }

                    var summary = await IngestPipeline.RunAsync(
                        file.FullName,
                        store,
                        (trace, key) => new ClassifiedTrace(trace, key, Taxonomy.UnknownIntent, IntentSource.Unknown, 0, string.Empty),
                        Path.Combine(folder.FullName, "quarantine.jsonl"),
                        new IngestOptions(format),
                        null,
                        cancellationToken,
                        TimeProvider.System,
                        context.Logger).ConfigureAwait(false);
                    quarantined += summary.Quarantined;
                    if (summary.Failure is { } failure)
                    {
                        ProjectSession.WriteDiagnostics(context.Error, [failure]);
                        return (null, ExitCodes.CannotRun);
                    }
                }

                await store.ScanTracesAsync(null, null, t => sample.Add(t.Key, t.Trace), cancellationToken).ConfigureAwait(false);
                if (quarantined > 0)
                {
                    context.Out.MarkupLine($"[yellow]{quarantined:N0} record(s) could not be read[/] and were left out; recal ingest lists them with line numbers and reasons.");
                }
            }

            if (sample.Read == 0)
            {
                context.Error.MarkupLine("[red]error[/]: no trace could be read from the files, so there is nothing to propose a taxonomy from (docs/trace-format.md); recal init without --from-traces writes a starter taxonomy to edit by hand.");
                return (null, ExitCodes.CannotRun);
            }

            return (sample, exit);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static int Written(CliContext context, DirectoryInfo target, string projectName, IReadOnlyList<Diagnostics.Diagnostic> diagnostics, TaxonomyProposal? proposal)
    {
        ProjectSession.WriteDiagnostics(context.Error, diagnostics);
        if (diagnostics.Any(d => d.Severity == Diagnostics.Severity.Error))
        {
            return ExitCodes.CannotRun;
        }

        context.Out.MarkupLine($"Created eval project [bold]{Markup.Escape(projectName)}[/] in {Markup.Escape(target.FullName)}.");
        if (proposal is null)
        {
            WriteSteps(context, [
                "edit taxonomy.yaml and policy.yaml for your product (the starter cases in cases/gold.jsonl, tagged \"starter\", name its example intents)",
                "recal validate",
                "recal ingest traces.jsonl (docs/trace-format.md; OpenTelemetry, Langfuse and LangSmith exports too)",
                "recal drift and recal check: until you draw a gold set from your traffic they say what to do next",
                StarterCases.FirstDraw.Replace("; delete the starter cases", string.Empty, StringComparison.Ordinal)]);
            return ExitCodes.Ok;
        }

        var n = CultureInfo.InvariantCulture;
        context.Out.MarkupLine(string.Create(n, $"Read {proposal.Read:N0} traces and clustered a sample of {proposal.Sample.Count:N0} ({Markup.Escape(proposal.EmbedderId)}): {proposal.K} clusters ({Source(proposal)})."));
        context.Out.MarkupLine(string.Create(n, $"Proposed [bold]{proposal.Intents.Count}[/] intent(s){(proposal.Unplaced > 0 ? $" ({proposal.Unplaced:N0} sampled traces in clusters too small for one)" : "")} and [bold]{proposal.Cohorts.Count}[/] cohort dimension(s){(proposal.Cohorts.Count > 0 ? ": " + Markup.Escape(string.Join(", ", proposal.Cohorts.Select(c => $"{c.Name} ({c.Values.Count} values)"))) : "")}."));
        foreach (var intent in proposal.Intents.Take(10))
        {
            context.Out.MarkupLine(string.Create(n, $"  {Markup.Escape(intent.Name),-32} {intent.Share * 100,5:0.0}%  {Markup.Escape(proposal.Sample[intent.Examples[0]].Text.ReplaceLineEndings(" ").Truncate(60))}"));
        }

        if (proposal.Intents.Count > 10)
        {
            context.Out.MarkupLine(string.Create(n, $"  … and {proposal.Intents.Count - 10} more in taxonomy.yaml"));
        }

        context.Out.MarkupLine(string.Create(n, $"Wrote taxonomy.yaml (each intent with its distinctive words and examples as comments), a policy of {ProposalWriter.PolicySize(proposal.Intents.Count)} cases, and one starter case per intent in cases/gold.jsonl (tagged \"starter\")."));
        WriteSteps(context, [
            "edit taxonomy.yaml (rename, describe, merge or delete the proposed intents)",
            "recal validate",
            "recal ingest the same files",
            "recal drift and recal check",
            StarterCases.FirstDraw]);
        return ExitCodes.Ok;
    }

    /// <summary>What to do after init, one numbered step a line, wrapped under its own text.</summary>
    private static void WriteSteps(CliContext context, IReadOnlyList<string> steps)
    {
        context.Out.MarkupLine("Next:");
        for (var i = 0; i < steps.Count; i++)
        {
            Reporting.Terminal.TerminalText.WriteHanging(context.Out, $"  {i + 1}. {steps[i]}", 5);
        }
    }

    private static string Source(TaxonomyProposal proposal) => proposal.Source switch
    {
        Drift.ClusterCountSource.Given => "as --intents asked",
        Drift.ClusterCountSource.TooFew => "too few traces to compare clusterings",
        _ => string.Create(CultureInfo.InvariantCulture, $"the best silhouette of {proposal.Silhouettes.Count} numbers compared"),
    };

    private static string Truncate(this string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
