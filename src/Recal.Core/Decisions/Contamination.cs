using System.Text.Json.Nodes;
using Recal.Domain;
using Recal.Running;
using Recal.Storage;

namespace Recal.Decisions;

/// <summary>How often one gold case has been looked at: runs, targets and target configurations evaluated on it.</summary>
/// <param name="Configurations">Distinct target configurations (model, prompt version, parameters) evaluated on it since it entered gold.</param>
/// <param name="ConfigurationsSinceRotation">... since the last rotation.</param>
public sealed record CaseExposure(string CaseId, int Runs, int Targets, int Configurations, int RunsSinceRotation, int ConfigurationsSinceRotation);

/// <summary>
/// The gold set's exposure since the last rotation and what it can cost (docs/gates.md#contamination-risk): when k
/// configurations are tried on the same n cases and the best is kept, the best one's gold score overstates it by the
/// expected maximum of k noises even if all are equally good.
/// </summary>
/// <param name="Since">The last rotation (or the holdout's sealing); null when none is recorded and every run counts.</param>
/// <param name="Configurations">Distinct target configurations evaluated on gold since then: the k of the estimate.</param>
/// <param name="SelectionBias">√(p(1−p)/n) · E[max of k standard normals]: how far above its true rate the best of k equally good configurations reads on gold from noise alone.</param>
/// <param name="MostExposed">The gold cases evaluated against the most configurations since the last rotation, most first (at most 10).</param>
public sealed record ContaminationEstimate(
    int GoldCases,
    DateTimeOffset? Since,
    int Runs,
    int Targets,
    int Configurations,
    double MeanConfigurationsPerCase,
    double PassRate,
    double SelectionBias,
    IReadOnlyList<CaseExposure> MostExposed);

/// <summary>Counts gold cases' exposure from the stored runs and estimates the selection bias it allows.</summary>
public static class Contamination
{
    /// <summary>
    /// Exposure of the project's gold cases: every stored run with a gold result counts, but a regrade (same outputs,
    /// re-scored) adds no configuration. Exposure since a case entered gold starts at its <c>added</c> date.
    /// </summary>
    /// <param name="passRate">The gold pass rate the noise is taken at; null: 0.5, the largest noise.</param>
    public static async Task<ContaminationEstimate?> EstimateAsync(EvalProject project, IRecalStore store, DateTimeOffset? lastRotation, double? passRate = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        var gold = project.Cases.Where(c => c.Pool == Pool.Gold).ToDictionary(c => c.Id, StringComparer.Ordinal);
        if (gold.Count == 0)
        {
            return null;
        }

        var runs = (await store.ListRunsAsync(int.MaxValue, cancellationToken).ConfigureAwait(false)).ToDictionary(r => r.Id, StringComparer.Ordinal);
        var exposures = new Dictionary<string, List<RunInfo>>(StringComparer.Ordinal);
        foreach (var (runId, caseId) in await store.GetPoolResultIdsAsync("gold", cancellationToken).ConfigureAwait(false))
        {
            if (gold.TryGetValue(caseId, out var evalCase) && runs.TryGetValue(runId, out var run) && run.Started >= Day(evalCase.Added))
            {
                if (!exposures.TryGetValue(caseId, out var list))
                {
                    exposures[caseId] = list = [];
                }

                list.Add(run);
            }
        }

        var cases = gold.Keys.Select(id =>
        {
            var seen = exposures.GetValueOrDefault(id) ?? [];
            var recent = seen.Where(r => lastRotation is null || r.Started >= lastRotation).ToList();
            return new CaseExposure(id, seen.Count, seen.Select(r => r.Target).Distinct(StringComparer.Ordinal).Count(), Configurations(seen).Count, recent.Count, Configurations(recent).Count);
        }).ToList();
        var sinceRotation = exposures.Values.SelectMany(l => l).Where(r => lastRotation is null || r.Started >= lastRotation).DistinctBy(r => r.Id).ToList();
        var k = Configurations(sinceRotation).Count;
        var p = passRate is { } rate && double.IsFinite(rate) ? rate : 0.5;
        var bias = k <= 1 ? 0 : Math.Sqrt(p * (1 - p) / gold.Count) * ExpectedMaximum(k);
        return new ContaminationEstimate(
            gold.Count,
            lastRotation,
            sinceRotation.Count,
            sinceRotation.Select(r => r.Target).Distinct(StringComparer.Ordinal).Count(),
            k,
            cases.Average(c => (double)c.ConfigurationsSinceRotation),
            p,
            bias,
            [.. cases.Where(c => c.ConfigurationsSinceRotation > 0).OrderByDescending(c => c.ConfigurationsSinceRotation).ThenByDescending(c => c.RunsSinceRotation).ThenBy(c => c.CaseId, StringComparer.Ordinal).Take(10)]);
    }

