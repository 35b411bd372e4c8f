using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Recal.Classification;
using Recal.Domain;
using Recal.Storage;

namespace Recal.Lifecycle;

/// <summary>Why a trace was not eligible for the sample (docs/lifecycle.md#exclusions).</summary>
public enum ExclusionReason
{
    /// <summary>The input is shorter than <c>min_input_chars</c>.</summary>
    Unusable,

    /// <summary>The input matches a personal-data pattern.</summary>
    Pattern,

    /// <summary>A metadata value marks an internal or test user.</summary>
    Metadata,

    /// <summary>An existing case or an already drawn trace covers it (similarity at or above the threshold).</summary>
    NearDuplicate,
}

/// <summary>One stratum's share of the sample.</summary>
/// <param name="Eligible">Traces of the window in the stratum that passed the exclusion rules.</param>
/// <param name="TrafficShare">The stratum's share of eligible traffic.</param>
/// <param name="TargetWeight">Its target weight: explicit from the policy, or its part of the remaining weight.</param>
/// <param name="Target">size × target weight, before the floor.</param>
/// <param name="Allocated">Cases the stratum gets: at least the floor, at most what is eligible.</param>
/// <param name="Drawn">Cases actually drawn (fewer than allocated when near-duplicates ran it dry).</param>
/// <param name="Matched">With a <c>--where</c> filter, the stratum's traces that matched it (before the exclusion rules); null without one.</param>
public sealed record StratumAllocation(string Stratum, long Eligible, double TrafficShare, double TargetWeight, bool ExplicitWeight, double Target, int Allocated, int Drawn, long? Matched = null);

/// <summary>A drawn trace and the stratum it was drawn for.</summary>
public sealed record SampledTrace(ClassifiedTrace Trace, string Stratum);

/// <summary>The outcome of a draw: the allocation table, the drawn traces and what the exclusion rules removed.</summary>
/// <param name="Seen">Traces of the window offered.</param>
/// <param name="Matched">With a <c>--where</c> filter, the traces that matched it; null without one.</param>
/// <param name="Arithmetic">How the allocation's total came about; null for a draw without strata (a blind spot's).</param>
public sealed record SampleResult(IReadOnlyList<StratumAllocation> Allocations, IReadOnlyList<SampledTrace> Drawn, IReadOnlyDictionary<ExclusionReason, long> Excluded, long Seen, long? Matched = null, AllocationArithmetic? Arithmetic = null);

/// <summary>
/// Draws a stratified sample from a traffic window as the sampling policy says: exclusions first, then target
/// weights (explicit where the policy names a stratum, the rest shared by traffic or equally), floors so tail
/// strata never vanish, and a seeded, order-independent choice within each stratum (docs/lifecycle.md).
/// </summary>
public sealed class Sampler
{
    /// <summary>Candidates kept per stratum beyond its largest possible allocation, to replace near-duplicates.</summary>
    public const int Slack = 64;

