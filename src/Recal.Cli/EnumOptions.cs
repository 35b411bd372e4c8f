using System.CommandLine;
using System.CommandLine.Parsing;

namespace Recal.Cli;

/// <summary>
/// Options whose values are an enum's members, spelt in lower case on the command line and in help, and refused with
/// the accepted values and the nearest one (never the .NET type name).
/// </summary>
internal static class EnumOptions
{
    public static string Name<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();

    public static IReadOnlyList<string> Names<T>()
        where T : struct, Enum => [.. Enum.GetValues<T>().Select(Name)];

    /// <summary>An option taking one value; null when it is not given (the caller applies, and describes, the default).</summary>
    public static Option<T?> One<T>(string name, string description)
        where T : struct, Enum => new(name)
        {
            Description = description,
            HelpName = string.Join('|', Names<T>()),
            CustomParser = result => result.Tokens.Count == 0 ? null : Parse<T>(result, result.Tokens[^1].Value),
        };

    /// <summary>An option taking several values, repeated or after one flag.</summary>
    public static Option<T[]> Many<T>(string name, string description)
        where T : struct, Enum => new(name)
        {
            Description = description,
            HelpName = string.Join('|', Names<T>()),
            AllowMultipleArgumentsPerToken = true,
            CustomParser = result => [.. result.Tokens.Select(t => Parse<T>(result, t.Value)).OfType<T>()],
        };

    private static T? Parse<T>(ArgumentResult result, string text)
        where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(Name(value), text, StringComparison.OrdinalIgnoreCase))
            {
                return value;
            }
        }

        var names = Names<T>();
        var option = (result.Parent as OptionResult)?.Option.Name ?? "the option";
        var nearest = Recal.Text.Spelling.Nearest(text, names);
        result.AddError($"{option}: '{text}' is not one of {string.Join(", ", names)}{(nearest is null ? string.Empty : $"; did you mean '{nearest}'?")}");
        return null;
    }
}
