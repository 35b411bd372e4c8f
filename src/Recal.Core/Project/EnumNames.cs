using System.Text.Json;

namespace Recal.Project;

/// <summary>Enum values as project files spell them: snake_case (<c>BugReport</c> is <c>bug_report</c>).</summary>
public static class EnumNames
{
    public static string Name<T>(T value)
        where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static IReadOnlyList<string> Of<T>()
        where T : struct, Enum => [.. Enum.GetValues<T>().Select(Name)];

    public static bool TryParse<T>(string text, out T value)
        where T : struct, Enum
    {
        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(Name(candidate), text, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        value = default;
        return false;
    }
}
