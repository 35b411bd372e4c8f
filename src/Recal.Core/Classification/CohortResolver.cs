using System.Collections.Concurrent;
using System.Text;
using Recal.Domain;

namespace Recal.Classification;

/// <summary>Values of a cohort's metadata field that its taxonomy does not list, counted as its missing value.</summary>
/// <param name="Traces">Traces with an unlisted value.</param>
/// <param name="Values">The most frequent unlisted values with their trace counts, most frequent first.</param>
/// <param name="Distinct">How many distinct unlisted values were seen (at most <see cref="CohortResolver.MaxUnlistedValues"/> are told apart).</param>
public sealed record UnlistedCohortValues(CohortDimension Dimension, long Traces, IReadOnlyList<(string Value, long Traces)> Values, int Distinct);

/// <summary>
/// Turns trace metadata into a cohort key <c>dim=value|dim=value</c> in taxonomy order, and back.
/// In values, <c>\</c>, <c>|</c> and <c>=</c> are escaped with a backslash so any value round-trips.
/// </summary>
public sealed class CohortResolver
{
    /// <summary>Distinct unlisted values told apart per dimension; more are counted in the total only (a field of ids must not grow memory).</summary>
    public const int MaxUnlistedValues = 256;

    private readonly IReadOnlyList<CohortDimension> _dimensions;
    private readonly HashSet<string>[] _allowed;
    private readonly ConcurrentDictionary<string, long>[] _unlisted;
    private readonly long[] _unlistedTraces;

    public CohortResolver(Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        _dimensions = taxonomy.Cohorts;
        _allowed = [.. _dimensions.Select(d => new HashSet<string>(d.Values, StringComparer.Ordinal))];
        _unlisted = [.. _dimensions.Select(_ => new ConcurrentDictionary<string, long>(StringComparer.Ordinal))];
        _unlistedTraces = new long[_dimensions.Count];
    }

    /// <summary>
    /// The values resolved so far that a dimension with listed values does not list (they became its missing value),
    /// per dimension that had any, so ingest can name them instead of folding them silently.
    /// </summary>
    public IReadOnlyList<UnlistedCohortValues> Unlisted()
    {
        var result = new List<UnlistedCohortValues>();
        for (var i = 0; i < _dimensions.Count; i++)
        {
            var traces = Interlocked.Read(ref _unlistedTraces[i]);
            if (traces == 0)
            {
                continue;
            }

            var values = _unlisted[i].Select(p => (p.Key, p.Value)).OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
            result.Add(new UnlistedCohortValues(_dimensions[i], traces, values, values.Count));
        }

        return result;
    }

    private void CountUnlisted(int dimension, string value)
    {
        Interlocked.Increment(ref _unlistedTraces[dimension]);
        var counts = _unlisted[dimension];
        if (counts.Count < MaxUnlistedValues || counts.ContainsKey(value))
        {
            counts.AddOrUpdate(value, 1, (_, n) => n + 1);
        }
    }

    /// <summary>The cohort value of each dimension for these metadata, in taxonomy order.</summary>
    public IEnumerable<KeyValuePair<string, string>> Resolve(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        for (var i = 0; i < _dimensions.Count; i++)
        {
            var dimension = _dimensions[i];
            var present = metadata.TryGetValue(dimension.Field, out var v) && !string.IsNullOrEmpty(v);
            if (present && (_allowed[i].Count == 0 || _allowed[i].Contains(v!)))
            {
                yield return new(dimension.Name, v!);
                continue;
            }

            if (present)
            {
                CountUnlisted(i, v!);
            }

            yield return new(dimension.Name, dimension.Missing);
        }
    }

    /// <summary>The cohort key for these metadata.</summary>
    public string Key(IReadOnlyDictionary<string, string> metadata) => FormatKey(Resolve(metadata));

    public static string FormatKey(IEnumerable<KeyValuePair<string, string>> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var key = new StringBuilder();
        foreach (var (dimension, value) in values)
        {
            if (key.Length > 0)
            {
                key.Append('|');
            }

            Escape(key, dimension);
            key.Append('=');
            Escape(key, value);
        }

        return key.ToString();
    }

    /// <summary>Parses a cohort key back into (dimension, value) pairs.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseKey(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var pairs = new List<KeyValuePair<string, string>>();
        if (key.Length == 0)
        {
            return pairs;
        }

        var current = new StringBuilder();
        string? dimension = null;
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c == '\\' && i + 1 < key.Length)
            {
                current.Append(key[++i]);
            }
            else if (c == '=' && dimension is null)
            {
                dimension = current.ToString();
                current.Clear();
            }
            else if (c == '|')
            {
                pairs.Add(new(dimension ?? string.Empty, current.ToString()));
                dimension = null;
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }

        pairs.Add(new(dimension ?? string.Empty, current.ToString()));
        return pairs;
    }

    private static void Escape(StringBuilder builder, string text)
    {
        foreach (var c in text)
        {
            if (c is '\\' or '|' or '=')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }
    }
}
