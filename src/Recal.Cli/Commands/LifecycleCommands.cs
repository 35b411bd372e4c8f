using System.CommandLine;
using System.Globalization;
using Recal.Domain;
using Recal.Lifecycle;
using Recal.Reporting.Terminal;
using Recal.Workflows;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal status</c>, <c>recal retire</c>, <c>recal promote</c>, <c>recal rotate</c>: the policy acting on the set.</summary>
internal static class LifecycleCommands
{
    /// <summary>The neighbourhood rule's measure with the project's embedder; null (with a warning) when it cannot run.</summary>
    private static async Task<NeighbourhoodResult?> NeighbourhoodAsync(CliContext context, EvalProject project, Recal.Storage.IRecalStore store, CycleTraffic? traffic, CancellationToken cancellationToken)
    {
        if (!project.Policy.Retirement.Neighbourhood || traffic is null)
        {
            return null;
        }

        var (inner, id, error) = EmbedderOptions.Create(project.Settings.Embeddings, project.Settings.Run);
        if (inner is null)
        {
            context.Error.MarkupLine($"[yellow]warning[/]: retirement by neighbourhood skipped: {Markup.Escape(error!)}");
            return null;
        }

        using var cached = new Embeddings.CachedEmbeddingGenerator(inner, store, id!);
        try
        {
            return await NeighbourhoodResult.MeasureAsync(project, store, traffic, cached, cancellationToken).ConfigureAwait(false);
        }
        catch (Recal.Running.TargetCallException e)
        {
            context.Error.MarkupLine($"[yellow]warning[/]: retirement by neighbourhood skipped: the embedding endpoint failed: {Markup.Escape(e.Message)}");
            return null;
        }
        catch (InvalidOperationException e)
        {
            context.Error.MarkupLine($"[yellow]warning[/]: retirement by neighbourhood skipped: {Markup.Escape(e.Message)}");
            return null;
        }
    }

    private static Option<bool> DryRunOption() => new("--dry-run") { Description = "Show exactly what would move and why; change nothing" };

    private static Option<bool> YesOption() => new("--yes", "-y") { Description = "Apply without asking" };

