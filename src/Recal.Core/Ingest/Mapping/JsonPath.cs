using System.Globalization;
using System.Text;

namespace Recal.Ingest.Mapping;

/// <summary>
/// A JSON path of the <c>ingest:</c> mapping: <c>$</c> then member names and list indexes, as <c>$.a.b</c>,
/// <c>$.messages[0].content</c>, <c>$['key with spaces']</c> or <c>$.items[-1]</c> (the last item). Filters and wildcards are
/// not part of it: each path names one value of a record.
/// </summary>
public sealed class JsonPath
{
    private readonly object[] _steps;

    private JsonPath(string text, object[] steps)
    {
        Text = text;
        _steps = steps;
    }

    public string Text { get; }

    public override string ToString() => Text;

    /// <summary>Parses a path; on failure <paramref name="error"/> says where and what was expected.</summary>
    public static JsonPath? TryParse(string text, out string? error)
    {
        error = null;
        var steps = new List<object>();
        var i = 0;
        if (text.StartsWith('$'))
        {
            i = 1;
        }
        else
        {
            error = "a JSON path starts with '$' (e.g. $.request.input)";
            return null;
        }

        while (i < text.Length)
        {
            if (text[i] == '.')
            {
                var start = ++i;
                while (i < text.Length && text[i] is not ('.' or '['))
                {
                    i++;
                }

                if (i == start)
                {
                    error = $"a member name is missing after '.' at character {start}";
                    return null;
                }

                steps.Add(text[start..i]);
            }
            else if (text[i] == '[')
            {
                var close = text.IndexOf(']', i);
                if (close < 0)
                {
                    error = $"'[' at character {i + 1} is not closed by ']'";
                    return null;
                }

                var inner = text[(i + 1)..close].Trim();
                if (inner.Length >= 2 && (inner[0] is '\'' or '"') && inner[^1] == inner[0])
                {
                    steps.Add(inner[1..^1]);
                }
                else if (int.TryParse(inner, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index))
                {
                    steps.Add(index);
                }
                else
                {
                    error = $"'[{inner}]' at character {i + 1} is neither an index such as [0] nor a quoted name such as ['name']";
                    return null;
                }

                i = close + 1;
            }
            else
            {
                error = $"expected '.' or '[' at character {i + 1}, found '{text[i]}'";
                return null;
            }
        }

        return new JsonPath(text, [.. steps]);
    }

    /// <summary>The value at the path in a record read by <see cref="Otel.AttributeValues.FromJson"/>; null when absent.</summary>
    public object? Select(object? root)
    {
        var current = root;
        foreach (var step in _steps)
        {
            current = (step, current) switch
            {
                (string name, IReadOnlyDictionary<string, object?> map) => map.GetValueOrDefault(name),
                (int index, object?[] list) when index >= 0 && index < list.Length => list[index],
                (int index, object?[] list) when index < 0 && -index <= list.Length => list[list.Length + index],
                _ => null,
            };
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    /// <summary>The path's last member name (for messages: "field 'created_at' ($.meta.created_at)").</summary>
    public string LastName
    {
        get
        {
            var builder = new StringBuilder();
            foreach (var step in _steps)
            {
                if (step is string name)
                {
                    builder.Clear().Append(name);
                }
            }

            return builder.Length == 0 ? Text : builder.ToString();
        }
    }
}
