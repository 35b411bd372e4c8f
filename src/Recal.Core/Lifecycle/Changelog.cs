using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Recal.Lifecycle;

/// <summary>One case's move in a change: from a pool (or <c>draft</c>, or <c>sealed</c>) to another.</summary>
/// <param name="Reason">Why this case moved, in words (the rule's finding for it).</param>
public sealed record CaseMove(string CaseId, string? From, string? To, string? Reason = null);

/// <summary>One change to the eval set: what moved, why, under which rule and policy version, and the suite versions around it.</summary>
/// <param name="Command">The command that made it, e.g. <c>label import</c> or <c>rotate</c>.</param>
/// <param name="Rule">The lifecycle rule applied: labelling, seal, unseal, rotation, promotion, retirement.</param>
public sealed record ChangeEntry(
    DateTimeOffset At,
    string Command,
    string Rule,
    int PolicyVersion,
    string SuiteBefore,
    string SuiteAfter,
    string Summary,
    IReadOnlyList<CaseMove> Moves)
{
    /// <summary>Who owned the set when the change was made (the policy's <c>ownership.owner</c>); null when none was named.</summary>
    public string? Owner { get; init; }
}

/// <summary>
/// The set's lineage (<c>changelog.jsonl</c> in the project): one entry per change, appended, never rewritten.
/// With the project under git, any past suite version is rebuilt from the commit whose changelog ends with it.
/// </summary>
public static class Changelog
{
    public const string FileName = "changelog.jsonl";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string PathIn(string root) => System.IO.Path.Combine(root, FileName);

    /// <summary>Appends an entry through the project's workspace (with a change, together with what it records).</summary>
    public static void Append(Project.IProjectFiles files, ChangeEntry entry)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(entry);
        var existing = files.ReadAllText(FileName) ?? string.Empty;
        files.WriteAllText(FileName, existing + JsonSerializer.Serialize(entry, Json) + "\n");
    }

    /// <summary>The entries, oldest first; lines that do not parse are reported with their number.</summary>
    public static (IReadOnlyList<ChangeEntry> Entries, IReadOnlyList<string> Problems) Read(string root)
    {
        var path = PathIn(root);
        var entries = new List<ChangeEntry>();
        var problems = new List<string>();
        if (!File.Exists(path))
        {
            return (entries, problems);
        }

        foreach (var (number, line) in Text.JsonLines.Read(path))
        {
            try
            {
                entries.Add(JsonSerializer.Deserialize<ChangeEntry>(line, Json) ?? throw new JsonException("empty"));
            }
            catch (JsonException e)
            {
                problems.Add($"{FileName}:{number}: not a changelog entry ({e.Message})");
            }
        }

        return (entries, problems);
    }

    /// <summary>
    /// Finds the git commit at which the project's suite was <paramref name="suiteVersion"/>: the newest commit whose
    /// changelog's last entry has that version after it. Null with a reason when there is none.
    /// </summary>
    public static (string? Commit, string? Error) FindCommit(string root, string suiteVersion)
    {
        ArgumentNullException.ThrowIfNull(suiteVersion);
        var (log, error) = Git(root, "log", "--format=%H", "--", FileName);
        if (log is null)
        {
            return (null, error);
        }

        foreach (var commit in log.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var (text, _) = Git(root, "show", $"{commit}:./{FileName}");
            var last = text?.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
            if (last is null)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize<ChangeEntry>(last, Json)?.SuiteAfter == suiteVersion)
                {
                    return (commit, null);
                }
            }
            catch (JsonException)
            {
                // A commit with a broken last line cannot be the one.
            }
        }

        return (null, $"no commit of {FileName} ends with suite version {suiteVersion}: commit the project after each change to the set");
    }

    /// <summary>Writes the project as it was at <paramref name="commit"/> into <paramref name="destination"/>.</summary>
    public static string? Export(string root, string commit, string destination)
    {
        ArgumentNullException.ThrowIfNull(commit);
        ArgumentNullException.ThrowIfNull(destination);
        var (prefix, error) = Git(root, "rev-parse", "--show-prefix");
        if (prefix is null)
        {
            return error;
        }

        var (files, listError) = Git(root, "ls-tree", "-r", "--name-only", commit, ".");
        if (files is null)
        {
            return listError;
        }

        foreach (var file in files.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var relative = file.StartsWith(prefix.Trim(), StringComparison.Ordinal) ? file[prefix.Trim().Length..] : file;
            var target = System.IO.Path.Combine(destination, relative);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            using var process = Start(root, "show", $"{commit}:{file}");
            using (var output = File.Create(target))
            {
                process.StandardOutput.BaseStream.CopyTo(output);
            }

            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                return $"git show {commit}:{file} failed: {process.StandardError.ReadToEnd().Trim()}";
            }
        }

        return null;
    }

    private static (string? Output, string? Error) Git(string root, params string[] arguments)
    {
        try
        {
            using var process = Start(root, arguments);
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? (output, null) : (null, $"git {arguments[0]}: {error.Trim()}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (null, $"git is not available ({e.Message}); rebuilding a past version needs the project under git");
        }
    }

    private static Process Start(string root, params string[] arguments)
    {
        var info = new ProcessStartInfo("git")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info) ?? throw new InvalidOperationException("git did not start");
    }
}
