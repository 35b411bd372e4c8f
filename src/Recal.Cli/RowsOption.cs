using System.CommandLine;

namespace Recal.Cli;

/// <summary><c>--rows N</c>: how many rows of a long terminal table to show; the rest are counted under it.</summary>
internal static class RowsOption
{
    public static Option<int?> Create(string what, int? byDefault = null)
    {
        var option = new Option<int?>("--rows")
        {
            Description = $"Show at most N rows of {what} (0: all{(byDefault is { } d ? $"; default {d}" : "; default all")}); the rest are counted under it, the JSON has them all",
            HelpName = "n",
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 0)
            {
                result.AddError("--rows: must be 0 (all) or more");
            }
        });
        return option;
    }
}
