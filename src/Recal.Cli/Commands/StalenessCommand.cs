using System.CommandLine;
using Recal.Reporting.Runs;
using Recal.Running;
using Recal.Storage;
using Spectre.Console;

namespace Recal.Cli.Commands;

/// <summary><c>recal staleness</c>: does the set still tell the targets run on it apart?</summary>
internal static class StalenessCommand
{
    public static Command Create(CliContext context)
    {
        var last = new Option<int>("--last") { Description = "Compare the newest completed run of each target, at most this many targets", DefaultValueFactory = _ => 10 };
        var suite = new Option<string?>("--suite") { Description = "The suite version (default: the newest run's)", HelpName = "version" };
        var command = new Command("staleness", "Across runs of different targets on one suite version: pass-rate spread, paired McNemar tests and how alike the failing sets are; exit 1 when the set looks stale");
        command.Options.Add(last);
        command.Options.Add(suite);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var project = ProjectSession.Load(context, parse.GetValue(GlobalOptions.Project)!);
            if (project is null)
            {
                return ExitCodes.CannotRun;
            }

            await using var store = await ProjectSession.OpenStoreForReadingAsync(context, project, cancellationToken).ConfigureAwait(false);
            var version = parse.GetValue(suite) ?? (await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished, Limit: 1), cancellationToken).ConfigureAwait(false)).FirstOrDefault()?.SuiteVersion;
            var runs = (version is null ? [] : await store.QueryRunsAsync(new RunQuery(Statuses: RunQuery.Finished, SuiteVersion: version), cancellationToken).ConfigureAwait(false)).GroupBy(r => r.Target).Select(g => g.First()).Take(Math.Max(2, parse.GetValue(last))).ToList();
            if (runs.Count < 2)
            {
                context.Error.MarkupLine($"[red]error[/]: staleness needs completed runs of at least two targets on one suite version; {(version is null ? "there is none" : $"suite {version} has {runs.Count}")}.");
                return ExitCodes.CannotRun;
            }

            var loaded = new List<(RunInfo, IReadOnlyList<RunCaseRecord>)>();
            foreach (var run in runs)
            {
                loaded.Add((run, await store.GetRunCasesAsync(run.Id, cancellationToken).ConfigureAwait(false)));
            }

            var report = StalenessAnalyzer.Analyze(version!, loaded);
            var rates = new Table().Border(TableBorder.Simple).Title($"Suite {Markup.Escape(version!)}");
            rates.AddColumns("target", "run", "pass rate", "95% CI");
            foreach (var (run, rate) in report.Runs.Zip(report.Rates))
            {
                rates.AddRow(Markup.Escape(run.Target), Markup.Escape(run.Id), RunReportTables.Percent(rate.PassRate), RunReportTables.Interval(rate.Lower, rate.Upper));
            }

            context.Out.Write(rates);
            var pairs = new Table().Border(TableBorder.Simple);
            pairs.AddColumns("pair", "shared cases", "difference", "newly failing", "newly passing", "McNemar p", "failing-set Jaccard");
            foreach (var pair in report.Pairs)
            {
                pairs.AddRow(
                    Markup.Escape($"{Target(report, pair.First)} → {Target(report, pair.Second)}"),
                    RunReportTables.Count(pair.SharedCases),
                    RunReportTables.Points(pair.SecondRate - pair.FirstRate),
                    RunReportTables.Count(pair.Test.NewlyFailing),
                    RunReportTables.Count(pair.Test.NewlyPassing),
                    RunReportTables.PValue(pair.Test.PValue),
                    pair.FailingJaccard.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture));
            }

            context.Out.Write(pairs);
            context.Out.MarkupLine(report.Stale
                ? $"[red]Stale[/]: pass rates within {RunReportTables.Points(report.Spread)} across {report.Runs.Count} targets, no pair significantly different, and the same cases fail every time (mean Jaccard {report.MeanJaccard:0.00}). The set no longer tells these systems apart: refresh it from recent traffic ([blue]recal sample --pool shadow[/]) and retire what every target passes."
                : $"Not stale: spread {RunReportTables.Points(report.Spread)}, {report.Pairs.Count(p => p.Test.PValue < 0.05)} of {report.Pairs.Count} pair(s) significantly different, mean failing-set Jaccard {report.MeanJaccard:0.00}{(report.Runs.Count < 3 ? " (three or more targets are needed to call a set stale)" : string.Empty)}.");
            return report.Stale ? ExitCodes.Findings : ExitCodes.Ok;
        });
        return command;
    }

    private static string Target(StalenessReport report, string runId) => report.Runs.First(r => r.Id == runId).Target;
}
