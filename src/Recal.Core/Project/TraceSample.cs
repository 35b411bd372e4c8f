using Recal.Domain;
using Recal.Ingest;

namespace Recal.Project;

/// <summary>A trace drawn into a sample, with its store key.</summary>
public sealed record ProposalTrace(string Key, Trace Trace)
{
    public string Text => Trace.Input.ClassificationText;
}

/// <summary>One metadata field over every trace read: how many traces carry it and its values, while they are few.</summary>
/// <param name="Traces">Traces with a non-empty value.</param>
/// <param name="Values">Each value and its traces, most frequent first; empty when <see cref="TooMany"/>.</param>
/// <param name="TooMany">More distinct values than the census keeps.</param>
public sealed record FieldValues(string Field, long Traces, IReadOnlyList<KeyValuePair<string, long>> Values, bool TooMany);

/// <summary>
/// A seeded sample of a fixed size from a stream of traces, and a census of their metadata. The sample keeps the
/// traces with the lowest <see cref="SamplePriority"/> under the seed (a bottom-k sample), so it depends on the traces
/// read, not on the order they come in. Traces with an empty input are counted and left out.
/// </summary>
public sealed class TraceSample
{
    private readonly int _size;
    private readonly int _maxValues;
    private readonly byte[] _seedPrefix;
    private readonly System.Security.Cryptography.IncrementalHash _sha256 = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);

    // A max-heap on priority: the root is the first to leave when a lower one comes.
    private readonly PriorityQueue<ProposalTrace, ulong> _kept;
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Traces, Dictionary<string, long>? Values)> _fields = new(StringComparer.Ordinal);

    /// <param name="maxValues">The census keeps the values of a field while it has at most this many.</param>
    public TraceSample(int size, int seed, int maxValues)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _size = size;
        _maxValues = maxValues;
        _seedPrefix = SamplePriority.SeedPrefix(seed);
        _kept = new PriorityQueue<ProposalTrace, ulong>(size + 1, Comparer<ulong>.Create((a, b) => b.CompareTo(a)));
    }

    /// <summary>Traces offered.</summary>
    public long Read { get; private set; }

    /// <summary>Traces left out because their input is empty.</summary>
    public long EmptyInputs { get; private set; }

    public void Add(string key, Trace trace)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(trace);
        Read++;
        foreach (var (field, value) in trace.Metadata)
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            var (traces, values) = _fields.GetValueOrDefault(field, (0, new Dictionary<string, long>(StringComparer.Ordinal)));
            if (values is not null)
            {
                values[value] = values.GetValueOrDefault(value) + 1;
                if (values.Count > _maxValues)
                {
                    values = null;
                }
            }

            _fields[field] = (traces + 1, values);
        }

        if (string.IsNullOrWhiteSpace(trace.Input.ClassificationText))
        {
            EmptyInputs++;
            return;
        }

        var priority = SamplePriority.Of(_sha256, _seedPrefix, key);
        if (_kept.Count == _size && (!_kept.TryPeek(out _, out var highest) || priority >= highest))
        {
            return;
        }

        if (!_keys.Add(key))
        {
            return;
        }

        _kept.Enqueue(new ProposalTrace(key, trace), priority);
        if (_kept.Count > _size)
        {
            _keys.Remove(_kept.Dequeue().Key);
        }
    }

    /// <summary>The sampled traces in key order.</summary>
    public IReadOnlyList<ProposalTrace> Traces() =>
        [.. _kept.UnorderedItems.Select(i => i.Element).OrderBy(t => t.Key, StringComparer.Ordinal)];

    /// <summary>Every metadata field seen, by name.</summary>
    public IReadOnlyList<FieldValues> Fields() =>
        [.. _fields.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => new FieldValues(
            f.Key,
            f.Value.Traces,
            f.Value.Values is { } values ? [.. values.OrderByDescending(v => v.Value).ThenBy(v => v.Key, StringComparer.Ordinal)] : [],
            f.Value.Values is null))];
}
