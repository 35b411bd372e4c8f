using System.Globalization;
using System.Text.RegularExpressions;
using Recal.Diagnostics;
using Recal.Text;
using YamlDotNet.RepresentationModel;

namespace Recal.Project;

/// <summary>
/// Typed, located reads from a YAML mapping: every problem becomes a diagnostic with file, line and column,
/// and reading goes on so all problems are reported at once.
/// </summary>
internal sealed partial class YamlObject
{
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public YamlObject(YamlMappingNode node, string file, DiagnosticBag diagnostics, string path = "")
    {
        Node = node;
        File = file;
        Diagnostics = diagnostics;
        Path = path;
    }

    public YamlMappingNode Node { get; }

    public string File { get; }

    public DiagnosticBag Diagnostics { get; }

    public string Path { get; }

    public SourceLocation Location => At(Node);

    public SourceLocation At(YamlNode node) => new(File, (int)node.Start.Line, (int)node.Start.Column);

    public string Name(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public YamlNode? Get(string key, bool required = false)
    {
        _read.Add(key);
        foreach (var (k, v) in Node.Children)
        {
            if (k is YamlScalarNode scalar && scalar.Value == key)
            {
                return v is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: null or "" or "~" or "null" } ? null : v;
            }
        }

        if (required)
        {
            Diagnostics.Error("RC1004", $"'{Name(key)}' is required", Location);
        }

        return null;
    }

    public string? String(string key, bool required = false)
    {
        var node = Get(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode scalar)
        {
            return scalar.Value;
        }

        TypeError(key, node, "a string");
        return null;
    }

