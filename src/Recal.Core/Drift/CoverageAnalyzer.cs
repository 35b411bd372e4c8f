using System.Globalization;
using System.Numerics.Tensors;
using System.Security.Cryptography;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Embeddings;
using Recal.Ingest;
using Recal.Lifecycle;
using Recal.Statistics;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>The coverage report, or why there is none (an empty store, an empty window, no case to cover with).</summary>
/// <param name="BlindSpots">The traces and vectors of each listed blind spot, to draw drafts from.</param>
/// <param name="Map">With <see cref="CoverageRequest.Map"/>: the traffic and the cases on their first two principal components.</param>
public sealed record CoverageOutcome(CoverageReport? Report, string? Problem, IReadOnlyList<BlindSpotMembers>? BlindSpots = null, CoverageMapModel? Map = null);

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
        CancellationToken cancellationToken = default) =>
        (await AnalyzeWindowsAsync(project, suiteVersion, store, embedder, embedderId, [request], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// Coverage of several windows at once (the gap timeline's weeks, reference and current window), each report the
    /// one <see cref="AnalyzeAsync"/> gives for its request: one pass over the stored traces' heads selects every
    /// window's sample, only the sampled traces' texts are read, and each distinct text of them all is embedded and
    /// searched once (windows overlap, and traffic repeats itself).
    /// </summary>
    public static async ValueTask<IReadOnlyList<CoverageOutcome>> AnalyzeWindowsAsync(
        EvalProject project,
        string suiteVersion,
        IRecalStore store,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderId,
        IReadOnlyList<CoverageRequest> requests,
        CancellationToken cancellationToken = default,
        TrafficCells? cells = null)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(requests);
        foreach (var request in requests)
        {
            Validate(request);
        }

        var outcomes = new CoverageOutcome?[requests.Count];
        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        if (span is null)
        {
            return [.. requests.Select(_ => new CoverageOutcome(null, "the store holds no traffic yet"))];
        }

        var prunedBefore = await store.GetPrunedBeforeAsync(cancellationToken).ConfigureAwait(false);
        var windows = new List<MeasuredWindow>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var to = request.To ?? span.Last.AddMilliseconds(1);
            var from = request.From ?? to - project.Policy.TrafficWindow;
            if (Retention.PrunedNote(prunedBefore, from, to, "coverage", out var whole) is { } pruned)
            {
                // Coverage embeds the traces' texts: a pruned window has none; one partly pruned is measured on what is kept.
                if (whole)
                {
                    outcomes[i] = new(null, pruned);
                    continue;
                }

                from = prunedBefore!.Value;
            }

            var pools = request.EffectivePools;
            var poolNames = pools.Select(p => p.ToString().ToLowerInvariant()).ToList();
            var cases = project.Cases.Where(c => pools.Contains(c.Pool)).ToList();
            if (cases.Count == 0)
            {
                outcomes[i] = new(null, $"the pool(s) {string.Join(", ", poolNames)} hold no case to cover traffic with");
                continue;
            }

            // A case's own source trace is trivially covered: counting it would make the weeks a set was drawn from look
            // better covered than any later week (docs/embeddings.md#what-is-measured).
            var sources = cases.Select(c => c.Provenance.TraceId).OfType<string>().ToHashSet(StringComparer.Ordinal);
            windows.Add(new MeasuredWindow(i, new WindowPlan(from, to, request.MaxTraces, request.Seed, sources), poolNames, cases));
        }

        // The traces' texts are read for blind spots and the map; otherwise a head that carries its text's hash is found in
        // the embedding cache by it, its text read only if the cache lacks it.
        var withTexts = windows.Any(w => requests[w.Index].BlindSpots || requests[w.Index].Map);
        var traffic = await MeasuredTrafficAsync(project.Policy, store, [.. windows.Select(w => w.Plan)], cancellationToken, cells, withTexts).ConfigureAwait(false);
        var measurable = new List<(MeasuredWindow Window, WindowTraffic Traffic)>();
        for (var w = 0; w < windows.Count; w++)
        {
            var (from, to) = (windows[w].Plan.From, windows[w].Plan.To);
            if (traffic[w].Population.Count == 0)
            {
                outcomes[windows[w].Index] = new(null, string.Create(CultureInfo.InvariantCulture, $"no traffic between {from:yyyy-MM-dd HH:mm} and {to:yyyy-MM-dd HH:mm} UTC"));
            }
            else
            {
                measurable.Add((windows[w], traffic[w]));
            }
        }

        if (measurable.Count > 0)
        {
            var (search, problem) = await SharedSearch.BuildAsync([.. measurable.Select(m => (m.Window, m.Traffic, requests[m.Window.Index]))], embedder, embedderId, store, cancellationToken).ConfigureAwait(false);
            // Each window's report depends on its own traffic and seed alone: the windows are summarised side by side.
            Parallel.ForEach(measurable, new ParallelOptions { CancellationToken = cancellationToken }, m =>
                outcomes[m.Window.Index] = search is null
                    ? new(null, problem)
                    : Measure(project, suiteVersion, embedderId, requests[m.Window.Index], m.Window, m.Traffic, search));
        }

        return [.. outcomes.Select(o => o!)];
    }

    private static void Validate(CoverageRequest request)
    {
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
    }

    /// <summary>One window's report from its measured traffic and the similarities searched for every window's texts.</summary>
    private static CoverageOutcome Measure(
        EvalProject project, string suiteVersion, string embedderId, CoverageRequest request, MeasuredWindow window, WindowTraffic traffic, SharedSearch search)
    {
        var (from, to, poolNames, cases) = (window.Plan.From, window.Plan.To, window.PoolNames, window.Cases);
        var dimensions = search.Dimensions;
        var pools = search.Pools(window);
        var radius = pools.Radius(request.Percentile, request.Radius);
        if (radius is null)
        {
            return new(null, "the radius cannot be calibrated: the pool(s) hold cases of a single intent; give one with --radius");
        }

        var rows = search.Rows(traffic.Measured);
        var similarity = search.Similarity(pools, rows);
        var report = Summarise(project, suiteVersion, poolNames, cases, embedderId, dimensions, from, to, request, radius, traffic, similarity);

        // A sampled trace stands for its stratum's traffic over its sample size.
        var sampled = traffic.Measured.GroupBy(m => m.Stratum, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var weights = traffic.Measured.Select(m => traffic.Sampled ? (double)traffic.Population[m.Stratum] / sampled[m.Stratum] : 1).ToList();
        if (request.Anchors is { } anchors)
        {
            var nearest = (float[])similarity.Clone();
            if (anchors.Count > 0)
            {
                var toAnchors = search.AnchorSimilarity(anchors, rows);
                for (var i = 0; i < nearest.Length; i++)
                {
                    nearest[i] = Math.Max(nearest[i], toAnchors[i]);
                }
            }

            report = report with { Novelty = new NoveltyScores(nearest, weights) };
        }

        var map = request.Map ? MapOf(traffic.Measured, search.Vectors(traffic.Measured), similarity, radius.Radius, cases, pools.Vectors, dimensions, request.Seed) : null;
        if (!request.BlindSpots)
        {
            return new(report, null, null, map);
        }

        var (blindSpots, members) = BlindSpotFinder.Find(
            traffic.Measured, weights, search.Vectors(traffic.Measured), dimensions, similarity, radius.Radius, from, to, report.Traces, request.Clusters, request.Seed);
        return new(report with { BlindSpots = blindSpots }, null, members, map);
    }

    /// <summary>A seeded subsample of the measured traffic and every case, on the first two principal components of their vectors together.</summary>
    private static CoverageMapModel? MapOf(IReadOnlyList<MeasuredTrace> measured, float[] vectors, float[] similarity, double radius, IReadOnlyList<EvalCase> cases, float[] caseVectors, int dimensions, int seed)
    {
        var chosen = Enumerable.Range(0, measured.Count).ToArray();
        if (chosen.Length > CoverageProjection.MaxTrafficPoints)
        {
            new Random(seed).Shuffle(chosen);
            chosen = [.. chosen.Take(CoverageProjection.MaxTrafficPoints).Order()];
        }

        var rows = new float[(chosen.Length + cases.Count) * dimensions];
        for (var i = 0; i < chosen.Length; i++)
        {
            Array.Copy(vectors, chosen[i] * dimensions, rows, i * dimensions, dimensions);
        }

        Array.Copy(caseVectors, 0, rows, chosen.Length * dimensions, cases.Count * dimensions);
        if (rows.Length < 2 * dimensions)
        {
            return null;
        }

        var (axes, mean, explained) = CoverageProjection.Fit(rows, dimensions, 2, seed);
        if (axes.Length < 2)
        {
            return null;
        }

        var xy = CoverageProjection.Transform(rows, dimensions, axes, mean);
        static string Label(string text) => text.Length <= 140 ? text : text[..139] + "…";
        var points = new List<MapPoint>(xy.Length);
        for (var i = 0; i < chosen.Length; i++)
        {
            var trace = measured[chosen[i]];
            points.Add(new MapPoint(xy[i][0], xy[i][1], similarity[chosen[i]] >= radius ? MapPointKind.Covered : MapPointKind.Uncovered, trace.ReadKey, Label(trace.ReadText)));
        }

        for (var c = 0; c < cases.Count; c++)
        {
            var row = xy[chosen.Length + c];
            points.Add(new MapPoint(row[0], row[1], MapPointKind.Case, cases[c].Id, Label(cases[c].Input.ClassificationText)));
        }

        return new CoverageMapModel(points, explained, chosen.Length, measured.Count);
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
    /// For each window, every trace of it, or, past its <see cref="WindowPlan.MaxTraces"/>, a stratified random sample of
    /// it: each stratum's part proportional to its traffic (at least <see cref="MinPerStratum"/> or all it has), the
    /// traces of lowest priority, a seeded hash of the trace key, so the sample does not depend on the order traces are
    /// read in. One pass over the heads of the traces of overlapping windows serves them all; a store that chooses each
    /// intent's lowest priorities from an index (<see cref="ITraceStore.ChoosesLowestHeads"/>) chooses a window sampled by
    /// intent under the stored seed itself, the same traces. Then only the texts of the traces kept are read.
    /// </summary>
    /// <summary>The sampled windows' queries a store that chooses the lowest heads answers at once.</summary>
    private const int LowestHeadQueries = 4;

    /// <param name="withTexts">Whether every measured trace's key and text are read; else a head that carries its text's hash is measured without them.</param>
    internal static async ValueTask<IReadOnlyList<WindowTraffic>> MeasuredTrafficAsync(
        SamplingPolicy policy, IRecalStore store, IReadOnlyList<WindowPlan> windows, CancellationToken cancellationToken, TrafficCells? cells = null, bool withTexts = true)
    {
        bool Unread(TraceHead head) => withTexts || head.TextHash == default;
        cells ??= new TrafficCells(store);
        var by = policy.Strata.By;
        // Overlapping windows are counted by the segments between their bounds, each segment once.
        var populations = windows.Select(_ => new Dictionary<string, long>(StringComparer.Ordinal)).ToList();
        foreach (var (from, to, inside) in WindowSegments.Of([.. windows.Select(w => (w.From, w.To))]))
        {
            foreach (var cell in await cells.CountAsync(from, to, cancellationToken).ConfigureAwait(false))
            {
                var stratum = Sampler.StratumOf(by, cell.Intent, cell.CohortKey);
                foreach (var i in inside)
                {
                    populations[i][stratum] = populations[i].GetValueOrDefault(stratum) + cell.Count.Traces;
                }
            }
        }

        var selections = windows.Select((w, i) => new WindowSelection(w, populations[i])).ToArray();
        // One numbering of the strata for every router of this pass: a window's state is indexed by it.
        var strata = new Dictionary<string, Stratum>(StringComparer.Ordinal);
        var router = new HeadRouter(selections, by, strata);
        // A store that reads each intent's lowest priorities from an index chooses the traces of a window sampled by intent
        // itself (under the stored seed): per intent, its quota and as many again as there are sources, which may be left out.
        var byIntent = by.Count == 0 || (by.Count == 1 && string.Equals(by[0], "intent", StringComparison.Ordinal));
        var chosen = store.ChoosesLowestHeads && byIntent && !router.NeedsKeys ? selections.Where(s => s.Sampled).ToHashSet() : [];
        // The windows' queries run side by side (the database answers each on its own connection); each window's heads are
        // then routed to it alone.
        var order = selections.Where(chosen.Contains).ToArray();
        // The window leaves its sources out: each intent's limit is its quota and as many again as the window holds of
        // its sources stored under that intent, so that the quota is left once they are. Only true sources are left out
        // (a head that merely shares a source's priority is kept once its key is read), so these bound the limit exactly.
        var sourceKeys = order.SelectMany(s => s.SourceKeys).ToHashSet(StringComparer.Ordinal);
        var storedSources = sourceKeys.Count == 0 ? [] : await store.FindTracesAsync(sourceKeys, cancellationToken).ConfigureAwait(false);
        // Each window's texts are read as soon as its heads are in, while the other windows' queries run: the store is
        // kept busy instead of waiting for every window's choice. A head two windows share is read by the first to ask.
        var texts = new TextsRead(store);
        await Parallel.ForEachAsync(Enumerable.Range(0, order.Length), new ParallelOptions { MaxDegreeOfParallelism = LowestHeadQueries, CancellationToken = cancellationToken }, async (n, ct) =>
        {
            var selection = order[n];
            var i = Array.IndexOf(selections, selection);
            var (from, to) = (selection.Plan.From, selection.Plan.To);
            var sourcesByIntent = storedSources
                .Where(t => selection.SourceKeys.Contains(t.Key) && t.Trace.Timestamp >= from && t.Trace.Timestamp < to)
                .CountBy(t => t.Intent, StringComparer.Ordinal)
                .ToDictionary(StringComparer.Ordinal);
            var limits = populations[i].Keys.ToDictionary(stratum => stratum, stratum => selection.QuotaOf(stratum) + sourcesByIntent.GetValueOrDefault(stratum), StringComparer.Ordinal);
            var heads = new List<TraceHead>();
            await store.ScanLowestHeadsAsync(selection.Plan.From, selection.Plan.To, limits, heads.Add, ct).ConfigureAwait(false);
            // The window's heads are routed to it alone while the store reads their texts.
            var reading = texts.ReadAsync(heads.Where(Unread), ct).AsTask();
            new HeadRouter([selection], by, strata).Route([.. heads], heads.Count);
            await reading.ConfigureAwait(false);
        }).ConfigureAwait(false);

        if (chosen.Count > 0)
        {
            // The heads pass serves the other windows alone (the censuses, and none else under the stored seed).
            WindowSelection[] scanned = [.. selections.Where(s => !chosen.Contains(s))];
            router = new HeadRouter(scanned, by, strata);
            windows = [.. scanned.Select(s => s.Plan)];
        }

        foreach (var (from, to) in Stretches(windows))
        {
            // Two stages: the store reads heads into one batch while the previous batch is hashed and offered.
            var (filling, spare) = (new TraceHead[HeadRouter.Batch], new TraceHead[HeadRouter.Batch]);
            var count = 0;
            Task? pending = null;
            void HandOff()
            {
                pending?.GetAwaiter().GetResult();
                var (full, length) = (filling, count);
                pending = Task.Run(() => router.Route(full, length), cancellationToken);
                (filling, spare, count) = (spare, full, 0);
            }

            await store.ScanTraceHeadsAsync(from, to, router.NeedsKeys, head =>
            {
                filling[count++] = head;
                if (count == filling.Length)
                {
                    HandOff();
                }
            }, cancellationToken).ConfigureAwait(false);
            HandOff();
            await pending!.ConfigureAwait(false);
        }

        // Heads whose stored priority is a source's were held back: their keys tell a source from a rare collision.
        var suspects = selections.SelectMany(s => s.Suspects).DistinctBy(h => h.Position).ToList();
        if (suspects.Count > 0)
        {
            var keys = await texts.OfAsync(suspects, cancellationToken).ConfigureAwait(false);
            foreach (var selection in selections)
            {
                router.Release(selection, keys);
            }
        }

        // Sized for every window's heads: the overlapping windows share some, so it holds at most this many.
        var kept = new Dictionary<long, TraceHead>(selections.Sum(s => s.HeadCount));
        foreach (var selection in selections)
        {
            selection.CollectHeads(kept);
        }

        var keptTexts = await texts.OfAsync([.. kept.Values.Where(Unread)], cancellationToken).ConfigureAwait(false);
        // Each window's measured traffic reads the texts alone: the windows are assembled side by side.
        var traffic = new WindowTraffic[selections.Length];
        Parallel.For(0, selections.Length, new ParallelOptions { CancellationToken = cancellationToken }, i => traffic[i] = selections[i].Traffic(keptTexts));
        return traffic;
    }

    /// <summary>
    /// The texts of heads read so far, each position read once however many windows or callers ask for it: a window
    /// claims the positions no one asked for under one lock, reads them, and keeps what it read as a part.
    /// </summary>
    private sealed class TextsRead(ITraceStore store)
    {
        private readonly HashSet<long> _asked = [];
        private readonly List<IReadOnlyDictionary<long, TraceText>> _parts = [];

        /// <summary>Reads the texts of the heads no earlier call asked for.</summary>
        public async ValueTask ReadAsync(IEnumerable<TraceHead> heads, CancellationToken cancellationToken)
        {
            var mine = new List<TraceHead>();
            lock (_asked)
            {
                foreach (var head in heads)
                {
                    if (_asked.Add(head.Position))
                    {
                        mine.Add(head);
                    }
                }
            }

            if (mine.Count == 0)
            {
                return;
            }

            var read = await store.GetHeadTextsAsync(mine, cancellationToken).ConfigureAwait(false);
            lock (_parts)
            {
                _parts.Add(read);
            }
        }

        /// <summary>
        /// The texts of every head read so far, these heads' among them (the rest read now; a position no trace holds is
        /// absent).
        /// </summary>
        public async ValueTask<IReadOnlyDictionary<long, TraceText>> OfAsync(IReadOnlyCollection<TraceHead> heads, CancellationToken cancellationToken)
        {
            await ReadAsync(heads, cancellationToken).ConfigureAwait(false);
            lock (_parts)
            {
                if (_parts.Count == 1)
                {
                    return _parts[0];
                }

                var texts = new Dictionary<long, TraceText>(_parts.Sum(p => p.Count));
                foreach (var part in _parts)
                {
                    foreach (var (position, text) in part)
                    {
                        texts[position] = text;
                    }
                }

                _parts.Clear();
                _parts.Add(texts);
                return texts;
            }
        }
    }

    /// <summary>The windows' bounds merged where they overlap or touch: each stretch is read once.</summary>
    private static List<(DateTimeOffset From, DateTimeOffset To)> Stretches(IReadOnlyList<WindowPlan> windows)
    {
        var stretches = new List<(DateTimeOffset From, DateTimeOffset To)>();
        foreach (var window in windows.Where(w => w.From < w.To).OrderBy(w => w.From))
        {
            if (stretches.Count > 0 && window.From <= stretches[^1].To)
            {
                stretches[^1] = (stretches[^1].From, window.To > stretches[^1].To ? window.To : stretches[^1].To);
            }
            else
            {
                stretches.Add((window.From, window.To));
            }
        }

        return stretches;
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

    /// <summary>One window to measure: its bounds, its sample size and seed, and the traces it leaves out (the cases' own).</summary>
    internal sealed record WindowPlan(DateTimeOffset From, DateTimeOffset To, int MaxTraces, int Seed, IReadOnlySet<string> Sources);

    /// <summary>The window's traffic per stratum and the traces measured (all of them, or the sample).</summary>
    internal sealed record WindowTraffic(IReadOnlyDictionary<string, long> Population, IReadOnlyList<MeasuredTrace> Measured, bool Sampled);

    /// <summary>A requested window with cases to cover it: which request it answers, and its pools' cases.</summary>
    private sealed record MeasuredWindow(int Index, WindowPlan Plan, IReadOnlyList<string> PoolNames, IReadOnlyList<EvalCase> Cases);

    /// <summary>
    /// What the windows of one call share: the cases' vectors per pool set (with their index and radii), the anchors',
    /// and each distinct measured text's similarity to its nearest case of each pool set and to its nearest anchor. A
    /// text's similarities do not depend on the window it is measured in (the search treats every query row alike), so
    /// each is searched once; the texts are embedded and searched in chunks, and their vectors dropped after, unless a
    /// window clusters its blind spots.
    /// </summary>
    private sealed class SharedSearch
    {
        /// <summary>Distinct texts embedded and searched at a time (about 16 MB of vectors at 256 dimensions).</summary>
        private const int Chunk = 16_384;

        private readonly Dictionary<string, PoolSearch> _pools;
        private readonly Dictionary<IReadOnlyList<string>, float[]> _anchors;
        private readonly TraceRows _row;
        private readonly EmbeddedTexts? _kept;

        private SharedSearch(int dimensions, Dictionary<string, PoolSearch> pools, Dictionary<IReadOnlyList<string>, float[]> anchors, TraceRows row, EmbeddedTexts? kept)
        {
            Dimensions = dimensions;
            _pools = pools;
            _anchors = anchors;
            _row = row;
            _kept = kept;
        }

        public int Dimensions { get; }

        public static async ValueTask<(SharedSearch? Search, string? Problem)> BuildAsync(
            IReadOnlyList<(MeasuredWindow Window, WindowTraffic Traffic, CoverageRequest Request)> windows,
            IEmbeddingGenerator<string, Embedding<float>> embedder,
            string embedderId,
            ITraceStore store,
            CancellationToken cancellationToken)
        {
            var anchorLists = windows.Select(w => w.Request.Anchors).OfType<IReadOnlyList<string>>().Where(a => a.Count > 0).Distinct(ReferenceEqualityComparer.Instance).Cast<IReadOnlyList<string>>().ToList();
            var rows = new TraceRows();
            var distinct = new List<MeasuredTrace>();
            foreach (var trace in windows.SelectMany(w => w.Traffic.Measured))
            {
                if (rows.TryAdd(trace, distinct.Count))
                {
                    distinct.Add(trace);
                }
            }

            // The cases and anchors go with the first chunk of traffic in one request, as a single window's texts always did.
            var keep = windows.Any(w => w.Request.BlindSpots || w.Request.Map);
            var chunk = keep ? Math.Max(1, distinct.Count) : Chunk;
            var first = distinct.GetRange(0, Math.Min(chunk, distinct.Count));
            var fixedList = windows.SelectMany(w => w.Window.Cases.Select(c => c.Input.ClassificationText)).Concat(anchorLists.SelectMany(a => a)).ToList();
            var (firstMatrix, fixedTexts, problem) = await ChunkAsync(first, fixedList, embedder, embedderId, store, null, cancellationToken).ConfigureAwait(false);
            if (fixedTexts is null)
            {
                return (null, problem);
            }

            var dimensions = fixedTexts.Dimensions;
            var pools = new Dictionary<string, PoolSearch>(StringComparer.Ordinal);
            foreach (var (window, _, _) in windows)
            {
                var key = PoolKey(window);
                if (!pools.ContainsKey(key))
                {
                    pools[key] = new PoolSearch(window.Cases, fixedTexts.Matrix([.. window.Cases.Select(c => c.Input.ClassificationText)]), dimensions);
                }
            }

            var anchorIndexes = anchorLists.Select(a => new NearestNeighbourIndex(fixedTexts.Matrix(a), dimensions)).ToList();
            foreach (var pool in pools.Values)
            {
                pool.Similarity = new float[distinct.Count];
            }

            var anchorSimilarity = anchorLists.Select(_ => new float[distinct.Count]).ToList();
            for (var start = 0; start < distinct.Count; start += chunk)
            {
                var (matrix, _, chunkProblem) = start == 0
                    ? (firstMatrix, fixedTexts, null)
                    : await ChunkAsync(distinct.GetRange(start, Math.Min(chunk, distinct.Count - start)), [], embedder, embedderId, store, dimensions, cancellationToken).ConfigureAwait(false);
                if (matrix is null)
                {
                    return (null, chunkProblem);
                }

                foreach (var pool in pools.Values)
                {
                    pool.Index.Search(matrix).Similarity.CopyTo(pool.Similarity!, start);
                }

                for (var a = 0; a < anchorIndexes.Count; a++)
                {
                    anchorIndexes[a].Search(matrix).Similarity.CopyTo(anchorSimilarity[a], start);
                }
            }

            var anchors = new Dictionary<IReadOnlyList<string>, float[]>(ReferenceEqualityComparer.Instance);
            for (var a = 0; a < anchorLists.Count; a++)
            {
                anchors[anchorLists[a]] = anchorSimilarity[a];
            }

            return (new SharedSearch(dimensions, pools, anchors, rows, keep ? fixedTexts : null), null);
        }

        /// <summary>
        /// A chunk of distinct traces as unit rows in its order (and what was embedded, <paramref name="extra"/> texts in
        /// the same request): a trace read with its text through the embedder; one measured by its text's hash alone from
        /// the embedding cache behind the embedder, its text read from the store only when the cache lacks it (or when
        /// the embedder has no cache in the store).
        /// </summary>
        private static async ValueTask<(float[]? Matrix, EmbeddedTexts? Embedded, string? Problem)> ChunkAsync(
            IReadOnlyList<MeasuredTrace> chunk,
            IReadOnlyList<string> extra,
            IEmbeddingGenerator<string, Embedding<float>> embedder,
            string embedderId,
            ITraceStore store,
            int? dimensions,
            CancellationToken cancellationToken)
        {
            var texts = chunk.Select(t => t.Text).ToArray();
            IReadOnlyDictionary<UInt128, float[]> cached = new Dictionary<UInt128, float[]>();
            var hashed = Enumerable.Range(0, chunk.Count).Where(i => texts[i] is null).ToList();
            if (hashed.Count > 0)
            {
                // The cache may sit under other delegating generators: it is found as a service of the pipeline.
                if (embedder.GetService(typeof(CachedEmbeddingGenerator)) is CachedEmbeddingGenerator cache)
                {
                    cached = await cache.GetCachedAsync([.. hashed.Select(i => chunk[i].Hash).Distinct()], cancellationToken).ConfigureAwait(false);
                }

                var unread = hashed.Where(i => !cached.ContainsKey(chunk[i].Hash)).ToList();
                if (unread.Count > 0)
                {
                    var read = await store.GetHeadTextsAsync([.. unread.Select(i => new TraceHead(chunk[i].Position, chunk[i].Timestamp, string.Empty, string.Empty, 0))], cancellationToken).ConfigureAwait(false);
                    foreach (var i in unread)
                    {
                        texts[i] = read.TryGetValue(chunk[i].Position, out var text) ? text.Text : throw new KeyNotFoundException($"the text of the trace at position {chunk[i].Position} was not read");
                    }
                }
            }

            var embeddedRows = Enumerable.Range(0, chunk.Count).Where(i => texts[i] is not null).ToList();
            EmbeddedTexts? embedded = null;
            if (extra.Count + embeddedRows.Count > 0)
            {
                (embedded, var problem) = await EmbeddedTexts.EmbedAsync(extra.Concat(embeddedRows.Select(i => texts[i]!)), embedder, embedderId, cancellationToken).ConfigureAwait(false);
                if (embedded is null)
                {
                    return (null, null, problem);
                }
            }

            var size = dimensions ?? embedded!.Dimensions;
            if (embedded is not null && embedded.Dimensions != size)
            {
                return (null, null, $"the embedder {embedderId} returned vectors of {embedded.Dimensions} dimensions for some traffic and of {size} for the rest");
            }

            var matrix = new float[chunk.Count * size];
            if (embedded is not null && embeddedRows.Count > 0)
            {
                var rows = embedded.Matrix([.. embeddedRows.Select(i => texts[i]!)]);
                for (var k = 0; k < embeddedRows.Count; k++)
                {
                    rows.AsSpan(k * size, size).CopyTo(matrix.AsSpan(embeddedRows[k] * size, size));
                }
            }

            foreach (var i in hashed.Where(i => texts[i] is null))
            {
                var vector = cached[chunk[i].Hash];
                if (vector.Length != size)
                {
                    return (null, null, $"the embedder {embedderId} returned vectors of {vector.Length} dimensions for some traffic and of {size} for the rest");
                }

                EmbeddedTexts.ToUnit(vector, matrix.AsSpan(i * size, size));
            }

            return (matrix, embedded, null);
        }

        public PoolSearch Pools(MeasuredWindow window) => _pools[PoolKey(window)];

        /// <summary>Each trace's row among the distinct traces searched, looked up once for every measure of a window.</summary>
        public int[] Rows(IReadOnlyList<MeasuredTrace> traces)
        {
            var rows = new int[traces.Count];
            for (var i = 0; i < rows.Length; i++)
            {
                rows[i] = _row[traces[i]];
            }

            return rows;
        }

        /// <summary>Each text's similarity to its nearest case of the pools, by its <see cref="Rows"/>.</summary>
        public float[] Similarity(PoolSearch pools, int[] rows) => Gather(pools.Similarity!, rows);

        /// <summary>Each text's similarity to its nearest anchor, by its <see cref="Rows"/>.</summary>
        public float[] AnchorSimilarity(IReadOnlyList<string> anchors, int[] rows) => Gather(_anchors[anchors], rows);

        private static float[] Gather(float[] values, int[] rows)
        {
            var gathered = new float[rows.Length];
            for (var i = 0; i < rows.Length; i++)
            {
                gathered[i] = values[rows[i]];
            }

            return gathered;
        }

        /// <summary>The traces' unit vectors, row-major (kept only when a window clusters its blind spots or maps them, whose texts are read).</summary>
        public float[] Vectors(IReadOnlyList<MeasuredTrace> traces) =>
            traces.Count == 0 ? [] : (_kept ?? throw new InvalidOperationException("the traffic's vectors were not kept")).Matrix([.. traces.Select(t => t.ReadText)]);

        private static string PoolKey(MeasuredWindow window) => string.Join(',', window.PoolNames);

        /// <summary>A trace's row: one per distinct text read, one per distinct text hash of a trace measured without its text.</summary>
        private sealed class TraceRows
        {
            private readonly Dictionary<string, int> _byText = new(StringComparer.Ordinal);
            private readonly Dictionary<UInt128, int> _byHash = [];

            public bool TryAdd(MeasuredTrace trace, int row) => trace.Text is { } text ? _byText.TryAdd(text, row) : _byHash.TryAdd(trace.Hash, row);

            public int this[MeasuredTrace trace] => trace.Text is { } text ? _byText[text] : _byHash[trace.Hash];
        }
    }

    /// <summary>One pool set's cases: their vectors and index, radii by how they are asked for, and every distinct text's nearest similarity.</summary>
    private sealed class PoolSearch(IReadOnlyList<EvalCase> cases, float[] vectors, int dimensions)
    {
        private readonly Dictionary<(double Percentile, double? Radius), RadiusCalibration?> _radii = [];

        public NearestNeighbourIndex Index { get; } = new(vectors, dimensions);

        /// <summary>The cases' unit vectors, row-major in case order.</summary>
        public float[] Vectors => vectors;

        public float[]? Similarity { get; set; }

        public RadiusCalibration? Radius(double percentile, double? given)
        {
            // Asked for by windows measured side by side: each radius is calibrated once.
            lock (_radii)
            {
                if (!_radii.TryGetValue((percentile, given), out var radius))
                {
                    _radii[(percentile, given)] = radius = Calibrate(cases, vectors, dimensions, percentile, given);
                }

                return radius;
            }
        }
    }

    /// <summary>
    /// Hands each head to the windows that hold it, with its stratum and its priority under the window's seed: the stored
    /// one under <see cref="SamplePriority.StoredSeed"/>; under any other seed hashed from the key (read then), a batch's
    /// keys on every core.
    /// </summary>
    private sealed class HeadRouter
    {
        public const int Batch = 8192;

        private const int HashParts = 8;

        private readonly WindowSelection[] _selections;
        private readonly IReadOnlyList<string> _by;
        private readonly int[] _seedOf;
        private readonly byte[][] _seedPrefixes;
        private readonly ulong[][] _priorities;
        // The heads' intent and cohort strings are mostly the same few instances (a store hands out one per name): looked
        // up by reference first, by value when an instance is new, and each stratum name is one Stratum for every window.
        private readonly Dictionary<(string Intent, string Cohort), Stratum> _byInstance = new(SameInstances.Instance);
        private readonly Dictionary<(string Intent, string Cohort), Stratum> _byValue = [];
        private readonly Dictionary<string, Stratum> _byName;

        public HeadRouter(WindowSelection[] selections, IReadOnlyList<string> by, Dictionary<string, Stratum> strata)
        {
            _byName = strata;
            _selections = selections;
            _by = by;
            var seeds = selections.Where(s => s.Sampled && s.Plan.Seed != SamplePriority.StoredSeed).Select(s => s.Plan.Seed).Distinct().ToArray();
            _seedOf = [.. selections.Select(s => Array.IndexOf(seeds, s.Plan.Seed))];
            _seedPrefixes = [.. seeds.Select(SamplePriority.SeedPrefix)];
            _priorities = [.. seeds.Select(_ => new ulong[Batch])];
        }

        /// <summary>Whether a window samples under a seed whose priorities the store does not keep.</summary>
        public bool NeedsKeys => _priorities.Length > 0;

        public void Route(TraceHead[] heads, int count)
        {
            if (_priorities.Length > 0)
            {
                Parallel.For(0, HashParts, part =>
                {
                    using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    var (first, last) = (count * part / HashParts, count * (part + 1) / HashParts);
                    for (var seed = 0; seed < _priorities.Length; seed++)
                    {
                        for (var h = first; h < last; h++)
                        {
                            _priorities[seed][h] = SamplePriority.Of(sha256, _seedPrefixes[seed], heads[h].Key!);
                        }
                    }
                });
            }

            for (var h = 0; h < count; h++)
            {
                ref readonly var head = ref heads[h];
                Stratum? stratum = null;
                for (var w = 0; w < _selections.Length; w++)
                {
                    var selection = _selections[w];
                    var plan = selection.Plan;
                    if (head.Timestamp < plan.From || head.Timestamp >= plan.To)
                    {
                        continue;
                    }

                    if (selection.SourcePriorities.Contains(head.Priority))
                    {
                        if (head.Key is null)
                        {
                            selection.Suspects.Add(head);
                            continue;
                        }

                        if (selection.SourceKeys.Contains(head.Key))
                        {
                            continue;
                        }
                    }

                    stratum ??= StratumOf(head);
                    Hand(selection, head, stratum, _seedOf[w] < 0 ? head.Priority : _priorities[_seedOf[w]][h]);
                }
            }
        }

        /// <summary>Hands on the held-back heads that are not the window's sources (their keys now known).</summary>
        public void Release(WindowSelection selection, IReadOnlyDictionary<long, TraceText> keys)
        {
            foreach (var head in selection.Suspects)
            {
                if (!selection.SourceKeys.Contains(keys[head.Position].Key))
                {
                    // Only heads read without keys are held back, so the window samples under the stored seed.
                    Hand(selection, head, StratumOf(head), head.Priority);
                }
            }

            selection.Suspects.Clear();
        }

        private static void Hand(WindowSelection selection, in TraceHead head, Stratum stratum, ulong priority)
        {
            if (selection.Sampled)
            {
                selection.Offer(head, stratum, priority);
            }
            else
            {
                selection.Add(head, stratum.Name);
            }
        }

        private Stratum StratumOf(in TraceHead head)
        {
            var pair = (head.Intent, head.CohortKey);
            if (_byInstance.TryGetValue(pair, out var stratum))
            {
                return stratum;
            }

            if (!_byValue.TryGetValue(pair, out stratum))
            {
                var name = Sampler.StratumOf(_by, head.Intent, head.CohortKey);
                // The numbering is shared by routers that may run side by side (one per window chosen by the store).
                lock (_byName)
                {
                    if (!_byName.TryGetValue(name, out stratum))
                    {
                        _byName[name] = stratum = new Stratum(name, _byName.Count);
                    }
                }

                _byValue[pair] = stratum;
            }

            // Bounded: a store that makes new strings for every head is looked up by value alone.
            if (_byInstance.Count < 4096)
            {
                _byInstance[pair] = stratum;
            }

            return stratum;
        }

        /// <summary>Pairs of strings equal when they are the same two instances.</summary>
        private sealed class SameInstances : IEqualityComparer<(string Intent, string Cohort)>
        {
            public static readonly SameInstances Instance = new();

            public bool Equals((string Intent, string Cohort) x, (string Intent, string Cohort) y) =>
                ReferenceEquals(x.Intent, y.Intent) && ReferenceEquals(x.Cohort, y.Cohort);

            public int GetHashCode((string Intent, string Cohort) obj) =>
                HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Intent), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Cohort));
        }
    }

    /// <summary>A stratum's name and its number among the strata one heads pass has seen (the windows' per-stratum state is indexed by it).</summary>
    private sealed record Stratum(string Name, int Id);

    /// <summary>One window's choice while the heads stream by: every trace of a census, or per stratum the quota's lowest priorities.</summary>
    private sealed class WindowSelection
    {
        private readonly Dictionary<string, int>? _quota;
        private readonly List<(TraceHead Head, string Stratum)> _all = [];
        private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);

        // Per stratum, a max-queue on priority (a min-queue on its complement) keeps the quota's lowest priorities seen so
        // far; the queue holds slots into the stratum's kept heads, so a replacement moves no references.
        private readonly Dictionary<string, Kept> _kept = new(StringComparer.Ordinal);
        private Kept?[] _byId = new Kept?[64];

        public WindowSelection(WindowPlan plan, Dictionary<string, long> population)
        {
            Plan = plan;
            SourceKeys = plan.Sources.Select(id => TraceKeys.IdPrefix + id).ToHashSet(StringComparer.Ordinal);
            SourcePriorities = [.. SourceKeys.Select(key => SamplePriority.Of(SamplePriority.StoredSeed, key))];
            Population = population;
            _quota = population.Values.Sum() <= plan.MaxTraces ? null : Allocate(population, plan.MaxTraces);
        }

        public WindowPlan Plan { get; }

        /// <summary>The keys of the traces the window leaves out.</summary>
        public HashSet<string> SourceKeys { get; }

        /// <summary>Their stored priorities: a head with another priority is no source, whatever its key.</summary>
        public HashSet<ulong> SourcePriorities { get; }

        /// <summary>Heads read without a key whose priority is a source's, held back until their keys are read.</summary>
        public List<TraceHead> Suspects { get; } = [];

        public Dictionary<string, long> Population { get; }

        public bool Sampled => _quota is not null;

        /// <summary>How many traces a sampled window keeps of <paramref name="stratum"/>.</summary>
        public int QuotaOf(string stratum) => _quota!.GetValueOrDefault(stratum);

        public void Add(in TraceHead head, string stratum)
        {
            _all.Add((head, stratum));
            _seen[stratum] = _seen.GetValueOrDefault(stratum) + 1;
        }

        public void Offer(in TraceHead head, Stratum stratum, ulong priority)
        {
            var kept = stratum.Id < _byId.Length ? _byId[stratum.Id] : null;
            kept ??= Resolve(stratum);
            if (kept.Size < 0)
            {
                return;
            }

            if (kept.Queue.Count < kept.Size)
            {
                kept.Queue.Enqueue(kept.Heads.Count, ~priority);
                kept.Heads.Add((head, priority));
            }
            else if (kept.Queue.TryPeek(out var slot, out var worst) && priority < ~worst)
            {
                kept.Heads[slot] = (head, priority);
                kept.Queue.DequeueEnqueue(slot, ~priority);
            }
        }

        /// <summary>The stratum's kept heads (<see cref="Kept.None"/> when its quota is none), remembered by its number.</summary>
        private Kept Resolve(Stratum stratum)
        {
            Kept kept;
            if (!_quota!.TryGetValue(stratum.Name, out var size))
            {
                kept = Kept.None;
            }
            else if (!_kept.TryGetValue(stratum.Name, out kept!))
            {
                _kept[stratum.Name] = kept = new Kept(size);
            }

            if (stratum.Id >= _byId.Length)
            {
                Array.Resize(ref _byId, Math.Max(stratum.Id + 1, _byId.Length * 2));
            }

            return _byId[stratum.Id] = kept;
        }

        /// <summary>How many heads the window keeps (some may be other windows' too).</summary>
        public int HeadCount => _all.Count + _kept.Values.Sum(k => k.Heads.Count);

        public void CollectHeads(Dictionary<long, TraceHead> heads)
        {
            foreach (var (head, _) in _all)
            {
                heads.TryAdd(head.Position, head);
            }

            foreach (var kept in _kept.Values)
            {
                foreach (var (head, _) in kept.Heads)
                {
                    heads.TryAdd(head.Position, head);
                }
            }
        }

        /// <summary>
        /// A census in the order <see cref="ITraceStore.ScanTracesAsync"/> reads (oldest first); a sample by stratum,
        /// then priority, then key.
        /// </summary>
        public WindowTraffic Traffic(IReadOnlyDictionary<long, TraceText> texts)
        {
            MeasuredTrace Measure((TraceHead Head, string Stratum) t) =>
                texts.TryGetValue(t.Head.Position, out var text)
                    ? new(text.Key, text.TraceId, t.Stratum, text.Text, t.Head.Timestamp, t.Head.TextHash, t.Head.Position)
                    : t.Head.TextHash != default
                        ? new(null, null, t.Stratum, null, t.Head.Timestamp, t.Head.TextHash, t.Head.Position)
                        : throw new KeyNotFoundException($"the text of the trace at position {t.Head.Position} was not read");

            if (!Sampled)
            {
                return new WindowTraffic(_seen, [.. _all.OrderBy(t => t.Head.Timestamp).ThenBy(t => t.Head.Position).Select(Measure)], Sampled: false);
            }

            var measured = new List<MeasuredTrace>();
            foreach (var (stratum, kept) in _kept.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                measured.AddRange(kept.Heads
                    .OrderBy(h => h.Priority)
                    .ThenBy(h => texts.TryGetValue(h.Head.Position, out var text) ? text.Key : string.Empty, StringComparer.Ordinal)
                    .ThenBy(h => h.Head.Position)
                    .Select(h => Measure((h.Head, stratum))));
            }

            return new WindowTraffic(Population, measured, Sampled: true);
        }

        private sealed class Kept(int size)
        {
            /// <summary>A stratum without a quota in the window: its heads are not kept.</summary>
            public static readonly Kept None = new(-1);

            public int Size { get; } = size;

            public PriorityQueue<int, ulong> Queue { get; } = new();

            public List<(TraceHead Head, ulong Priority)> Heads { get; } = [];
        }
    }
}
