namespace Recal.Drift;

/// <summary>
/// One measured trace of a coverage window: its key and text when they were read (always for blind spots and the map), and its
/// text's hash when the store kept it beside the trace's head (zero otherwise), with its position.
/// </summary>
internal sealed record MeasuredTrace(string? Key, string? TraceId, string Stratum, string? Text, DateTimeOffset Timestamp, UInt128 Hash = default, long Position = 0)
{
    /// <summary>The key, read whenever blind spots or the map are asked for.</summary>
    public string ReadKey => Key ?? throw new InvalidOperationException("the trace's key was not read");

    /// <summary>The text, read whenever blind spots or the map are asked for.</summary>
    public string ReadText => Text ?? throw new InvalidOperationException("the trace's text was not read");
}

/// <summary>
/// Clusters the traffic no eval case covers and describes each cluster: size, share, growth, strata, distinctive
/// words, representative traces and distance to the set (docs/embeddings.md#blind-spots).
/// </summary>
internal static class BlindSpotFinder
{
    /// <summary>The silhouette compares k from 2 to at most this many clusters ...</summary>
    public const int MaxClusters = 20;

    /// <summary>... and at most one cluster per this many uncovered traces, so a cluster can hold a topic, not a handful of traces.</summary>
    public const int TracesPerCluster = 20;

    /// <summary>A cluster is listed when it holds at least this many measured traces ...</summary>
    public const int MinClusterTraces = 5;

    /// <summary>... and at least this share of the uncovered traces.</summary>
    public const double MinClusterShare = 0.01;

    public const int Terms = 6;

    /// <summary>A cluster is focused when at least this share of its traffic contains its most distinctive word.</summary>
    public const double MinFocus = 1.0 / 3;

    public const int Examples = 5;

    /// <summary>A trace this similar to an example already shown is a near-repeat, not another example.</summary>
    public const float ExampleRepeat = 0.8f;

    public const int TopStrata = 5;

    /// <summary>The silhouettes are measured on at most this many uncovered traces: they need all pairwise distances.</summary>
    public const int SilhouetteSample = 2_000;

    private static readonly ClusterCountRule CountRule = new(MaxClusters, TracesPerCluster, SilhouetteSample);

    private static readonly TimeSpan Week = TimeSpan.FromDays(7);

    /// <param name="measured">The window's measured traces (all of it, or the sample).</param>
    /// <param name="weights">Each measured trace's weight: 1 in a census, its stratum's traffic over its sample size otherwise.</param>
    /// <param name="vectors">The measured traces' unit vectors, row-major in the same order.</param>
    /// <param name="similarity">Each measured trace's similarity to its nearest eval case.</param>
    /// <param name="clusters">The number of clusters to make; null to choose it by the silhouette.</param>
    public static (BlindSpotReport Report, IReadOnlyList<BlindSpotMembers> Members) Find(
        IReadOnlyList<MeasuredTrace> measured,
        IReadOnlyList<double> weights,
        float[] vectors,
        int dimensions,
        float[] similarity,
        double radius,
        DateTimeOffset from,
        DateTimeOffset to,
        long traces,
        int? clusters,
        int seed)
    {
        // Key order: the clusters do not depend on the order the store returned the traces in.
        var uncovered = Enumerable.Range(0, measured.Count)
            .Where(i => similarity[i] < radius)
            .OrderBy(i => measured[i].ReadKey, StringComparer.Ordinal)
            .ToArray();
        var minSize = Math.Max(MinClusterTraces, (int)Math.Ceiling(MinClusterShare * uncovered.Length));
        if (uncovered.Length == 0)
        {
            return (new BlindSpotReport(0, 0, clusters is null ? ClusterCountSource.TooFew : ClusterCountSource.Given, 0, 0, [], minSize, 0, 0, []), []);
        }

        var points = new float[uncovered.Length * dimensions];
        for (var i = 0; i < uncovered.Length; i++)
        {
            vectors.AsSpan(uncovered[i] * dimensions, dimensions).CopyTo(points.AsSpan(i * dimensions, dimensions));
        }

        var clustered = TextClusterer.Cluster(points, dimensions, clusters, CountRule, seed);
        var clustering = clustered.KMeans;
        var (k, source, sample, choice, clusterSilhouette) = (clustering.K, clustered.Source, clustered.Sample, clustered.Choice, clustered.ClusterSilhouette);
        var maxK = clustered.MaxK;
        var window = new WindowWeights(measured, weights, from, to);
        var terms = new DistinctiveTerms([.. measured.Select(m => m.ReadText)], weights);
        var groups = Enumerable.Range(0, uncovered.Length).GroupBy(i => clustering.Assignments[i]).ToList();
        // Focused clusters first, then loose ones; each by traffic.
        var described = groups.Where(g => g.Count() >= minSize)
            .Select(g =>
            {
                var rows = g.ToList();
                var spot = Describe(measured, weights, similarity, window, terms, [.. rows.Select(r => uncovered[r])], [.. rows.Select(r => clustering.Similarity[r])], vectors, dimensions, traces)
                    with { Silhouette = clusterSilhouette.TryGetValue(g.Key, out var value) ? value : null };
                return (Rows: rows, Spot: spot);
            })
            .OrderByDescending(c => c.Spot.Focused)
            .ThenByDescending(c => c.Spot.TrafficShare)
            .ThenByDescending(c => c.Rows.Count)
            .ThenBy(c => measured[uncovered[c.Rows[0]]].ReadKey, StringComparer.Ordinal)
            .ToList();
        var spots = new List<BlindSpot>();
        var members = new List<BlindSpotMembers>();
        foreach (var (rows, spot) in described)
        {
            var id = spots.Count + 1;
            spots.Add(spot with { Id = id });
            var memberVectors = new float[rows.Count * dimensions];
            for (var i = 0; i < rows.Count; i++)
            {
                points.AsSpan(rows[i] * dimensions, dimensions).CopyTo(memberVectors.AsSpan(i * dimensions, dimensions));
            }

            members.Add(new BlindSpotMembers(id, [.. rows.Select(r => measured[uncovered[r]].ReadKey)], memberVectors, dimensions));
        }

        var small = groups.Where(g => g.Count() < minSize).ToList();
        var report = new BlindSpotReport(
            uncovered.Length,
            k,
            source,
            maxK,
            sample.Length,
            choice?.Scores ?? [],
            minSize,
            small.Count,
            small.Sum(g => (long)g.Count()),
            spots);
        return (report, members);
    }

