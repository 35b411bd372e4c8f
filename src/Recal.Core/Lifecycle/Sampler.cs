using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Recal.Classification;
using Recal.Domain;

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
    private readonly Dictionary<string, PriorityQueue<ClassifiedTrace, ulong>> _reservoirs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _eligible = new(StringComparer.Ordinal);
    private readonly Dictionary<ExclusionReason, long> _excluded = [];
    private readonly List<Dictionary<string, int>> _covered;
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
        _covered = [.. existing.Where(c => c.Pool != Pool.Retired).Select(c => Shingles(c.Input.ClassificationText))];
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
    public void Cover(string text) => _covered.Add(Shingles(text ?? throw new ArgumentNullException(nameof(text))));

    /// <summary>Offers one trace of the window.</summary>
    public void Add(ClassifiedTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        _seen++;
        if (_where is not null && !_where.Matches(trace))
        {
            return;
        }

        var stratum = StratumOf(_policy.Strata.By, trace.Intent, trace.CohortKey);
        if (_where is not null)
        {
            _matched[stratum] = _matched.GetValueOrDefault(stratum) + 1;
        }

        if (Exclude(trace) is { } reason)
        {
            _excluded[reason] = _excluded.GetValueOrDefault(reason) + 1;
            return;
        }

        _eligible[stratum] = _eligible.GetValueOrDefault(stratum) + 1;
        if (!_reservoirs.TryGetValue(stratum, out var reservoir))
        {
            // A max-queue on priority: the root is the worst kept candidate.
            _reservoirs[stratum] = reservoir = new PriorityQueue<ClassifiedTrace, ulong>(Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
        }

        var priority = Priority(trace.Key);
        var capacity = Math.Max(_size, _policy.Strata.Floor) + Slack;
        if (reservoir.Count < capacity)
        {
            reservoir.Enqueue(trace, priority);
        }
        else if (reservoir.TryPeek(out _, out var worst) && priority < worst)
        {
            reservoir.DequeueEnqueue(trace, priority);
        }
    }

    /// <summary>Allocates the sample over the strata seen and draws it.</summary>
    public SampleResult Draw()
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
            var candidates = new List<(ClassifiedTrace Trace, ulong Priority)>();
            var reservoir = _reservoirs[stratum];
            while (reservoir.TryDequeue(out var trace, out var priority))
            {
                candidates.Add((trace, priority));
            }

            var count = 0;
            foreach (var (trace, _) in candidates.OrderBy(c => c.Priority).ThenBy(c => c.Trace.Key, StringComparer.Ordinal))
            {
                if (count == allocated[stratum])
                {
                    break;
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
        var shingles = Shingles(trace.Trace.Input.ClassificationText);
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

    /// <summary>A trace's draw priority: the first 8 bytes of SHA-256(seed, key) — the same for the same seed in any order.</summary>
    private ulong Priority(string key) =>
        BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes($"{_seed}\u001f{key}")));

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
}
