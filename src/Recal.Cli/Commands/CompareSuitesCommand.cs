using System.CommandLine;
using System.Globalization;
using System.Text;
using Recal.Reporting.Runs;
using Recal.Running;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary>
/// <c>recal compare-suites</c>: the "eval change as a feature" table — a baseline and a candidate target, each on the
/// old and the new suite version, as Markdown for a pull-request description.
/// </summary>
internal static class CompareSuitesCommand
{
    public static Command Create(CliContext context)
    {
        var oldProject = new Option<DirectoryInfo>("--old-project")
        {
            Description = "The project at the old suite version (e.g. from 'recal history --rebuild'), with its own runs",
            HelpName = "dir",
            Required = true,
        };
        var baseline = new Option<string>("--baseline") { Description = "The baseline target's name", HelpName = "target", Required = true };
        var candidate = new Option<string>("--candidate") { Description = "The candidate target's name", HelpName = "target", Required = true };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "Also write the table as Markdown", HelpName = "file" };
        var command = new Command("compare-suites", "Baseline and candidate, each on the old and the new suite version: does the eval change change the verdict?");
        foreach (var option in new Option[] { oldProject, baseline, candidate, markdown })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            var old = ProjectSession.Load(context, parse.GetValue(oldProject)!);
            if (project is null || old is null)
            {
                return ExitCodes.CannotRun;
            }

            var (table, missing) = await TableAsync(context, project, old, parse.GetValue(baseline)!, parse.GetValue(candidate)!, cancellationToken).ConfigureAwait(false);
            if (table is null)
            {
                context.Error.MarkupLine("[red]error[/]: a completed run is missing for each of these; run them first:");
                foreach (var line in missing)
                {
                    context.Error.WriteLine("  " + line);
                }

                return ExitCodes.CannotRun;
            }

            context.Out.WriteLine(table);
            if (parse.GetValue(markdown) is { } file)
            {
                await Reporting.AtomicFile.WriteAllTextAsync(file.FullName, table, cancellationToken).ConfigureAwait(false);
                context.Out.MarkupLine($"Markdown: {Markup.Escape(file.FullName)}");
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// The eval-change table of each target's newest finished run in the old and the new project; null with the
    /// <c>recal run</c> commands that would make the missing runs.
    /// </summary>
    internal static async Task<(string? Markdown, List<string> Missing)> TableAsync(CliContext context, Domain.EvalProject project, Domain.EvalProject old, string baseline, string candidate, CancellationToken cancellationToken)
    {
        await using var newStore = await ProjectSession.OpenStoreForReadingAsync(context, project, cancellationToken).ConfigureAwait(false);
        await using var oldStore = await ProjectSession.OpenStoreForReadingAsync(context, old, cancellationToken).ConfigureAwait(false);
        var names = new[] { baseline, candidate };
        var cells = new Dictionary<(string Target, bool New), RunReport>();
        var stored = new Dictionary<(string Target, bool New), IReadOnlyList<RunCaseRecord>>();
        var missing = new List<string>();
        foreach (var (store, suiteProject, isNew) in new[] { (oldStore, old, false), (newStore, project, true) })
        {
            foreach (var name in names)
            {
                var (run, _) = await Decisions.RunSelector.FindAsync(store, name, [], cancellationToken).ConfigureAwait(false);
                if (run is null)
                {
                    missing.Add($"recal run --project {suiteProject.Root} --target {name}");
                    continue;
                }

                var results = await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false);
                stored[(name, isNew)] = results;
                cells[(name, isNew)] = await RunReportBuilder.BuildAsync(run, results, suiteProject.Policy, newStore, cancellationToken).ConfigureAwait(false);
            }
        }

        return missing.Count > 0 ? (null, missing) : (Markdown(baseline, candidate, cells, stored), missing);
    }

    private static string Markdown(string baseline, string candidate, Dictionary<(string Target, bool New), RunReport> cells, Dictionary<(string Target, bool New), IReadOnlyList<RunCaseRecord>> stored)
    {
        var oldSuite = cells[(baseline, false)].Run.SuiteVersion;
        var newSuite = cells[(baseline, true)].Run.SuiteVersion;
        string Cell(RunReport report)
        {
            var weighted = report.Weighted?.Estimate is { Estimate: var e } w && double.IsFinite(e) ? $"; traffic-weighted {RunReportTables.Percent(e)} ({RunReportTables.Interval(w.Lower, w.Upper)})" : string.Empty;
            return $"{RunReportTables.Percent(report.Overall.PassRate)} ({RunReportTables.Interval(report.Overall.Lower, report.Overall.Upper)}, n={report.Overall.Passed + report.Overall.Failed}){weighted}";
        }

        string Points(double a, double b) => double.IsFinite(a) && double.IsFinite(b) ? ((b - a) * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " pp" : "–";
        var text = new StringBuilder();
        text.AppendLine("### Eval change: baseline and candidate on the old and the new suite").AppendLine();
        text.AppendLine($"| target | old suite `{oldSuite}` | new suite `{newSuite}` | change |");
        text.AppendLine("|---|---|---|---:|");
        foreach (var target in new[] { baseline, candidate })
        {
            var (o, n) = (cells[(target, false)], cells[(target, true)]);
            text.AppendLine($"| {target} | {Cell(o)} | {Cell(n)} | {Points(o.Overall.PassRate, n.Overall.PassRate)} |");
        }

        var leadOld = cells[(candidate, false)].Overall.PassRate - cells[(baseline, false)].Overall.PassRate;
        var leadNew = cells[(candidate, true)].Overall.PassRate - cells[(baseline, true)].Overall.PassRate;
        text.AppendLine($"| **{candidate} − {baseline}** | {Points(0, leadOld)} | {Points(0, leadNew)} | {Points(leadOld, leadNew)} |");
        text.AppendLine();
        var verdict = Math.Sign(leadOld) != Math.Sign(leadNew)
            ? $"The eval change **reverses the verdict**: {candidate} {(leadOld > 0 ? "led" : "trailed")} {baseline} on the old suite and {(leadNew > 0 ? "leads" : "trails")} on the new one."
            : $"The eval change keeps the verdict: {candidate} {(leadNew >= 0 ? "leads" : "trails")} {baseline} on both suites ({Points(0, leadOld)} then {Points(0, leadNew)}).";
        text.AppendLine(verdict);
        text.AppendLine();
        foreach (var target in new[] { baseline, candidate })
        {
            // How much of the change comes from the mix of easy and hard cases rather than from the system.
            var (change, mix, within) = RunReportBuilder.Decompose(stored[(target, false)], stored[(target, true)], r => r.Difficulty ?? "unrated");
            text.AppendLine($"- {target}: {Points(0, change)} from the old suite to the new, of which {Points(0, mix)} from the mix of difficulties and {Points(0, within)} within difficulties.");
        }

        text.AppendLine().AppendLine("Pass rates over cases with a verdict, with 95% Wilson intervals; traffic-weighted estimates over today's traffic (`recal report`).");
        return text.ToString();
    }
}
