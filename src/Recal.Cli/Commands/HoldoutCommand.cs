using System.CommandLine;
using System.Text.Json;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Project;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal holdout</c>: sealing, verifying and opening the holdout pool.</summary>
internal static class HoldoutCommand
{
    public static Option<FileInfo?> KeyFileOption() => new("--key-file")
    {
        Description = $"The holdout key file (default: the {HoldoutSeal.KeyVariable} environment variable)",
        HelpName = "file",
    };

    public static Command Create(CliContext context)
    {
        var command = new Command("holdout", "Seal the holdout (AES-GCM, SHA-256 commitment, sealed-until date), verify it, or open it at rotation");
        command.Subcommands.Add(NewKey(context));
        command.Subcommands.Add(Seal(context));
        command.Subcommands.Add(Verify(context));
        command.Subcommands.Add(Unseal(context));
        return command;
    }

    /// <summary>Opens the sealed holdout for a run: the cases, or an error message.</summary>
    public static (IReadOnlyList<EvalCase>? Cases, string? Error) OpenForRun(CliContext context, EvalProject project, FileInfo? keyFile, bool early)
    {
        var (key, error) = HoldoutSeal.ResolveKey(keyFile?.FullName);
        if (key is null)
        {
            return (null, $"the holdout is sealed: {error}");
        }

        WarnIfOpen(context, keyFile);
        try
        {
            var lines = HoldoutSeal.Open(project.Root, key, DateTimeOffset.UtcNow, early, project.Settings.Name);
            var diagnostics = new DiagnosticBag();
            var cases = lines.Select((line, i) => CaseFileReader.Parse(line, new SourceLocation("holdout (sealed)", i + 1), diagnostics)).OfType<EvalCase>().ToList();
            return diagnostics.HasErrors ? (null, $"the sealed holdout holds invalid cases: {diagnostics.Items[0].Message}") : (cases, null);
        }
        catch (HoldoutSealException e)
        {
            return (null, e.Message);
        }
    }

