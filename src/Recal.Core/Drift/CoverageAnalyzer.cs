using System.Buffers.Binary;
using System.Globalization;
using System.Numerics.Tensors;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Embeddings;
using Recal.Lifecycle;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>The coverage report, or why there is none (an empty store, an empty window, no case to cover with).</summary>
/// <param name="BlindSpots">The traces and vectors of each listed blind spot, to draw drafts from.</param>
public sealed record CoverageOutcome(CoverageReport? Report, string? Problem, IReadOnlyList<BlindSpotMembers>? BlindSpots = null);

/// <summary>
/// The embedding-coverage gap instrument: the share of a traffic window, overall and per stratum, whose nearest eval
/// case lies within a similarity radius, the radius calibrated from the eval set itself (docs/embeddings.md).
/// </summary>
public static class CoverageAnalyzer
{
    /// <summary>
    /// In a sampled window every stratum gets at least this many traces (or all it has), so each has its own figure,
    /// unless the strata are too many for the sample size.
    /// </summary>
    public const int MinPerStratum = 30;

    public static async ValueTask<CoverageOutcome> AnalyzeAsync(
        EvalProject project,
        string suiteVersion,
        IRecalStore store,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderId,
        CoverageRequest request,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Percentile is < 0 or > 100 || double.IsNaN(request.Percentile))
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Percentile, "the percentile lies between 0 and 100");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(request.MaxTraces, 1);
        if (request.Clusters is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(request), request.Clusters, "at least one cluster");
        }

        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is null)
        {
            return new(null, "the store holds no traffic yet");
        }

        var to = request.To ?? span.Last.AddMilliseconds(1);
        var from = request.From ?? to - project.Policy.TrafficWindow;
        var pools = request.EffectivePools;
        var poolNames = pools.Select(p => p.ToString().ToLowerInvariant()).ToList();
        var cases = project.Cases.Where(c => pools.Contains(c.Pool)).ToList();
        if (cases.Count == 0)
        {
            return new(null, $"the pool(s) {string.Join(", ", poolNames)} hold no case to cover traffic with");
        }

        // A case's own source trace is trivially covered: counting it would make the weeks a set was drawn from look
        // better covered than any later week (docs/embeddings.md#what-is-measured).
        var sources = cases.Select(c => c.Provenance.TraceId).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var traffic = await MeasuredTrafficAsync(project.Policy, store, from, to, request, sources, cancellationToken).ConfigureAwait(false);
        if (traffic.Population.Count == 0)
        {
            return new(null, string.Create(CultureInfo.InvariantCulture, $"no traffic between {from:yyyy-MM-dd HH:mm} and {to:yyyy-MM-dd HH:mm} UTC"));
        }

        // One request for every distinct text: the cache (when there is one) answers what it has seen before.
        var caseTexts = cases.Select(c => c.Input.ClassificationText).ToList();
        var anchors = request.Anchors ?? [];
        var (embedded, problem) = await EmbeddedTexts.EmbedAsync(caseTexts.Concat(anchors).Concat(traffic.Measured.Select(m => m.Text)), embedder, embedderId, cancellationToken).ConfigureAwait(false);
        if (embedded is null)
        {
            return new(null, problem);
        }

        var dimensions = embedded.Dimensions;
        var caseVectors = embedded.Matrix(caseTexts);
        var radius = Calibrate(cases, caseVectors, dimensions, request.Percentile, request.Radius);
        if (radius is null)
        {
            return new(null, "the radius cannot be calibrated: the pool(s) hold cases of a single intent; give one with --radius");
        }

        var trafficVectors = embedded.Matrix([.. traffic.Measured.Select(m => m.Text)]);
        var (_, similarity) = new NearestNeighbourIndex(caseVectors, dimensions).Search(trafficVectors);
        var report = Summarise(project, suiteVersion, poolNames, cases, embedderId, dimensions, from, to, request, radius, traffic, similarity);

        // A sampled trace stands for its stratum's traffic over its sample size.
        var sampled = traffic.Measured.GroupBy(m => m.Stratum, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var weights = traffic.Measured.Select(m => traffic.Sampled ? (double)traffic.Population[m.Stratum] / sampled[m.Stratum] : 1).ToList();
        if (request.Anchors is not null)
        {
            var nearest = (float[])similarity.Clone();
            if (anchors.Count > 0)
            {
                var (_, toAnchors) = new NearestNeighbourIndex(embedded.Matrix(anchors), dimensions).Search(trafficVectors);
                for (var i = 0; i < nearest.Length; i++)
                {
                    nearest[i] = Math.Max(nearest[i], toAnchors[i]);
                }
            }

            report = report with { Novelty = new NoveltyScores(nearest, weights) };
        }

        if (!request.BlindSpots)
        {
            return new(report, null);
        }

        var (blindSpots, members) = BlindSpotFinder.Find(
            traffic.Measured, weights, trafficVectors, dimensions, similarity, radius.Radius, from, to, report.Traces, request.Clusters, request.Seed);
        return new(report with { BlindSpots = blindSpots }, null, members);
    }

    /// <summary>
    /// The radius and how well it separates, from the eval set alone by leaving each case's intent out. For every
    /// case: its cosine similarity to the nearest case of another intent (how close a query of an intent the set lacks
    /// gets to the set) and, when its intent has another case, to the nearest of those (how close a query the set covers
    /// gets). The calibrated radius is the <paramref name="percentile"/>-th percentile (linear interpolation between order
    /// statistics, as NumPy's default) of the other-intent similarities, so about (100 − percentile)% of queries of an
    /// intent the set lacks would count as covered; the same-intent share within it says how much of what the set
    /// does cover this embedder recognises. Null when the cases span fewer than two intents.
    /// </summary>
    /// <param name="given">A radius to use instead of the calibrated one (its shares are still measured).</param>
    public static RadiusCalibration? Calibrate(IReadOnlyList<EvalCase> cases, float[] vectors, int dimensions, double percentile, double? given = null)
    {
        ArgumentNullException.ThrowIfNull(cases);
        ArgumentNullException.ThrowIfNull(vectors);
        var same = new List<double>();
        var other = new List<double>();
        for (var i = 0; i < cases.Count; i++)
        {
            double nearestSame = double.NegativeInfinity, nearestOther = double.NegativeInfinity;
            var vector = vectors.AsSpan(i * dimensions, dimensions);
            for (var j = 0; j < cases.Count; j++)
            {
                if (j == i)
                {
                    continue;
                }

                double similarity = TensorPrimitives.Dot(vector, vectors.AsSpan(j * dimensions, dimensions));
                if (string.Equals(cases[i].Intent, cases[j].Intent, StringComparison.Ordinal))
                {
                    nearestSame = Math.Max(nearestSame, similarity);
                }
                else
                {
                    nearestOther = Math.Max(nearestOther, similarity);
                }
            }

            if (!double.IsNegativeInfinity(nearestSame))
            {
                same.Add(nearestSame);
            }

            if (!double.IsNegativeInfinity(nearestOther))
            {
                other.Add(nearestOther);
            }
        }

        if (other.Count == 0)
        {
            return given is { } r ? new RadiusCalibration(r, RadiusSource.Given, null, cases.Count, 1, null, null) : null;
        }

        other.Sort();
        var radius = given ?? Percentile(other, percentile);
        var intents = cases.Select(c => c.Intent).Distinct(StringComparer.Ordinal).Count();
        return new RadiusCalibration(
            radius,
            given is null ? RadiusSource.Calibrated : RadiusSource.Given,
            given is null ? percentile : null,
            cases.Count,
            intents,
            same.Count == 0 ? null : same.Count(s => s >= radius) / (double)same.Count,
            other.Count(s => s >= radius) / (double)other.Count);
    }

    /// <summary>The <paramref name="percentile"/>-th percentile of sorted values, interpolating linearly between order statistics.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double percentile)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var position = (sorted.Count - 1) * percentile / 100;
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
    }

    /// <summary>
    /// Every trace of the window, or, past <see cref="CoverageRequest.MaxTraces"/>, a stratified random sample of it:
    /// each stratum's part proportional to its traffic (at least <see cref="MinPerStratum"/> or all it has), chosen by
    /// a seeded hash of the trace key, so the sample does not depend on the order traces are read in.
    /// </summary>
    private static async ValueTask<WindowTraffic> MeasuredTrafficAsync(
        SamplingPolicy policy, IRecalStore store, DateTimeOffset from, DateTimeOffset to, CoverageRequest request, HashSet<string> sources, CancellationToken cancellationToken)
    {
        var by = policy.Strata.By;
        var population = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var count in await store.CountTrafficAsync(new TrafficQuery(from, to), cancellationToken).ConfigureAwait(false))
        {
            var stratum = Sampler.StratumOf(by, count.Intent, count.CohortKey);
            population[stratum] = population.GetValueOrDefault(stratum) + count.Count;
        }

        var total = population.Values.Sum();
        if (total <= request.MaxTraces)
        {
            var all = new List<MeasuredTrace>();
            var seen = new Dictionary<string, long>(StringComparer.Ordinal);
            await store.ScanTracesAsync(from, to, trace =>
            {
                if (trace.Trace.Id is { } id && sources.Contains(id))
                {
                    return;
                }

                var stratum = Sampler.StratumOf(by, trace.Intent, trace.CohortKey);
                all.Add(Measure(trace, stratum));
                seen[stratum] = seen.GetValueOrDefault(stratum) + 1;
            }, cancellationToken).ConfigureAwait(false);
            return new WindowTraffic(seen, all, Sampled: false);
        }

        var quota = Allocate(population, request.MaxTraces);

        // Per stratum, a max-queue on priority keeps the quota's lowest priorities seen so far.
        var kept = new Dictionary<string, PriorityQueue<MeasuredTrace, ulong>>(StringComparer.Ordinal);
        await store.ScanTracesAsync(from, to, trace =>
        {
            if (trace.Trace.Id is { } id && sources.Contains(id))
            {
                return;
            }

            var stratum = Sampler.StratumOf(by, trace.Intent, trace.CohortKey);
            if (!quota.TryGetValue(stratum, out var size))
            {
                return;
            }

            if (!kept.TryGetValue(stratum, out var queue))
            {
                kept[stratum] = queue = new PriorityQueue<MeasuredTrace, ulong>(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
            }

            var priority = Priority(request.Seed, trace.Key);
            if (queue.Count < size)
            {
                queue.Enqueue(Measure(trace, stratum), priority);
            }
            else if (queue.TryPeek(out _, out var worst) && priority < worst)
            {
                queue.DequeueEnqueue(Measure(trace, stratum), priority);
            }
        }, cancellationToken).ConfigureAwait(false);

        var measured = new List<MeasuredTrace>();
        foreach (var (_, queue) in kept.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var items = new List<(MeasuredTrace Item, ulong Priority)>();
            while (queue.TryDequeue(out var item, out var priority))
            {
                items.Add((item, priority));
            }

            measured.AddRange(items.OrderBy(i => i.Priority).ThenBy(i => i.Item.Key, StringComparer.Ordinal).Select(i => i.Item));
        }

        return new WindowTraffic(population, measured, Sampled: true);
    }

    /// <summary>
    /// Proportional allocation of <paramref name="size"/> traces over the strata, with a floor of
    /// <see cref="MinPerStratum"/> (or all a stratum has; less when the strata are so many that the floors would
    /// exceed the budget, never less than one) taken out of the budget first, so the sample holds about
    /// <paramref name="size"/> traces.
    /// </summary>
    internal static Dictionary<string, int> Allocate(IReadOnlyDictionary<string, long> population, int size)
    {
        var quota = new Dictionary<string, int>(StringComparer.Ordinal);
        var free = population.Where(kv => kv.Value > 0).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
        var minimum = Math.Max(1, Math.Min(MinPerStratum, size / Math.Max(1, free.Count)));
        double budget = size;
        bool floored;
        do
        {
            floored = false;
            var freeTotal = free.Sum(h => population[h]);
            foreach (var stratum in free.ToList())
            {
                var floor = (int)Math.Min(minimum, population[stratum]);
                if (budget <= 0 || budget * population[stratum] / freeTotal < floor)
                {
                    quota[stratum] = floor;
                    budget -= floor;
                    free.Remove(stratum);
                    floored = true;
                }
            }
        }
        while (floored && free.Count > 0);

        var remaining = free.Sum(h => population[h]);
        foreach (var stratum in free)
        {
            quota[stratum] = (int)Math.Min(population[stratum], Math.Round(budget * population[stratum] / remaining, MidpointRounding.AwayFromZero));
        }

        return quota;
    }

    private static CoverageReport Summarise(
        EvalProject project,
        string suiteVersion,
        IReadOnlyList<string> pools,
        IReadOnlyList<EvalCase> cases,
        string embedderId,
        int dimensions,
        DateTimeOffset from,
        DateTimeOffset to,
        CoverageRequest request,
        RadiusCalibration radius,
        WindowTraffic traffic,
        float[] similarity)
    {
        var total = traffic.Population.Values.Sum();
        var caseCounts = cases.GroupBy(c => LifecycleRules.StratumOf(project.Policy, c), StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        var strata = new List<CoverageStratum>();
        foreach (var group in Enumerable.Range(0, traffic.Measured.Count).GroupBy(i => traffic.Measured[i].Stratum, StringComparer.Ordinal))
        {
            // Rounding can put a unit vector's similarity to itself a hair above 1.
            var similarities = group.Select(i => Math.Clamp((double)similarity[i], -1, 1)).Order().ToList();
            var covered = similarities.Count(s => s >= radius.Radius);
            var (lower, upper) = Proportion.WilsonInterval(covered, similarities.Count, request.Confidence);
            var population = traffic.Population.GetValueOrDefault(group.Key);
            strata.Add(new CoverageStratum(
                group.Key,
                population,
                (double)population / total,
                caseCounts.GetValueOrDefault(group.Key),
                similarities.Count,
                covered,
                (double)covered / similarities.Count,
                lower,
                upper,
                Percentile(similarities, 50)));
        }

        strata.Sort((a, b) => a.CoveredShare != b.CoveredShare ? a.CoveredShare.CompareTo(b.CoveredShare)
            : a.TrafficCount != b.TrafficCount ? b.TrafficCount.CompareTo(a.TrafficCount)
            : string.CompareOrdinal(a.Stratum, b.Stratum));

        var measured = strata.Sum(s => s.Measured);
        var coveredTotal = strata.Sum(s => s.Covered);
        CoverageEstimate overall;
        if (traffic.Sampled)
        {
            // The window's strata are known exactly: weigh each stratum's sampled share by its traffic.
            var estimate = PostStratification.Estimate([.. strata.Select(s => new StratumResult(s.Covered, s.Measured, s.TrafficCount))], request.Confidence);
            overall = new CoverageEstimate(estimate.Estimate, estimate.Lower, estimate.Upper, measured, coveredTotal, CoverageEstimator.Stratified);
        }
        else
        {
            var (lower, upper) = Proportion.WilsonInterval(coveredTotal, measured, request.Confidence);
            overall = new CoverageEstimate((double)coveredTotal / measured, lower, upper, measured, coveredTotal, CoverageEstimator.Census);
        }

        return new CoverageReport(
            CoverageReport.CurrentFormatVersion,
            project.Settings.Name,
            suiteVersion,
            project.Policy.Version,
            pools,
            cases.Count,
            embedderId,
            dimensions,
            from,
            to,
            total,
            request.Seed,
            request.Confidence,
            radius,
            overall,
            strata);
    }

    private static MeasuredTrace Measure(ClassifiedTrace trace, string stratum) =>
        new(trace.Key, trace.Trace.Id, stratum, trace.Trace.Input.ClassificationText, trace.Trace.Timestamp);

    private static ulong Priority(int seed, string key) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{seed}\u001f{key}"))));

    /// <summary>The window's traffic per stratum and the traces measured (all of them, or the sample).</summary>
    private sealed record WindowTraffic(IReadOnlyDictionary<string, long> Population, IReadOnlyList<MeasuredTrace> Measured, bool Sampled);
}