    private readonly SamplingPolicy _policy;
    private readonly int _size;
    private readonly int _seed;
    private readonly Regex[] _patterns;
    private readonly Dictionary<string, PriorityQueue<Candidate, ulong>> _reservoirs = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Intent, string Cohort), string> _strata = [];
    private readonly byte[] _seedPrefix;
    private readonly System.Security.Cryptography.IncrementalHash _sha256 = System.Security.Cryptography.IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private char[] _text = new char[256];
    private readonly (byte[] Field, string[] Values)[] _metadataRules;
    private readonly Dictionary<string, long> _eligible = new(StringComparer.Ordinal);
    private readonly Dictionary<ExclusionReason, long> _excluded = [];
    private readonly List<(Dictionary<string, int> Grams, double Norm)> _covered;
    private readonly TraceFilter? _where;
    private readonly Dictionary<string, long> _matched = new(StringComparer.Ordinal);
    private long _seen;

    /// <param name="existing">Cases already in the set: a trace this similar to one of them is a near-duplicate.</param>
    /// <param name="size">How many cases to draw; default the policy's size.</param>
    /// <param name="where">Only traces matching it are drawn from (<c>recal sample --where</c>); every other rule still applies.</param>
    public Sampler(SamplingPolicy policy, IEnumerable<EvalCase> existing, int? size = null, int seed = 0, TraceFilter? where = null)
    {
        _where = where;
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(existing);
        _policy = policy;
        _size = size ?? policy.Size;
        _seed = seed;
        _patterns = [.. policy.Exclusions.Patterns.Select(p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)))];
        _covered = [.. existing.Where(c => c.Pool != Pool.Retired).Select(c => WithNorm(Shingles(c.Input.ClassificationText)))];
        _seedPrefix = Ingest.SamplePriority.SeedPrefix(seed);
        _metadataRules = [.. policy.Exclusions.Metadata.Select(m => (Encoding.UTF8.GetBytes(m.Key), m.Value.ToArray()))];
    }

    /// <summary>
    /// Whether <see cref="Offer"/> can take the window's traces as <see cref="SampleRow"/>s: not with a <c>--where</c>
    /// filter, which reads whole traces (<see cref="Add"/> then).
    /// </summary>
    public bool TakesRows => _where is null;

    /// <summary>A kept candidate: its key, and the whole trace once it is known (rows are fetched whole only if kept).</summary>
    private sealed class Candidate(string key, ClassifiedTrace? trace, long position = 0)
    {
        public string Key { get; } = key;

        public long Position { get; } = position;

        public ClassifiedTrace? Trace { get; set; } = trace;

        /// <summary>Whether the store was asked for the whole trace (it may have found none).</summary>
        public bool Fetched { get; set; }
    }

    /// <summary>
    /// How many cases a draw for <paramref name="pool"/> asks for, where that number comes from (said with the
    /// arithmetic) and what to call it in RC1106: <c>--size</c> when given, else the holdout's size for the holdout,
    /// else the policy's size.
    /// </summary>
    public static (int Size, string Source, string Name) DrawSize(SamplingPolicy policy, Pool pool, int? given)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return given is { } asked ? (asked, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"--size; the policy's size is {policy.Size:N0}"), "--size")
            : pool == Pool.Holdout && policy.HoldoutFraction > 0
                ? (policy.HoldoutSize, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"the policy's holdout: {policy.HoldoutFraction:0.##%} of its size {policy.Size:N0}"), "the holdout's size (size × holdout_fraction)")
                : (policy.Size, "the policy's size", "the size");
    }

    /// <summary>The stratum a trace belongs to: its values of the policy's <c>strata.by</c> keys joined with '/'.</summary>
    public static string StratumOf(IReadOnlyList<string> by, string intent, string cohortKey)
    {
        ArgumentNullException.ThrowIfNull(by);
        if (by.Count == 0)
        {
            return intent;
        }

        var cohort = CohortResolver.ParseKey(cohortKey).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        return string.Join('/', by.Select(k => k == "intent" ? intent : cohort.GetValueOrDefault(k, "unknown")));
    }

    /// <summary>Marks a text as already covered (a pending draft, say): traces near it are near-duplicates.</summary>
    public void Cover(string text) => _covered.Add(WithNorm(Shingles(text ?? throw new ArgumentNullException(nameof(text)))));

    /// <summary>Offers one trace of the window.</summary>
    public void Add(ClassifiedTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        _seen++;
        if (_where is not null && !_where.Matches(trace))
        {
            return;
        }

        var stratum = Stratum(trace.Intent, trace.CohortKey);
        if (_where is not null)
        {
            _matched[stratum] = _matched.GetValueOrDefault(stratum) + 1;
        }

        if (Exclude(trace) is { } reason)
        {
            _excluded[reason] = _excluded.GetValueOrDefault(reason) + 1;
            return;
        }

        var reservoir = Eligible(stratum);
        var priority = Priority(trace.Key);
        if (Admits(reservoir, priority))
        {
            Keep(reservoir, new Candidate(trace.Key, trace), priority);
        }
    }

    /// <summary>
    /// Offers one trace of the window as a row (<see cref="ITraceStore.ScanSampleRowsAsync"/>): the same rules as
    /// <see cref="Add"/>, read from the row's UTF-8 without building the trace; only a trace the draw keeps as a
    /// candidate costs its key as a string, and <see cref="DrawAsync"/> fetches the kept ones whole.
    /// </summary>
    public void Offer(in SampleRow row)
    {
        if (!TakesRows)
        {
            throw new InvalidOperationException("a draw with a --where filter reads whole traces: offer them with Add");
        }

        _seen++;
        var stratum = Stratum(row.Intent, row.CohortKey);
        if (Exclude(row) is { } reason)
        {
            _excluded[reason] = _excluded.GetValueOrDefault(reason) + 1;
            return;
        }

        var reservoir = Eligible(stratum);
        var priority = _seed == Ingest.SamplePriority.StoredSeed ? row.StoredPriority : Ingest.SamplePriority.Of(_sha256, _seedPrefix, row.Key);
        if (Admits(reservoir, priority))
        {
            Keep(reservoir, new Candidate(Encoding.UTF8.GetString(row.Key), null, row.Position), priority);
        }
    }

    /// <summary>
    /// Offers every stored trace of [<paramref name="from"/>, <paramref name="to"/>) and draws: as rows when it can
    /// (<see cref="TakesRows"/>), fetching only the kept candidates whole, else as whole traces.
    /// </summary>
    public async Task<SampleResult> DrawFromAsync(Storage.ITraceStore store, DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (!TakesRows)
        {
            await store.ScanTracesAsync(from, to, Add, cancellationToken).ConfigureAwait(false);
            return Draw();
        }

        await store.ScanSampleRowsAsync(from, to, Offer, cancellationToken).ConfigureAwait(false);
        return await DrawAsync(store, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Draws (<see cref="Draw"/>), fetching from <paramref name="store"/> the candidates it reads that were offered as rows.</summary>
    public async Task<SampleResult> DrawAsync(Storage.ITraceStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        return await DrawCoreAsync(store, cancellationToken).ConfigureAwait(false);
    }

    private string Stratum(string intent, string cohortKey)
    {
        if (!_strata.TryGetValue((intent, cohortKey), out var stratum))
        {
            _strata[(intent, cohortKey)] = stratum = StratumOf(_policy.Strata.By, intent, cohortKey);
        }

        return stratum;
    }

    /// <summary>Counts an eligible trace of <paramref name="stratum"/> and returns the stratum's candidates.</summary>
    private PriorityQueue<Candidate, ulong> Eligible(string stratum)
    {
        _eligible[stratum] = _eligible.GetValueOrDefault(stratum) + 1;
        if (!_reservoirs.TryGetValue(stratum, out var reservoir))
        {
            // A max-queue on priority: the root is the worst kept candidate.
            _reservoirs[stratum] = reservoir = new PriorityQueue<Candidate, ulong>(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
        }

        return reservoir;
    }

    private int Capacity => Math.Max(_size, _policy.Strata.Floor) + Slack;

    /// <summary>Whether a trace of this priority becomes a candidate: room left, or better than the worst kept.</summary>
    private bool Admits(PriorityQueue<Candidate, ulong> reservoir, ulong priority) =>
        reservoir.Count < Capacity || (reservoir.TryPeek(out _, out var worst) && priority < worst);

    private void Keep(PriorityQueue<Candidate, ulong> reservoir, Candidate candidate, ulong priority)
    {
        if (reservoir.Count < Capacity)
        {
            reservoir.Enqueue(candidate, priority);
        }
        else
        {
            reservoir.DequeueEnqueue(candidate, priority);
        }
    }

    /// <summary>Allocates the sample over the strata seen and draws it.</summary>
    public SampleResult Draw() => DrawCoreAsync(null, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    /// <summary>
    /// The draw; <paramref name="store"/> fetches whole the candidates offered as rows, a few at a time and only as far
    /// as the draw reads each stratum's ranking (its allocation, plus replacements for near-duplicates).
    /// </summary>
    private async ValueTask<SampleResult> DrawCoreAsync(Storage.ITraceStore? store, CancellationToken cancellationToken)
    {
        var total = _eligible.Values.Sum();
        var weights = TargetWeights();
        var continuous = _eligible.Keys.ToDictionary(
            s => s,
            s => Math.Min(_eligible[s], Math.Max(_policy.Strata.Floor, _size * weights[s])),
            StringComparer.Ordinal);
        var allocated = Integerise(continuous);
        var drawn = new List<SampledTrace>();
        var allocations = new List<StratumAllocation>();
        foreach (var stratum in _eligible.Keys.Order(StringComparer.Ordinal))
        {
            var candidates = new List<(Candidate Candidate, ulong Priority)>();
            var reservoir = _reservoirs[stratum];
            while (reservoir.TryDequeue(out var candidate, out var priority))
            {
                candidates.Add((candidate, priority));
            }

            var count = 0;
            var ranked = candidates.OrderBy(c => c.Priority).ThenBy(c => c.Candidate.Key, StringComparer.Ordinal).Select(c => c.Candidate).ToList();
            for (var i = 0; i < ranked.Count && count < allocated[stratum]; i++)
            {
                var candidate = ranked[i];
                if (candidate.Trace is null && !candidate.Fetched)
                {
                    if (store is null)
                    {
                        throw new InvalidOperationException("candidates offered as rows are drawn with DrawAsync, which fetches them whole");
                    }

                    // The ones the stratum still needs, and a few spare for near-duplicates, in one round trip.
                    var batch = ranked.Skip(i).Where(c => c.Trace is null && !c.Fetched).Take(allocated[stratum] - count + 8).ToList();
                    var found = (await store.GetTracesAsync([.. batch.Select(c => new TraceRef(c.Key, c.Position))], cancellationToken).ConfigureAwait(false))
                        .ToDictionary(t => t.Key, StringComparer.Ordinal);
                    foreach (var fetched in batch)
                    {
                        fetched.Trace = found.GetValueOrDefault(fetched.Key);
                        fetched.Fetched = true;
                    }
                }

                // A candidate offered as a row and not found whole any more (deleted since) is passed over.
                if (candidate.Trace is not { } trace)
                {
                    continue;
                }

                if (!Take(trace))
                {
                    continue;
                }

                drawn.Add(new SampledTrace(trace, stratum));
                count++;
            }

            allocations.Add(new StratumAllocation(
                stratum,
                _eligible[stratum],
                total == 0 ? 0 : (double)_eligible[stratum] / total,
                weights[stratum],
                _policy.Strata.Weights.ContainsKey(stratum),
                _size * weights[stratum],
                allocated[stratum],
                count,
                _where is null ? null : _matched[stratum]));
        }

        return new SampleResult(allocations, drawn, new Dictionary<ExclusionReason, long>(_excluded), _seen, Matched, Arithmetic(weights, allocated));
    }

    /// <summary>The allocation's total taken apart: the size by weight, plus what floors raise, less what short strata lack.</summary>
    private AllocationArithmetic Arithmetic(Dictionary<string, double> weights, Dictionary<string, int> allocated)
    {
        var floor = _policy.Strata.Floor;
        var targets = _eligible.Keys.ToDictionary(s => s, s => _size * weights[s], StringComparer.Ordinal);
        var raised = targets.Where(t => t.Value < floor).ToList();
        var shortfalls = _eligible.Keys.Select(s => Math.Max(floor, targets[s]) - _eligible[s]).Where(gap => gap > 0).ToList();
        return new AllocationArithmetic(
            _size,
            targets.Values.Sum(),
            _eligible.Count,
            floor,
            raised.Count,
            raised.Sum(t => floor - t.Value),
            shortfalls.Count,
            shortfalls.Sum(),
            allocated.Values.Sum());
    }

    /// <summary>
    /// Draws up to the sample's size from <paramref name="ranked"/> in the order given (a blind spot's traces, spread
    /// over it), with the policy's exclusions and the near-duplicate rule; no strata, weights or floors. Candidates
    /// are read only until the size is reached.
    /// </summary>
    public SampleResult DrawInOrder(IEnumerable<ClassifiedTrace> ranked)
    {
        ArgumentNullException.ThrowIfNull(ranked);
        var drawn = new List<SampledTrace>();
        foreach (var trace in ranked)
        {
            if (drawn.Count == _size)
            {
                break;
            }

            _seen++;
            if (_where is not null && !_where.Matches(trace))
            {
                continue;
            }

            _matched[string.Empty] = _matched.GetValueOrDefault(string.Empty) + 1;
            if (Exclude(trace) is { } reason)
            {
                _excluded[reason] = _excluded.GetValueOrDefault(reason) + 1;
            }
            else if (Take(trace))
            {
                drawn.Add(new SampledTrace(trace, StratumOf(_policy.Strata.By, trace.Intent, trace.CohortKey)));
            }
        }

        return new SampleResult([], drawn, new Dictionary<ExclusionReason, long>(_excluded), _seen, Matched);
    }

    /// <summary>Traces that matched the <c>--where</c> filter so far; null without one.</summary>
    private long? Matched => _where is null ? null : _matched.Values.Sum();

    /// <summary>Takes a trace unless an existing case, draft or drawn trace covers it (counted as a near-duplicate).</summary>
    private bool Take(ClassifiedTrace trace)
    {
        var shingles = WithNorm(Shingles(trace.Trace.Input.ClassificationText));
        if (_covered.Any(c => Cosine(c, shingles) >= _policy.Exclusions.NearDuplicateSimilarity))
        {
            _excluded[ExclusionReason.NearDuplicate] = _excluded.GetValueOrDefault(ExclusionReason.NearDuplicate) + 1;
            return false;
        }

        _covered.Add(shingles);
        return true;
    }

    /// <summary>
    /// Target weights of the strata present: the policy's explicit weights as written (validation refuses weights
    /// that sum above 1, RC1105; nothing rescales them), and the remaining weight shared by traffic share, equally, or
    /// not at all (<c>strata.default</c>).
    /// </summary>
    private Dictionary<string, double> TargetWeights()
    {
        var weights = new Dictionary<string, double>(StringComparer.Ordinal);
        var explicitSum = _eligible.Keys.Where(_policy.Strata.Weights.ContainsKey).Sum(s => _policy.Strata.Weights[s]);
        var remaining = Math.Max(0, 1 - explicitSum);
        var others = _eligible.Keys.Where(s => !_policy.Strata.Weights.ContainsKey(s)).ToList();
        var otherTraffic = others.Sum(s => _eligible[s]);
        foreach (var stratum in _eligible.Keys)
        {
            weights[stratum] = _policy.Strata.Weights.TryGetValue(stratum, out var w) ? w
                : _policy.Strata.Default switch
                {
                    DefaultWeighting.Traffic => otherTraffic == 0 ? 0 : remaining * _eligible[stratum] / otherTraffic,
                    DefaultWeighting.Equal => remaining / others.Count,
                    _ => 0,
                };
        }

        return weights;
    }

    /// <summary>Largest-remainder rounding: whole numbers summing to the rounded total, never above a stratum's eligible count.</summary>
    private Dictionary<string, int> Integerise(Dictionary<string, double> continuous)
    {
        var result = continuous.ToDictionary(kv => kv.Key, kv => (int)Math.Floor(kv.Value), StringComparer.Ordinal);
        var left = (int)Math.Round(continuous.Values.Sum()) - result.Values.Sum();
        foreach (var (stratum, _) in continuous.OrderByDescending(kv => kv.Value - Math.Floor(kv.Value)).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (left <= 0)
            {
                break;
            }

            if (result[stratum] < _eligible[stratum])
            {
                result[stratum]++;
                left--;
            }
        }

        return result;
    }

    private ExclusionReason? Exclude(ClassifiedTrace trace)
    {
        var text = trace.Trace.Input.ClassificationText;
        if (text.Trim().Length < _policy.Exclusions.MinInputChars)
        {
            return ExclusionReason.Unusable;
        }

        if (_patterns.Any(p => p.IsMatch(text)))
        {
            return ExclusionReason.Pattern;
        }

        foreach (var (field, values) in _policy.Exclusions.Metadata)
        {
            if (trace.Trace.Metadata.TryGetValue(field, out var value) && values.Contains(value, StringComparer.Ordinal))
            {
                return ExclusionReason.Metadata;
            }
        }

        return null;
    }

    /// <summary>The exclusion rules of <see cref="Exclude(ClassifiedTrace)"/> on a row's UTF-8, without a string.</summary>
    private ExclusionReason? Exclude(in SampleRow row)
    {
        var length = Encoding.UTF8.GetMaxCharCount(row.Input.Length);
        if (_text.Length < length)
        {
            _text = new char[Math.Max(length, _text.Length * 2)];
        }

        ReadOnlySpan<char> text = _text.AsSpan(0, Encoding.UTF8.GetChars(row.Input, _text));
        if (text.Trim().Length < _policy.Exclusions.MinInputChars)
        {
            return ExclusionReason.Unusable;
        }

        foreach (var pattern in _patterns)
        {
            if (pattern.IsMatch(text))
            {
                return ExclusionReason.Pattern;
            }
        }

        return _metadataRules.Length > 0 && !row.Metadata.IsEmpty && ExcludedByMetadata(row.Metadata) ? ExclusionReason.Metadata : null;
    }

    /// <summary>Whether a metadata JSON object holds a value the policy excludes, read as the store reads metadata back.</summary>
    private bool ExcludedByMetadata(ReadOnlySpan<byte> json)
    {
        var reader = new System.Text.Json.Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != System.Text.Json.JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == System.Text.Json.JsonTokenType.PropertyName)
        {
            // (An array, not the policy's dictionary: enumerating that through its interface allocates per trace.)
            string[]? field = null;
            foreach (var (name, values) in _metadataRules)
            {
                if (reader.ValueTextEquals(name))
                {
                    field = values;
                    break;
                }
            }

            reader.Read();
            if (field is not null)
            {
                var value = reader.TokenType switch
                {
                    System.Text.Json.JsonTokenType.String => reader.GetString()!,
                    System.Text.Json.JsonTokenType.Null => "null",
                    _ => System.Text.Json.JsonDocument.ParseValue(ref reader).RootElement.GetRawText(),
                };
                if (field.Contains(value, StringComparer.Ordinal))
                {
                    return true;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return false;
    }

    /// <summary>A trace's draw priority: the first 8 bytes of SHA-256(seed, key) — the same for the same seed in any order.</summary>
    private ulong Priority(string key) => Ingest.SamplePriority.Of(_sha256, _seedPrefix, key);

    /// <summary>Character 3-grams of the lower-cased, whitespace-collapsed text, with counts.</summary>
    public static Dictionary<string, int> Shingles(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var normal = " " + string.Join(' ', text.ToLowerInvariant().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) + " ";
        var shingles = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + 3 <= normal.Length; i++)
        {
            var gram = normal.Substring(i, 3);
            shingles[gram] = shingles.GetValueOrDefault(gram) + 1;
        }

        return shingles;
    }

    /// <summary>Cosine similarity of two shingle count vectors.</summary>
    public static double Cosine(IReadOnlyDictionary<string, int> a, IReadOnlyDictionary<string, int> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count == 0 || b.Count == 0)
        {
            return 0;
        }

        var (small, large) = a.Count <= b.Count ? (a, b) : (b, a);
        double dot = 0;
        foreach (var (gram, count) in small)
        {
            if (large.TryGetValue(gram, out var other))
            {
                dot += (double)count * other;
            }
        }

        return dot / (Norm(a) * Norm(b));
    }

    private static double Norm(IReadOnlyDictionary<string, int> vector) => Math.Sqrt(vector.Values.Sum(v => (double)v * v));

    private static (Dictionary<string, int> Grams, double Norm) WithNorm(Dictionary<string, int> grams)
    {
        var sum = 0.0;
        foreach (var count in grams.Values)
        {
            sum += (double)count * count;
        }

        return (grams, Math.Sqrt(sum));
    }

    /// <summary>
    /// <see cref="Cosine(IReadOnlyDictionary{string, int}, IReadOnlyDictionary{string, int})"/> with both norms known, over
    /// the concrete dictionaries (no enumerator allocated): the same sums in the same order, so the same value.
    /// </summary>
    private static double Cosine((Dictionary<string, int> Grams, double Norm) a, (Dictionary<string, int> Grams, double Norm) b)
    {
        if (a.Grams.Count == 0 || b.Grams.Count == 0)
        {
            return 0;
        }

        var (small, large) = a.Grams.Count <= b.Grams.Count ? (a.Grams, b.Grams) : (b.Grams, a.Grams);
        double dot = 0;
        foreach (var (gram, count) in small)
        {
            if (large.TryGetValue(gram, out var other))
            {
                dot += (double)count * other;
            }
        }

        return dot / (a.Norm * b.Norm);
    }
}
