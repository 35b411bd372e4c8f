using System.Globalization;
using Recal.Drift;
using Spectre.Console;

namespace Recal.Reporting.Terminal;

/// <summary>Renders an embedding-coverage report for the terminal.</summary>
public static class CoverageConsoleRenderer
{
    /// <summary>How many strata the table lists, worst covered first (the JSON report has them all).</summary>
    public const int TopStrata = 20;

    public static void Render(IAnsiConsole console, CoverageReport report)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(report);
        console.MarkupLine(
            $"[bold]{Markup.Escape(report.Project)}[/] · suite [blue]{Markup.Escape(report.SuiteVersion)}[/] · policy v{report.PolicyVersion} · " +
            $"{report.EvalCases:N0} eval cases ({Markup.Escape(string.Join(", ", report.Pools))}) · embedder [blue]{Markup.Escape(report.Embedder)}[/] ({report.Dimensions} dimensions)");

        var overall = report.Overall;
        var measured = overall.Estimator == CoverageEstimator.Census
            ? "all measured"
            : $"a stratified random sample of {overall.Measured:N0} measured (seed {report.Seed})";
        console.MarkupLine($"[bold]Window[/] {Day(report.From)} → {Day(report.To)}: {report.Traces:N0} traces, {measured}");
        console.MarkupLine(RadiusLine(report.Radius));
        console.WriteLine();

        var interval = overall.Estimator == CoverageEstimator.Census ? "Wilson" : "stratified estimator";
        console.MarkupLine(
            $"[bold]Coverage[/]: {Pct(overall.Share)} ({Pct(overall.Lower)}–{Pct(overall.Upper)}, {report.Confidence:0%} {interval}) of traffic has an eval case within r; " +
            $"[bold]{Pct(1 - overall.Share)}[/] has none.");

        var table = new Table().Border(TableBorder.Simple)
            .Title($"Strata, worst covered first: {Math.Min(TopStrata, report.Strata.Count)} of {report.Strata.Count}");
        table.AddColumns("stratum", "traffic", "traffic share", "eval cases", "measured", "covered", $"{report.Confidence:0%} interval", "median sim");
        foreach (var column in table.Columns.Skip(1))
        {
            column.RightAligned();
        }

        foreach (var s in report.Strata.Take(TopStrata))
        {
            var covered = Pct(s.CoveredShare);
            table.AddRow(
                Markup.Escape(s.Stratum),
                s.TrafficCount.ToString("N0", CultureInfo.InvariantCulture),
                Pct(s.TrafficShare),
                s.EvalCases == 0 ? "[red]0[/]" : s.EvalCases.ToString("N0", CultureInfo.InvariantCulture),
                s.Measured.ToString("N0", CultureInfo.InvariantCulture),
                s.CoveredShare < overall.Lower ? $"[red]{covered}[/]" : covered,
                $"{Pct(s.Lower)}–{Pct(s.Upper)}",
                s.MedianSimilarity.ToString("0.000", CultureInfo.InvariantCulture));
        }

        console.Write(table);
    }

    /// <summary>The radius, where it came from and how well it separates on the eval set, in plain words.</summary>
    public static string RadiusLine(RadiusCalibration radius)
    {
        ArgumentNullException.ThrowIfNull(radius);
        var r = radius.Radius.ToString("0.000", CultureInfo.InvariantCulture);
        var origin = radius.Source == RadiusSource.Given
            ? $"[bold]Radius[/] r = {r} (given with --radius)"
            : $"[bold]Radius[/] r = {r}: the {Ordinal(radius.Percentile!.Value)} percentile of each eval case's similarity to its nearest case of another intent " +
              $"({radius.Cases:N0} cases, {radius.Intents:N0} intents)";
        var separation = new List<string>();
        if (radius.OtherIntentWithin is { } other)
        {
            separation.Add($"a query of an intent the set lacks counts as covered about {Pct(other)} of the time");
        }

        if (radius.SameIntentWithin is { } same)
        {
            separation.Add($"a case's nearest other case of its own intent is within r {Pct(same)} of the time");
        }

        return origin + ". A trace is covered when its nearest eval case has cosine similarity ≥ r" +
            (separation.Count == 0 ? "." : "; on the eval set, " + string.Join(", and ", separation) + ".");
    }

    private static string Ordinal(double percentile)
    {
        var text = percentile.ToString("0.##", CultureInfo.InvariantCulture);
        if (percentile != Math.Floor(percentile))
        {
            return text + "th";
        }

        var n = (int)percentile;
        return text + ((n % 100) is 11 or 12 or 13 ? "th" : (n % 10) switch { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" });
    }

    private static string Pct(double value) => value.ToString("0.0%", CultureInfo.InvariantCulture);

    private static string Day(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