    public int? Int(string key, bool required = false, int min = int.MinValue, int max = int.MaxValue)
    {
        var node = Get(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode { Value: { } text } && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
        {
            if (value < min || value > max)
            {
                Diagnostics.Error("RC1006", $"'{Name(key)}' is {value}; it must be {Range(min, max)}", At(node));
                return null;
            }

            return value;
        }

        TypeError(key, node, "a whole number");
        return null;
    }

    public double? Double(string key, bool required = false, double min = double.NegativeInfinity, double max = double.PositiveInfinity)
    {
        var node = Get(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode { Value: { } text } && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
        {
            if (value < min || value > max)
            {
                Diagnostics.Error("RC1006", $"'{Name(key)}' is {text}; it must be {Range(min, max)}", At(node));
                return null;
            }

            return value;
        }

        TypeError(key, node, "a number");
        return null;
    }

    public bool? Bool(string key)
    {
        var node = Get(key);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode { Value: { } text } && bool.TryParse(text, out var value))
        {
            return value;
        }

        TypeError(key, node, "true or false");
        return null;
    }

    /// <summary>The longest duration a setting takes unless it says otherwise: 100 years (36500d, 5214w).</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(36_500);

    /// <summary>A duration such as <c>28d</c>, <c>4w</c> or <c>12h</c>, at most <paramref name="max"/> (default <see cref="MaxDuration"/>).</summary>
    public TimeSpan? Duration(string key, bool required = false, TimeSpan? max = null)
    {
        var node = Get(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode { Value: { } text } && TryParseDurationSeconds(text, out var seconds))
        {
            var limit = max ?? MaxDuration;
            if (seconds > limit.TotalSeconds)
            {
                Diagnostics.Error("RC1006", $"'{Name(key)}' is {text.Trim()}; it must be at most {Describe(limit)}", At(node), $"the allowed range is 1s to {Describe(limit)}");
                return null;
            }

            return TimeSpan.FromSeconds(seconds);
        }

        Diagnostics.Error("RC1009", $"'{Name(key)}' must be a duration", At(node), "write a positive whole number and a unit: s (seconds), min (minutes), h (hours), d (days) or w (weeks), e.g. 28d or 30s");
        return null;
    }

    public T? Enum<T>(string key, T? fallback = null, bool required = false)
        where T : struct, System.Enum
    {
        var node = Get(key, required);
        if (node is null)
        {
            return fallback;
        }

        if (node is YamlScalarNode { Value: { } text })
        {
            if (EnumNames.TryParse<T>(text, out var value))
            {
                return value;
            }

            Diagnostics.Error("RC1007", $"'{Name(key)}' has the unknown value '{text}'", At(node), Spelling.Hint(text, EnumNames.Of<T>()));
            return fallback;
        }

        TypeError(key, node, $"one of {string.Join(", ", EnumNames.Of<T>())}");
        return fallback;
    }

    public YamlObject? Object(string key, bool required = false)
    {
        var node = Get(key, required);
        if (node is null)
        {
            return null;
        }

        if (node is YamlMappingNode mapping)
        {
            return new YamlObject(mapping, File, Diagnostics, Name(key));
        }

        TypeError(key, node, "a mapping of keys to values");
        return null;
    }

    public IReadOnlyList<YamlNode> Sequence(string key, bool required = false)
    {
        var node = Get(key, required);
        if (node is null)
        {
            return [];
        }

        if (node is YamlSequenceNode sequence)
        {
            return [.. sequence.Children];
        }

        TypeError(key, node, "a list");
        return [];
    }

    /// <summary>A list of strings; a single string is accepted as a list of one.</summary>
    public IReadOnlyList<string> Strings(string key, bool required = false)
    {
        var node = Get(key, required);
        if (node is YamlScalarNode { Value: { } single })
        {
            return [single];
        }

        var result = new List<string>();
        foreach (var item in Sequence(key))
        {
            if (item is YamlScalarNode { Value: { } text })
            {
                result.Add(text);
            }
            else
            {
                Diagnostics.Error("RC1005", $"every item of '{Name(key)}' must be a string", At(item));
            }
        }

        return result;
    }

    /// <summary>Reports every key this object did not read, with the nearest known key.</summary>
    public void RejectUnknownKeys()
    {
        foreach (var key in Node.Children.Keys)
        {
            if (key is YamlScalarNode { Value: { } name } && !_read.Contains(name))
            {
                Diagnostics.Error("RC1003", $"unknown key '{Name(name)}'", At(key), Spelling.Hint(name, [.. _read]));
            }
        }
    }

    /// <summary>Parses a duration; false when it is malformed or beyond what a <see cref="TimeSpan"/> holds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = default;
        if (!TryParseDurationSeconds(text, out var seconds) || seconds >= TimeSpan.MaxValue.TotalSeconds)
        {
            return false;
        }

        duration = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>A duration in seconds, as a double so that no count overflows (2147483647w is 1.3 × 10¹⁵ s).</summary>
    private static bool TryParseDurationSeconds(string text, out double seconds)
    {
        seconds = 0;
        var match = DurationPattern().Match(text.Trim());
        if (!match.Success || !long.TryParse(match.Groups[1].Value, CultureInfo.InvariantCulture, out var count) || count <= 0)
        {
            return false;
        }

        seconds = count * match.Groups[2].Value switch
        {
            "s" => 1.0,
            "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => 604800.0,
        };
        return true;
    }

    private static string Describe(TimeSpan limit) =>
        limit.TotalDays >= 1 && limit.TotalDays == Math.Floor(limit.TotalDays) ? $"{limit.TotalDays.ToString(CultureInfo.InvariantCulture)}d"
        : limit.TotalHours == Math.Floor(limit.TotalHours) ? $"{limit.TotalHours.ToString(CultureInfo.InvariantCulture)}h"
        : $"{limit.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s";

    private void TypeError(string key, YamlNode node, string expected) =>
        Diagnostics.Error("RC1005", $"'{Name(key)}' must be {expected}", At(node), node is YamlScalarNode { Value: { } v } ? $"found '{v}'" : $"found a {Kind(node)}");

    private static string Kind(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "value",
    };

    private static string Range(double min, double max) =>
        double.IsNegativeInfinity(min) ? $"at most {max.ToString(CultureInfo.InvariantCulture)}"
        : double.IsPositiveInfinity(max) ? $"at least {min.ToString(CultureInfo.InvariantCulture)}"
        : $"between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}";

    [GeneratedRegex("^([0-9]+)\\s*(s|min|h|d|w)$")]
    private static partial Regex DurationPattern();
}
