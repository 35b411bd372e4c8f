namespace Recal.Drift;

/// <summary>Where the radius came from.</summary>
public enum RadiusSource
{
    /// <summary>A percentile of the eval cases' similarities to their nearest case of another intent.</summary>
    Calibrated,

    /// <summary>Given by the caller (<c>--radius</c>).</summary>
    Given,
}

/// <summary>How the overall coverage and its interval were estimated.</summary>
public enum CoverageEstimator
{
    /// <summary>Every trace of the window was measured: covered / traces, with a Wilson interval.</summary>
    Census,

    /// <summary>A stratified random sample was measured: the stratified estimator with a normal interval.</summary>
    Stratified,
}

/// <summary>The radius, how it was obtained, and how well it separates on the eval set itself.</summary>
/// <param name="Radius">A trace is covered when its nearest eval case has at least this cosine similarity.</param>
/// <param name="Percentile">The percentile of the cases' other-intent nearest similarities taken (calibrated radius only).</param>
/// <param name="Cases">Eval cases the calibration looked at.</param>
/// <param name="Intents">Their distinct intents.</param>
/// <param name="SameIntentWithin">
/// Share of cases (of intents with two or more) whose nearest other case of their own intent lies within the radius:
/// how often this embedder sees a query the set covers as covered. Null when no intent has two cases.
/// </param>
/// <param name="OtherIntentWithin">
/// Share of cases whose nearest case of another intent lies within the radius: how often a query of an intent the set
/// lacks would count as covered. Null when the cases span one intent.
/// </param>
public sealed record RadiusCalibration(double Radius, RadiusSource Source, double? Percentile, int Cases, int Intents, double? SameIntentWithin, double? OtherIntentWithin);

/// <summary>The share of the window's traffic whose nearest eval case is within the radius.</summary>
/// <param name="Share">The estimate.</param>
/// <param name="Measured">Traces measured (all of the window, or the sample).</param>
/// <param name="Covered">Measured traces within the radius.</param>
public sealed record CoverageEstimate(double Share, double Lower, double Upper, long Measured, long Covered, CoverageEstimator Estimator);

/// <summary>One stratum's coverage.</summary>
/// <param name="TrafficCount">Traces of the stratum in the window.</param>
/// <param name="TrafficShare">Its share of the window's traffic.</param>
/// <param name="EvalCases">Eval cases in the stratum.</param>
/// <param name="Measured">Traces of the stratum measured (all, or its part of the sample).</param>
/// <param name="Covered">Measured traces within the radius.</param>
/// <param name="CoveredShare">Covered / measured, with a Wilson interval.</param>
/// <param name="MedianSimilarity">Median similarity of the measured traces to their nearest eval case.</param>
public sealed record CoverageStratum(
    string Stratum,
    long TrafficCount,
    double TrafficShare,
    long EvalCases,
    long Measured,
    long Covered,
    double CoveredShare,
    double Lower,
    double Upper,
    double MedianSimilarity);

/// <summary>The embedding-coverage report: how much of a traffic window the eval set covers, overall and per stratum.</summary>
/// <param name="Embedder">The embedder's id (its model, version and parameters).</param>
/// <param name="Traces">Traces in the window.</param>
/// <param name="Strata">Worst covered first.</param>
/// <param name="BlindSpots">The uncovered traffic, clustered; null when not asked for.</param>
public sealed record CoverageReport(
    int FormatVersion,
    string Project,
    string SuiteVersion,
    int PolicyVersion,
    IReadOnlyList<string> Pools,
    long EvalCases,
    string Embedder,
    int Dimensions,
    DateTimeOffset From,
    DateTimeOffset To,
    long Traces,
    int Seed,
    double Confidence,
    RadiusCalibration Radius,
    CoverageEstimate Overall,
    IReadOnlyList<CoverageStratum> Strata,
    BlindSpotReport? BlindSpots = null)
{
    /// <summary>The version of the report's JSON format (docs/schemas/coverage-report.schema.json): 2 added the blind spots.</summary>
    public const int CurrentFormatVersion = 2;

    /// <summary>Each measured trace's similarity to its nearest case or anchor, when anchors were given; not written to JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public NoveltyScores? Novelty { get; init; }
}

/// <summary>
/// Each measured trace's cosine similarity to its nearest case or taxonomy example, and the traffic it stands for (1, or
/// its stratum's traffic over its sample size in a sampled window).
/// </summary>
public sealed record NoveltyScores(IReadOnlyList<float> Similarity, IReadOnlyList<double> Weight)
{
    /// <summary>The weighted share of measured traffic below <paramref name="threshold"/>, and the counts a test reads (measured, below).</summary>
    public (double Share, long Measured, long Below) Below(double threshold)
    {
        double weight = 0, below = 0;
        long count = 0;
        for (var i = 0; i < Similarity.Count; i++)
        {
            weight += Weight[i];
            if (Similarity[i] < threshold)
            {
                below += Weight[i];
                count++;
            }
        }

        return (weight == 0 ? 0 : below / weight, Similarity.Count, count);
    }

    /// <summary>The weighted <paramref name="quantile"/> of the similarities (the smallest value with at least that weight at or below it).</summary>
    public double Quantile(double quantile)
    {
        var order = Enumerable.Range(0, Similarity.Count).OrderBy(i => Similarity[i]).ToList();
        var total = Weight.Sum();
        double seen = 0;
        foreach (var i in order)
        {
            seen += Weight[i];
            if (seen >= quantile * total)
            {
                return Similarity[i];
            }
        }

        return order.Count == 0 ? double.NaN : Similarity[order[^1]];
    }
}
