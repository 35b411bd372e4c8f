using Spectre.Console;

namespace Recal.Reporting.Terminal;

/// <summary>Plain text wrapped to the console's width between words, never inside a number or a name.</summary>
public static class TerminalText
{
    /// <summary>The text's lines at a width; continuation lines start with <paramref name="indent"/> spaces.</summary>
    public static IReadOnlyList<string> Wrap(string text, int width, int indent = 0)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = new List<string>();
        var line = new System.Text.StringBuilder();
        var leading = text.Length - text.TrimStart(' ').Length;
        line.Append(' ', leading);
        var empty = true;
        foreach (var word in text.TrimStart(' ').Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!empty && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear().Append(' ', indent);
                empty = true;
            }

            if (!empty)
            {
                line.Append(' ');
            }

            line.Append(word);
            empty = false;
        }

        lines.Add(line.ToString());
        return lines;
    }

    /// <summary>
    /// A prefix then units that never break inside (a label with its value), joined by a separator and wrapped between
    /// units; continuation lines start with <paramref name="indent"/> spaces.
    /// </summary>
    public static IReadOnlyList<string> WrapUnits(string prefix, IEnumerable<string> units, string separator, int width, int indent)
    {
        ArgumentNullException.ThrowIfNull(units);
        var lines = new List<string>();
        var line = new System.Text.StringBuilder(prefix);
        var first = true;
        // A unit longer than a line breaks between its words after all.
        foreach (var unit in units.SelectMany(u => indent + u.Length < width ? new[] { u } : u.Split(' ')))
        {
            var joint = first ? string.Empty : separator;
            // Room is kept for the separator that may follow the unit.
            if (!first && line.Length + joint.Length + unit.Length + separator.TrimEnd().Length > width)
            {
                lines.Add(line.Append(joint.TrimEnd()).ToString());
                line.Clear().Append(' ', indent);
                joint = string.Empty;
            }

            line.Append(joint).Append(unit);
            first = false;
        }

        lines.Add(line.ToString());
        return lines;
    }

    /// <summary>The text wrapped at the width, as one string with line breaks.</summary>
    public static string Fit(string text, int width, int indent = 0) => string.Join(Environment.NewLine, Wrap(text, width, indent));

    /// <summary>Writes plain text with a hanging indent, escaped.</summary>
    public static void WriteHanging(IAnsiConsole console, string text, int indent, string? style = null)
    {
        ArgumentNullException.ThrowIfNull(console);
        foreach (var line in Wrap(text, console.Profile.Width - 1, indent))
        {
            console.MarkupLine(style is null ? Markup.Escape(line) : $"[{style}]{Markup.Escape(line)}[/]");
        }
    }
}