    /// <summary>The report with the gold set's exposure when the run scored gold (its bias at a pass rate of 50%, the noisiest: a bound).</summary>
    public static async Task<RunReport> AttachAsync(RunReport report, EvalProject project, IRecalStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (!report.Segments.Any(s => s.Dimension == "pool" && s.Value == "gold"))
        {
            return report;
        }

        var (_, lastRotation) = Lifecycle.LifecycleRules.Schedule(project);
        return report with { Contamination = await EstimateAsync(project, store, lastRotation, cancellationToken: cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>The gold set's exposure and its selection bias in a line, next to the gold − holdout gap when there is one.</summary>
    public static string Describe(ContaminationEstimate exposure, PoolGap? holdout = null)
    {
        ArgumentNullException.ThrowIfNull(exposure);
        var since = exposure.Since is { } day ? $"since the last rotation ({day.UtcDateTime:yyyy-MM-dd})" : "since the set began (no rotation recorded)";
        var text = $"{Text.Figures.Count(exposure.Configurations)} target configuration(s) of {Text.Figures.Count(exposure.Targets)} target(s) evaluated on the {Text.Figures.Count(exposure.GoldCases)} gold cases in {Text.Figures.Count(exposure.Runs)} run(s) {since}, {exposure.MeanConfigurationsPerCase.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)} per case";
        text += exposure.Configurations <= 1
            ? "; no choice among configurations yet, so no selection bias"
            : $"; keeping the best of them can read up to {Text.Figures.Points(exposure.SelectionBias)} above its true rate from noise alone (at a pass rate of {Text.Figures.Percent(exposure.PassRate)})";
        return holdout is null || !double.IsFinite(holdout.Difference) ? text : text + $" (gold − holdout: {Text.Figures.Points(holdout.Difference)})";
    }

    /// <summary>
    /// E[max of k independent standard normals] = ∫ x · k φ(x) Φ(x)^(k−1) dx, by Simpson's rule on [−12, 12] (4,000
    /// intervals; the integrand is negligible beyond): 0 for k = 1, 1/√π for k = 2.
    /// </summary>
    public static double ExpectedMaximum(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (k == 1)
        {
            return 0;
        }

        const int intervals = 4000;
        const double from = -12, to = 12;
        var h = (to - from) / intervals;
        double F(double x) => x * k * MathNet.Numerics.Distributions.Normal.PDF(0, 1, x) * Math.Pow(MathNet.Numerics.Distributions.Normal.CDF(0, 1, x), k - 1);
        var sum = F(from) + F(to);
        for (var i = 1; i < intervals; i++)
        {
            sum += (i % 2 == 1 ? 4 : 2) * F(from + (i * h));
        }

        return sum * h / 3;
    }

    /// <summary>The distinct target configurations among runs; a regrade re-scores its source's outputs and is not one.</summary>
    private static HashSet<string> Configurations(IEnumerable<RunInfo> runs)
    {
        var configurations = new HashSet<string>(StringComparer.Ordinal);
        foreach (var run in runs)
        {
            if (JsonNode.Parse(run.TargetJson) is JsonObject json && json.ContainsKey("regrade_of"))
            {
                continue;
            }

            configurations.Add(run.Target + "\n" + run.TargetJson);
        }

        return configurations;
    }

    private static DateTimeOffset Day(DateOnly day) => new(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
}
