using System.Text;
using Recal.Domain;

namespace Recal.Classification;

/// <summary>
/// Turns trace metadata into a cohort key <c>dim=value|dim=value</c> in taxonomy order, and back.
/// In values, <c>\</c>, <c>|</c> and <c>=</c> are escaped with a backslash so any value round-trips.
/// </summary>
public sealed class CohortResolver
{
    private readonly IReadOnlyList<CohortDimension> _dimensions;
    private readonly HashSet<string>[] _allowed;

    public CohortResolver(Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        _dimensions = taxonomy.Cohorts;
        _allowed = [.. _dimensions.Select(d => new HashSet<string>(d.Values, StringComparer.Ordinal))];
    }

    /// <summary>The cohort value of each dimension for these metadata, in taxonomy order.</summary>
    public IEnumerable<KeyValuePair<string, string>> Resolve(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        for (var i = 0; i < _dimensions.Count; i++)
        {
            var dimension = _dimensions[i];
            var value = metadata.TryGetValue(dimension.Field, out var v) && !string.IsNullOrEmpty(v) && (_allowed[i].Count == 0 || _allowed[i].Contains(v))
                ? v
                : dimension.Missing;
            yield return new(dimension.Name, value);
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
