using System.Globalization;
using Recal.Drift;
using Spectre.Console;

namespace Recal.Reporting.Terminal;

/// <summary>Renders an embedding-coverage report for the terminal.</summary>
public static class CoverageConsoleRenderer
{
    /// <summary>How many strata the table lists, worst covered first (the JSON report has them all).</summary>
    public const int TopStrata = 20;

    /// <summary>Representative traces shown per blind spot (the JSON has five).</summary>
    public const int ExamplesShown = 3;

    /// <summary>Characters of a representative trace shown.</summary>
    public const int ExampleChars = 80;

    /// <param name="rows">Strata rows and blind spots shown (null: the top 20 strata and every blind spot; 0: all).</param>
    public static void Render(IAnsiConsole console, CoverageReport report, int? rows = null)
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

        var shown = rows is 0 ? report.Strata.Count : Math.Min(rows ?? TopStrata, report.Strata.Count);
        var table = new FitTable($"Strata, worst covered first: {shown} of {report.Strata.Count}")
            .Column("stratum").Column("traffic", rightAligned: true, priority: 2).Column("traffic share", "traffic %", rightAligned: true)
            .Column("eval cases", "eval", rightAligned: true).Column("measured", rightAligned: true, priority: 3).Column("covered", rightAligned: true)
            .Column($"{report.Confidence:0%} interval", "interval", rightAligned: true, priority: 2).Column("median sim", "sim", rightAligned: true, priority: 3)
            .Limit(shown, "strata");
        foreach (var s in report.Strata)
        {
            var covered = Pct(s.CoveredShare);
            table.Row(
                Markup.Escape(s.Stratum),
                s.TrafficCount.ToString("N0", CultureInfo.InvariantCulture),
                Pct(s.TrafficShare),
                s.EvalCases == 0 ? "[red]0[/]" : s.EvalCases.ToString("N0", CultureInfo.InvariantCulture),
                s.Measured.ToString("N0", CultureInfo.InvariantCulture),
                s.CoveredShare < overall.Lower ? $"[red]{covered}[/]" : covered,
                $"{Pct(s.Lower)}–{Pct(s.Upper)}",
                s.MedianSimilarity.ToString("0.000", CultureInfo.InvariantCulture));
        }

        table.Render(console);
        if (report.BlindSpots is { } blindSpots)
        {
            RenderBlindSpots(console, blindSpots, rows);
        }
    }

    /// <summary>How the uncovered traffic was clustered, then one block per blind spot.</summary>
    /// <param name="rows">At most this many blind spots (null or 0: all); the rest are counted.</param>
    public static void RenderBlindSpots(IAnsiConsole console, BlindSpotReport blindSpots, int? rows = null)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(blindSpots);
        if (blindSpots.Uncovered == 0)
        {
            console.MarkupLine("[bold]Blind spots[/]: none, every measured trace has an eval case within r.");
            return;
        }

        var how = blindSpots.Source switch
        {
            ClusterCountSource.Given => $"k = {blindSpots.K} given with --clusters",
            ClusterCountSource.TooFew => "one cluster: too few traces to compare clusterings",
            _ => $"k = {blindSpots.K}, the highest mean silhouette ({Silhouette(blindSpots)}) of k = 2–{blindSpots.MaxK} on {blindSpots.Sampled:N0} of them",
        };
        var focused = blindSpots.Spots.Count(s => s.Focused);
        console.MarkupLine($"[bold]Blind spots[/]: the {blindSpots.Uncovered:N0} uncovered measured traces in {blindSpots.K} cluster(s) by spherical k-means ({how}).");
        console.MarkupLine(
            $"{focused} focused (a third or more of its traffic shares a distinctive word), then {blindSpots.Spots.Count - focused} loose; each by share of traffic." +
            (blindSpots.SmallClusters == 0 ? string.Empty : $" {blindSpots.SmallClusters} cluster(s) under {blindSpots.MinSize} traces ({blindSpots.SmallClusterTraces:N0} traces) not listed."));
        var shown = rows is > 0 ? Math.Min(rows.Value, blindSpots.Spots.Count) : blindSpots.Spots.Count;
        foreach (var spot in blindSpots.Spots.Take(shown))
        {
            RenderBlindSpot(console, spot);
        }

        if (shown < blindSpots.Spots.Count)
        {
            console.MarkupLine($"[grey]  … {blindSpots.Spots.Count - shown} more blind spot(s) (--rows {blindSpots.Spots.Count} shows them all)[/]");
        }
    }

    /// <summary>One blind spot, compactly: size, share, growth, strata, words and a few traces near its centroid.</summary>
    public static void RenderBlindSpot(IAnsiConsole console, BlindSpot spot)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(spot);
        var size = spot.Traces == spot.Measured ? $"{spot.Traces:N0} traces" : $"about {spot.Traces:N0} traces, {spot.Measured:N0} measured";
        var id = spot.Focused ? $"[bold yellow]#{spot.Id}[/]" : $"[bold grey]#{spot.Id} (loose)[/]";
        console.MarkupLine(
            $"{id} · {size} ({Pct(spot.TrafficShare)} of traffic, {Markup.Escape(Growth(spot))}) · " +
            $"median similarity to its nearest case {spot.MedianNearestCaseSimilarity.ToString("0.000", CultureInfo.InvariantCulture)}");
        console.MarkupLine("   strata: " + Markup.Escape(string.Join(", ", spot.Strata.Select(s => $"{s.Stratum} {Pct(s.Share, "0%")}"))));
        if (spot.Terms.Count > 0)
        {
            console.MarkupLine("   terms: [blue]" + Markup.Escape(string.Join(", ", spot.Terms.Select(t => $"{t.Term} ({Pct(t.BlindSpotShare, "0%")})"))) + "[/]");
        }

        foreach (var example in spot.Examples.Take(ExamplesShown))
        {
            console.MarkupLine($"   e.g. \"{Markup.Escape(Shorten(example.Text))}\"");
        }
    }

    /// <summary>"×2.4 growth", "new in the window's second half", or why there is no figure.</summary>
    public static string Growth(BlindSpot spot)
    {
        ArgumentNullException.ThrowIfNull(spot);
        return spot switch
        {
            { Growth: { } growth } => $"×{growth.ToString("0.0", CultureInfo.InvariantCulture)} growth",
            { FirstHalfShare: 0, SecondHalfShare: > 0 } => "new in the window's second half",
            _ => "growth unknown",
        };
    }

    private static string Silhouette(BlindSpotReport blindSpots) =>
        blindSpots.Silhouettes.Single(s => s.K == blindSpots.K).Silhouette.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Shorten(string text)
    {
        var line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= ExampleChars ? line : line[..(ExampleChars - 1)] + "…";
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

    private static string Pct(double value, string format = "0.0%") => value.ToString(format, CultureInfo.InvariantCulture);

    private static string Day(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