    private static Command NewKey(CliContext context)
    {
        var file = new Argument<FileInfo>("file") { Description = "Where to write the new key (kept by the eval owner, never committed)" };
        var command = new Command("new-key", "Write a fresh random holdout key to a file readable only by you");
        command.Arguments.Add(file);
        command.SetAction(parse =>
        {
            var target = parse.GetValue(file)!;
            if (target.Exists)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(target.FullName)} exists; a key is never overwritten.");
                return ExitCodes.CannotRun;
            }

            if (HoldoutSeal.CreateKeyFile(target.FullName) is { } problem)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(problem)}.");
                return ExitCodes.CannotRun;
            }

            context.Out.MarkupLine($"Key written to {Markup.Escape(target.FullName)}. Keep it out of the repository; whoever holds it can open the holdout.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Seal(CliContext context)
    {
        var keyFile = KeyFileOption();
        var until = new Option<DateTimeOffset?>("--until") { Description = "Sealed until this date (default: now + the policy's rotation cadence)", HelpName = "date" };
        var command = new Command("seal", "Encrypt the holdout pool's cases into holdout/ and remove them from the case files");
        command.Options.Add(keyFile);
        command.Options.Add(until);
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(GlobalOptions.Project)!;
            using var workspace = ProjectSession.OpenWorkspace(context, directory, "holdout seal");
            var project = ProjectSession.Load(context, directory);
            if (project is null || workspace is null)
            {
                return ExitCodes.CannotRun;
            }

            if (HoldoutSeal.ReadRecord(project.Root) is { } existing)
            {
                context.Error.MarkupLine($"[red]error[/]: a holdout is already sealed (until {existing.SealedUntil:yyyy-MM-dd}); open it with [blue]recal holdout unseal[/] at rotation before sealing another.");
                return ExitCodes.CannotRun;
            }

            var holdout = project.Cases.Where(c => c.Pool == Pool.Holdout).ToList();
            if (holdout.Count == 0)
            {
                context.Error.MarkupLine("[red]error[/]: the project has no holdout case to seal; draw some with [blue]recal sample --pool holdout[/] and label them.");
                return ExitCodes.CannotRun;
            }

            if (ResolveKey(context, parse.GetValue(keyFile)) is not { } key)
            {
                return ExitCodes.CannotRun;
            }

            var now = DateTimeOffset.UtcNow;
            var sealedUntil = parse.GetValue(until) ?? now + project.Policy.RotationCadence;
            var (record, ciphertext) = HoldoutSeal.Seal([.. holdout.Select(c => (c.Id, c.Intent, CaseFileWriter.ToJson(c)))], key, now, sealedUntil, project: project.Settings.Name);
            int removed;
            var entry = Lineage.Entry(project, project with { Cases = [.. project.Cases.Where(c => c.Pool != Pool.Holdout)], Seal = record }, "holdout seal", "seal",
                $"{record.Cases} holdout case(s) sealed until {record.SealedUntil:yyyy-MM-dd}, {HoldoutSeal.CommitmentNote(record)}", [.. holdout.Select(c => new CaseMove(c.Id, "holdout", "sealed"))]);
            using (var change = workspace.Begin("holdout seal"))
            {
                // The seal, the case files without the holdout's plaintext and the changelog entry, together or not at all.
                HoldoutSeal.Write(change, record, ciphertext);
                removed = RemovePool(change, project, Pool.Holdout);
                Changelog.Append(change, entry);
                change.Commit();
            }

            Lineage.Say(context, entry);
            context.Out.MarkupLine($"Sealed {record.Cases:N0} holdout case(s) until {record.SealedUntil:yyyy-MM-dd} (commitment {record.Commitment[..16]}…); {removed:N0} line(s) removed from the case files.");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Verify(CliContext context)
    {
        var keyFile = KeyFileOption();
        var command = new Command("verify", "Check the sealed holdout against its key and commitment without showing or writing any case");
        command.Options.Add(keyFile);
        command.SetAction(parse =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            var record = HoldoutSeal.ReadRecord(project.Root);
            if (record is null)
            {
                context.Error.MarkupLine("[red]error[/]: the project has no sealed holdout.");
                return ExitCodes.CannotRun;
            }

            if (ResolveKey(context, parse.GetValue(keyFile)) is not { } key)
            {
                return ExitCodes.CannotRun;
            }

            try
            {
                var lines = HoldoutSeal.Open(project.Root, key, DateTimeOffset.UtcNow, early: true, project.Settings.Name);
                context.Out.MarkupLine($"[green]Intact[/]: {lines.Count:N0} case(s) match the commitment {record.Commitment[..16]}…; sealed until {record.SealedUntil:yyyy-MM-dd}.");
                return ExitCodes.Ok;
            }
            catch (HoldoutSealException e)
            {
                context.Error.MarkupLine($"[red]The seal does not verify[/]: {Markup.Escape(e.Message)}");
                return ExitCodes.Findings;
            }
        });
        return command;
    }

    private static Command Unseal(CliContext context)
    {
        var keyFile = KeyFileOption();
        var early = new Option<bool>("--unseal") { Description = "Open the holdout before its sealed-until date (breaks the seal's purpose; recorded in the output)" };
        var command = new Command("unseal", "Open the sealed holdout at rotation: verify it and write its cases back to cases/holdout.jsonl");
        command.Options.Add(keyFile);
        command.Options.Add(early);
        command.SetAction(parse =>
        {
            var directory = parse.GetValue(GlobalOptions.Project)!;
            using var workspace = ProjectSession.OpenWorkspace(context, directory, "holdout unseal");
            var project = ProjectSession.Load(context, directory);
            if (project is null || workspace is null)
            {
                return ExitCodes.CannotRun;
            }

            if (ResolveKey(context, parse.GetValue(keyFile)) is not { } key)
            {
                return ExitCodes.CannotRun;
            }

            try
            {
                var lines = HoldoutSeal.Open(project.Root, key, DateTimeOffset.UtcNow, parse.GetValue(early), project.Settings.Name);
                var target = Path.Combine(CaseFolder(project), "holdout.jsonl");
                var opened = lines.Select(l => CaseFileReader.Parse(l, new SourceLocation(HoldoutSeal.CiphertextFile), new DiagnosticBag())).OfType<EvalCase>().ToList();
                var entry = Lineage.Entry(project, project with { Cases = [.. project.Cases, .. opened], Seal = null }, "holdout unseal", "unseal",
                    $"{lines.Count} holdout case(s) opened{(parse.GetValue(early) ? " before their sealed-until date" : string.Empty)}", [.. lines.Select(l => new CaseMove(CaseId(l), "sealed", "holdout"))]);
                using (var change = workspace.Begin("holdout unseal"))
                {
                    // The opened cases, the spent seal and the changelog entry, together or not at all.
                    change.AppendAllLines(target, lines);
                    HoldoutSeal.Remove(change);
                    Changelog.Append(change, entry);
                    change.Commit();
                }

                Lineage.Say(context, entry);
                context.Out.MarkupLine($"Opened {lines.Count:N0} holdout case(s), commitment verified, into {Markup.Escape(Path.GetRelativePath(project.Root, target))}.");
                return ExitCodes.Ok;
            }
            catch (HoldoutSealException e)
            {
                context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(e.Message)}");
                return ExitCodes.CannotRun;
            }
        });
        return command;
    }

    /// <summary>The holdout key from --key-file or the environment; null after printing why there is none.</summary>
    private static byte[]? ResolveKey(CliContext context, FileInfo? keyFile)
    {
        var (key, error) = HoldoutSeal.ResolveKey(keyFile?.FullName);
        if (key is null)
        {
            context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)}; [blue]recal holdout new-key FILE[/] makes a new one.");
            return null;
        }

        WarnIfOpen(context, keyFile);
        return key;
    }

    private static void WarnIfOpen(CliContext context, FileInfo? keyFile)
    {
        if (keyFile is not null && HoldoutSeal.KeyFileWarning(keyFile.FullName) is { } warning)
        {
            context.Error.MarkupLine($"[yellow]warning[/]: {Markup.Escape(warning)}.");
        }
    }

    /// <summary>The folder new case files go to: that of the project's first case file, or cases/.</summary>
    public static string CaseFolder(EvalProject project) => CaseMover.NewFileFolder(project);

    /// <summary>Rewrites every case file without the lines of a pool; returns how many lines went.</summary>
    private static int RemovePool(IProjectFiles files, EvalProject project, Pool pool)
    {
        var name = pool.ToString().ToLowerInvariant();
        var removed = 0;
        foreach (var path in project.Settings.CasePaths)
        {
            var lines = files.ReadAllLines(path);
            var kept = lines.Where(line => !IsPool(line, name)).ToList();
            if (kept.Count == lines.Length)
            {
                continue;
            }

            removed += lines.Length - kept.Count;
            files.WriteAllLines(path, kept);
        }

        return removed;
    }

    private static string CaseId(string line)
    {
        using var document = JsonDocument.Parse(line);
        return document.RootElement.GetProperty("id").GetString()!;
    }

    private static bool IsPool(string line, string pool)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("pool", out var value)
                && value.ValueKind == JsonValueKind.String
                && value.GetString() == pool;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