    internal static Command Status(CliContext context)
    {
        var at = new Option<DateTimeOffset?>("--at") { Description = "Judge what is due as of this date (default: now)", HelpName = "date" };
        var command = new Command("status", "Pool sizes per stratum, last and next refresh and rotation, and what is overdue");
        var rows = RowsOption.Create("the strata table");
        command.Options.Add(at);
        command.Options.Add(rows);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            var now = parse.GetValue(at) ?? DateTimeOffset.UtcNow;
            var policy = project.Policy;
            StatusResult status;
            if (await ProjectSession.StoreExistsAsync(context, project, cancellationToken).ConfigureAwait(false))
            {
                await using var store = await ProjectSession.OpenStoreForReadingAsync(context, project, cancellationToken).ConfigureAwait(false);
                status = await StatusUseCase.RunAsync(new StatusRequest(project, now), store, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                status = await StatusUseCase.RunAsync(new StatusRequest(project, now), null, cancellationToken).ConfigureAwait(false);
            }

            foreach (var problem in status.DraftProblems)
            {
                context.Error.MarkupLine($"[yellow]warning[/]: {Markup.Escape(problem)}");
            }

            RenderStatus(context, project, status, parse.GetValue(rows));
            return status.DueNow > 0 ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

    private static void RenderStatus(CliContext context, EvalProject project, StatusResult status, int? rows)
    {
        var policy = project.Policy;
        var table = new FitTable().Column("stratum").Column("gold", rightAligned: true).Column("shadow", rightAligned: true)
            .Column("holdout", rightAligned: true).Column("retired", rightAligned: true).Column("drafts", rightAligned: true).Limit(rows, "strata");
        foreach (var row in status.Strata)
        {
            table.Row(Markup.Escape(row.Stratum), Cell(row.Gold, policy.Strata.Floor), Cell(row.Shadow), Cell(row.Holdout), Cell(row.Retired), Cell(row.Drafts));
        }

        table.Render(context.Out);
        context.Out.MarkupLine($"Gold {status.Gold:N0} of a policy size of {policy.Size:N0}; shadow {status.Shadow:N0}; holdout {status.Holdout:N0}{(project.Seal is null ? string.Empty : " (sealed)")}; retired {status.Retired:N0}; {status.Drafts:N0} draft(s) waiting for labels.");

        var clock = status.Clock;
        void Due(string what, DueTask task)
        {
            if (task.Last is not { } done)
            {
                context.Out.MarkupLine($"{what}: never; [yellow]due now[/] (every {task.Cadence.TotalDays:0} days).");
                return;
            }

            context.Out.MarkupLine($"{what}: last {done.UtcDateTime:yyyy-MM-dd}, next {task.Next!.Value.UtcDateTime:yyyy-MM-dd}{(task.Overdue ? $" — [red]overdue by {task.OverdueBy.TotalDays:0} days[/]" : string.Empty)}.");
        }

        Due("Shadow refresh", clock.Refresh);
        Due("Rotation", clock.Rotation);
        if (policy.Ownership is { } ownership)
        {
            var since = ownership.Since is { } day ? $" since {day:yyyy-MM-dd}" : string.Empty;
            if (clock.HandOver is { Next: { } handOver } task)
            {
                context.Out.MarkupLine($"Owner: {Markup.Escape(ownership.Owner)}{since}; hand-over due {handOver.UtcDateTime:yyyy-MM-dd}{(task.Overdue ? $" — [red]overdue by {task.OverdueBy.TotalDays:0} days[/]: a new owner takes the set over (ownership.owner and ownership.since in policy.yaml)" : string.Empty)}.");
            }
            else
            {
                context.Out.MarkupLine($"Owner: {Markup.Escape(ownership.Owner)}{since}; no hand-over cadence (ownership.rotation).");
            }
        }
        else
        {
            context.Out.MarkupLine("Owner: none named; [blue]ownership: {owner, since, rotation}[/] in policy.yaml says who answers for the set and when it changes hands.");
        }

        if (project.Seal is { } seal)
        {
            context.Out.MarkupLine($"Holdout sealed {seal.Sealed:yyyy-MM-dd} until {seal.SealedUntil:yyyy-MM-dd}{(seal.SealedUntil <= clock.Now ? " — [yellow]due to be opened at rotation[/]" : string.Empty)}.");
        }

        if (status.Expired > 0)
        {
            context.Out.MarkupLine($"[yellow]{status.Expired:N0} gold case(s) are past valid_until[/]: [blue]recal retire --dry-run[/] lists them.");
        }

        if (status.Thin > 0)
        {
            context.Out.MarkupLine($"[yellow]{status.Thin:N0} stratum/strata hold fewer gold cases than the floor of {policy.Strata.Floor}.[/]");
        }

        if (status.Contamination is { } exposure)
        {
            context.Out.MarkupLine($"Contamination: {Markup.Escape(Reporting.Runs.RunReportTables.ContaminationLine(exposure))}.");
        }
    }

    internal static Command Retire(CliContext context)
    {
        var before = new Option<string?>("--before") { Description = "A run before a model upgrade (with --after: cases that newly pass are candidates)", HelpName = "run" };
        var after = new Option<string?>("--after") { Description = "A run after the upgrade", HelpName = "run" };
        var dryRun = DryRunOption();
        var yes = YesOption();
        var command = new Command("retire", "Propose gold cases to retire by the policy's rules (expired, unmatched by traffic, no recent trace nearby, newly passing); apply on confirmation");
        foreach (var option in new Option[] { before, after, dryRun, yes })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var directory = parse.GetValue(GlobalOptions.Project)!;
            using var workspace = ProjectSession.OpenWorkspace(context, directory, "retire");
            var project = ProjectSession.Load(context, directory);
            if (project is null || workspace is null)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
            var traffic = await LifecycleRules.CountCyclesAsync(store, project.Policy, Math.Max(1, project.Policy.Retirement.UnmatchedCycles), cancellationToken).ConfigureAwait(false);
            IReadOnlyList<Recal.Running.RunCaseRecord>? beforeRun = null, afterRun = null;
            if (parse.GetValue(before) is { } b && parse.GetValue(after) is { } a)
            {
                beforeRun = await store.GetRunCasesAsync(b, cancellationToken).ConfigureAwait(false);
                afterRun = await store.GetRunCasesAsync(a, cancellationToken).ConfigureAwait(false);
                if (beforeRun.Count == 0 || afterRun.Count == 0)
                {
                    context.Error.MarkupLine($"[red]error[/]: run {(beforeRun.Count == 0 ? b : a)} has no stored results; [blue]recal report --list[/] lists the runs.");
                    return ExitCodes.CannotRun;
                }
            }

            var neighbourhood = await NeighbourhoodAsync(context, project, store, traffic, cancellationToken).ConfigureAwait(false);
            var candidates = LifecycleRules.Retirements(project, DateOnly.FromDateTime(DateTime.UtcNow), traffic, beforeRun, afterRun, neighbourhood);
            if (candidates.Count == 0)
            {
                context.Out.MarkupLine("No gold case meets a retirement rule.");
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Simple);
            table.AddColumns("case", "intent", "rule", "why");
            foreach (var candidate in candidates)
            {
                table.AddRow(Markup.Escape(candidate.Case.Id), Markup.Escape(candidate.Case.Intent), candidate.Rule, Markup.Escape(candidate.Reason));
            }

            context.Out.Write(table);
            if (!Confirm(context, parse, dryRun, yes, $"Retire these {candidates.Count:N0} case(s)?"))
            {
                return ExitCodes.Ok;
            }

            var entry = PoolMoveUseCase.Apply(
                new PoolMoveRequest(project, candidates.ToDictionary(c => c.Case.Id, _ => Pool.Retired, StringComparer.Ordinal), "retire", "retirement",
                    $"{candidates.Count} gold case(s) retired ({string.Join(", ", candidates.GroupBy(c => c.Rule).Select(g => $"{g.Count()} {g.Key}"))})",
                    [.. candidates.Select(c => new CaseMove(c.Case.Id, "gold", "retired", $"{c.Rule}: {c.Reason}"))], DateTimeOffset.UtcNow),
                workspace);
            Lineage.Say(context, entry);
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static Command Promote(CliContext context)
    {
        var dryRun = DryRunOption();
        var yes = YesOption();
        var command = new Command("promote", "Propose shadow strata for gold once they held the policy's minimum traffic share for its number of cycles; apply on confirmation");
        command.Options.Add(dryRun);
        command.Options.Add(yes);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var directory = parse.GetValue(GlobalOptions.Project)!;
            using var workspace = ProjectSession.OpenWorkspace(context, directory, "promote");
            var project = ProjectSession.Load(context, directory);
            if (project is null || workspace is null)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
            var traffic = await LifecycleRules.CountCyclesAsync(store, project.Policy, project.Policy.Promotion.Cycles, cancellationToken).ConfigureAwait(false);
            if (traffic is null)
            {
                context.Error.MarkupLine("[red]error[/]: the store holds no traffic yet; run [blue]recal ingest FILE[/] first.");
                return ExitCodes.CannotRun;
            }

            var proposals = LifecycleRules.Promotions(project, traffic);
            if (proposals.Count == 0)
            {
                context.Out.MarkupLine("Every stratum of the shadow pool is already in gold: nothing to promote.");
                return ExitCodes.Ok;
            }

            var table = new Table().Border(TableBorder.Simple);
            table.AddColumns("stratum", "shadow cases", "proposed", "why");
            foreach (var proposal in proposals)
            {
                table.AddRow(Markup.Escape(proposal.Stratum), proposal.Cases.Count.ToString(CultureInfo.InvariantCulture), proposal.Promote ? "[green]yes[/]" : "no", Markup.Escape(proposal.Reason));
            }

            context.Out.Write(table);
            var promoted = proposals.Where(p => p.Promote).ToList();
            var cases = promoted.SelectMany(p => p.Cases).Where(c => c.References.Count > 0).ToList();
            if (cases.Count == 0)
            {
                context.Out.MarkupLine("No stratum meets the promotion rule yet.");
                return ExitCodes.Ok;
            }

            if (!Confirm(context, parse, dryRun, yes, $"Move {cases.Count:N0} shadow case(s) of {promoted.Count:N0} stratum/strata into gold?"))
            {
                return ExitCodes.Ok;
            }

            var entry = PoolMoveUseCase.Apply(
                new PoolMoveRequest(project, cases.ToDictionary(c => c.Id, _ => Pool.Gold, StringComparer.Ordinal), "promote", "promotion",
                    $"{promoted.Count} stratum/strata promoted from shadow: {string.Join(", ", promoted.Select(p => p.Stratum))}",
                    [.. promoted.SelectMany(p => p.Cases.Where(c => c.References.Count > 0).Select(c => new CaseMove(c.Id, "shadow", "gold", p.Reason)))], DateTimeOffset.UtcNow),
                workspace);
            Lineage.Say(context, entry);
            return ExitCodes.Ok;
        });
        return command;
    }

    internal static Command Rotate(CliContext context)
    {
        var keyFile = HoldoutCommand.KeyFileOption();
        var graduate = new Option<double>("--graduate") { Description = "The share of the opened holdout that graduates into gold (default 0.5); the rest retires", DefaultValueFactory = _ => 0.5 };
        var seed = new Option<int>("--seed") { Description = "Seed of the graduates' choice and of the new holdout's draw (default 0)" };
        var early = new Option<bool>("--unseal") { Description = "Rotate before the holdout's sealed-until date" };
        var dryRun = DryRunOption();
        var yes = YesOption();
        var command = new Command("rotate", "At the rotation cadence: open the holdout, graduate a share into gold, retire old gold by the rules, and draw a new holdout to label and seal");
        foreach (var option in new Option[] { keyFile, graduate, seed, early, dryRun, yes })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var directory = parse.GetValue(GlobalOptions.Project)!;
            using var workspace = ProjectSession.OpenWorkspace(context, directory, "rotate");
            var project = ProjectSession.Load(context, directory);
            if (project is null || workspace is null)
            {
                return ExitCodes.CannotRun;
            }

            IReadOnlyList<EvalCase> holdout = [.. project.Cases.Where(c => c.Pool == Pool.Holdout)];
            if (project.Seal is not null)
            {
                var (opened, error) = HoldoutCommand.OpenForRun(context, project, parse.GetValue(keyFile), parse.GetValue(early));
                if (opened is null)
                {
                    context.Error.MarkupLine($"[red]error[/]: {Markup.Escape(error!)}");
                    return ExitCodes.CannotRun;
                }

                holdout = opened;
            }

            await using var store = await ProjectSession.OpenStoreForCachingAsync(context, project, cancellationToken).ConfigureAwait(false);
            var request = new RotateRequest(project, holdout, parse.GetValue(graduate), parse.GetValue(seed), DateTimeOffset.UtcNow)
            {
                Neighbourhood = (traffic, token) => NeighbourhoodAsync(context, project, store, traffic, token),
            };
            var plan = await RotateUseCase.PlanAsync(request, store, cancellationToken).ConfigureAwait(false);
            context.Out.MarkupLine($"Rotation: {plan.Graduates.Count:N0} of {holdout.Count:N0} holdout case(s) graduate into gold, {plan.HoldoutRetiring:N0} retire; {plan.Retirements.Count:N0} gold case(s) retire by the rules; a new holdout of {plan.NewHoldoutSize:N0} (size × holdout_fraction) is drawn as drafts, by the strata and their floors.");
            ProjectSession.WriteDiagnostics(context.Error, plan.Diagnostics);
            foreach (var candidate in plan.Retirements)
            {
                context.Out.MarkupLine($"  retire {Markup.Escape(candidate.Case.Id)} ({candidate.Rule}): {Markup.Escape(candidate.Reason)}");
            }

            if (!Confirm(context, parse, dryRun, yes, "Rotate?"))
            {
                return ExitCodes.Ok;
            }

            var result = await RotateUseCase.ApplyAsync(plan, workspace, store, cancellationToken).ConfigureAwait(false);
            if (result.Drawn is { } drawn)
            {
                SampleCommand.RenderArithmetic(context, drawn, plan.HoldoutSizeSource);
            }

            Lineage.Say(context, result.Entry);
            context.Out.MarkupLine($"{result.Drafted:N0} holdout draft(s) written to drafts/: label them ([blue]recal label export --pool holdout[/]), import them, then [blue]recal holdout seal[/].");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static bool Confirm(CliContext context, ParseResult parse, Option<bool> dryRun, Option<bool> yes, string question)
    {
        if (parse.GetValue(dryRun))
        {
            context.Out.MarkupLine("Dry run: nothing was changed.");
            return false;
        }

        if (parse.GetValue(yes))
        {
            return true;
        }

        if (context.Out.Profile.Capabilities.Interactive)
        {
            return context.Out.Confirm(question, defaultValue: false);
        }

        context.Out.MarkupLine("Nothing was changed: run again with [blue]--yes[/] to apply, or [blue]--dry-run[/] to only look.");
        return false;
    }

    private static string Cell(int count, int floor = 0) =>
        count == 0 ? "[grey]0[/]" : floor > 0 && count < floor ? $"[yellow]{count}[/]" : count.ToString(CultureInfo.InvariantCulture);
}