    /// <param name="indices">The cluster's traces, as indices into <paramref name="measured"/>, in key order.</param>
    /// <param name="centroidSimilarity">Their similarities to the centroid, in the same order.</param>
    private static BlindSpot Describe(
        IReadOnlyList<MeasuredTrace> measured,
        IReadOnlyList<double> weights,
        float[] similarity,
        WindowWeights window,
        DistinctiveTerms terms,
        List<int> indices,
        List<float> centroidSimilarity,
        float[] vectors,
        int dimensions,
        long traces)
    {
        var traffic = indices.Sum(i => weights[i]);
        var (first, second, weeks) = window.Split(indices);
        var growth = first is > 0 && second is { } later ? later / first : (double?)null;
        var strata = indices.GroupBy(i => measured[i].Stratum, StringComparer.Ordinal)
            .Select(g => new BlindSpotStratum(g.Key, g.Count(), g.Sum(i => weights[i]) / traffic))
            .OrderByDescending(s => s.Share)
            .ThenBy(s => s.Stratum, StringComparer.Ordinal)
            .Take(TopStrata)
            .ToList();
        // Nearest the centroid first, skipping near-repeats of an example already taken.
        var taken = TextClusterer.Representatives(indices, centroidSimilarity, vectors, dimensions, i => measured[i].ReadKey, Examples, ExampleRepeat);
        var examples = taken
            .Select(r =>
            {
                var trace = measured[indices[r]];
                return new RepresentativeTrace(trace.ReadKey, trace.TraceId, trace.Stratum, trace.Timestamp, trace.ReadText, Clamp(centroidSimilarity[r]), Clamp(similarity[indices[r]]));
            })
            .ToList();
        var nearest = indices.Select(i => Clamp(similarity[i])).Order().ToList();
        var words = terms.Top(indices, Terms);
        var focus = words.Count == 0 ? 0 : words.Max(t => t.BlindSpotShare);
        return new BlindSpot(
            0,
            indices.Count,
            (long)Math.Round(traffic, MidpointRounding.AwayFromZero),
            traffic / traces,
            first,
            second,
            growth,
            weeks,
            strata,
            words,
            examples,
            CoverageAnalyzer.Percentile(nearest, 50),
            centroidSimilarity.Average(s => Clamp(s)),
            null,
            focus,
            focus >= MinFocus);
    }

    // Rounding can put a unit vector's similarity to itself a hair above 1.
    private static double Clamp(float similarity) => Math.Clamp((double)similarity, -1, 1);

    /// <summary>The window's traffic by half and by week, estimated from the measured traces' weights.</summary>
    private sealed class WindowWeights
    {
        private readonly IReadOnlyList<MeasuredTrace> _measured;
        private readonly IReadOnlyList<double> _weights;
        private readonly DateTimeOffset _from;
        private readonly DateTimeOffset _middle;
        private readonly double[] _halves = new double[2];
        private readonly double[] _weeks;

        public WindowWeights(IReadOnlyList<MeasuredTrace> measured, IReadOnlyList<double> weights, DateTimeOffset from, DateTimeOffset to)
        {
            _measured = measured;
            _weights = weights;
            _from = from;
            _middle = from + ((to - from) / 2);
            _weeks = new double[Math.Max(1, (int)Math.Ceiling((to - from) / Week))];
            for (var i = 0; i < measured.Count; i++)
            {
                _halves[Half(i)] += weights[i];
                _weeks[WeekOf(i)] += weights[i];
            }
        }

        /// <summary>The traces' share of each half's traffic (null for a half without traffic), and their traffic per week.</summary>
        public (double? First, double? Second, IReadOnlyList<BlindSpotWeek> Weeks) Split(IEnumerable<int> traces)
        {
            var halves = new double[2];
            var weeks = new double[_weeks.Length];
            foreach (var i in traces)
            {
                halves[Half(i)] += _weights[i];
                weeks[WeekOf(i)] += _weights[i];
            }

            return (
                _halves[0] > 0 ? halves[0] / _halves[0] : null,
                _halves[1] > 0 ? halves[1] / _halves[1] : null,
                [.. weeks.Select((w, i) => new BlindSpotWeek(_from + (i * Week), (long)Math.Round(w, MidpointRounding.AwayFromZero), _weeks[i] > 0 ? w / _weeks[i] : 0))]);
        }

        private int Half(int i) => _measured[i].Timestamp < _middle ? 0 : 1;

        private int WeekOf(int i) => Math.Clamp((int)((_measured[i].Timestamp - _from) / Week), 0, _weeks.Length - 1);
    }
}
