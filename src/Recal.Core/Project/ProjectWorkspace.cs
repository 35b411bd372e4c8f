using System.Globalization;
using System.Text;
using System.Text.Json;
using Recal.Diagnostics;

namespace Recal.Project;

/// <summary>
/// The one writer of an eval project's files (cases, drafts, the seal, the changelog). While it is open it holds an
/// exclusive lock on <c>.recal/project.lock</c>, so a second writer waits briefly and then stops with an error naming
/// the holder. Every file is written whole to a temporary file and renamed over the old one. A change of several
/// files (<see cref="Begin"/>) is journalled first: after a crash at any point, the next open completes it (rolls the
/// journal forward), so the project is either as before the change or as after it, never in between.
/// </summary>
public sealed class ProjectWorkspace : IProjectFiles, IDisposable
{
    /// <summary>The folder of the lock and the journal, relative to the project: git-ignored with the store.</summary>
    public const string StateFolder = ".recal";

    public const string LockFileName = "project.lock";

    public const string HolderFileName = "project.lock.holder";

    public const string JournalFileName = "project.journal";

    /// <summary>RC1801: another process holds the project's lock.</summary>
    public const string LockedCode = "RC1801";

    /// <summary>RC1802: a change interrupted by a crash was completed from its journal when the project was opened.</summary>
    public const string RecoveredCode = "RC1802";

    /// <summary>RC1803: the journal of an interrupted change cannot be read; nothing of it was applied.</summary>
    public const string BadJournalCode = "RC1803";

    /// <summary>How long a second writer waits for the lock by default.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(3);

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private static readonly JsonSerializerOptions JournalJson = new(JsonSerializerDefaults.Web);

    private readonly FileStream _lock;
    private readonly WorkspaceOptions _options;
    private readonly List<Diagnostic> _diagnostics = [];

    private ProjectWorkspace(string root, FileStream held, WorkspaceOptions options)
    {
        Root = root;
        _lock = held;
        _options = options;
    }

    /// <summary>The project folder (full path).</summary>
    public string Root { get; }

    /// <summary>What opening found: a change completed from its journal (RC1802).</summary>
    public IReadOnlyList<Diagnostic> Diagnostics => _diagnostics;

    public static string LockPath(string root) => Path.Combine(root, StateFolder, LockFileName);

    public static string JournalPath(string root) => Path.Combine(root, StateFolder, JournalFileName);

    /// <summary>Whether a change was interrupted in the project at <paramref name="root"/> (its journal is still there).</summary>
    public static bool HasInterruptedChange(string root) => File.Exists(JournalPath(Path.GetFullPath(root)));

    /// <summary>
    /// Takes the project's lock (waiting up to <see cref="WorkspaceOptions.Wait"/> for another writer) and completes a
    /// change left by a crash. Throws <see cref="WorkspaceException"/> (RC1801) naming the holder when the lock stays taken.
    /// </summary>
    /// <param name="command">What is writing, for the holder's record (e.g. <c>rotate</c>).</param>
    public static ProjectWorkspace Open(string root, string command, WorkspaceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(command);
        options ??= new WorkspaceOptions();
        var full = Path.GetFullPath(root);
        Directory.CreateDirectory(Path.Combine(full, StateFolder));
        var lockPath = LockPath(full);
        var clock = options.Time;
        var deadline = clock.GetUtcNow() + options.Wait;
        FileStream held;
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive OS lock (flock on Unix): released by the OS if the process dies.
                held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                break;
            }
            catch (IOException) when (File.Exists(lockPath))
            {
                if (clock.GetUtcNow() >= deadline)
                {
                    throw new WorkspaceException(new Diagnostic(
                        Severity.Error,
                        LockedCode,
                        $"another recal command is writing to this project ({ReadHolder(full) ?? "a process that has not said who it is"})",
                        new SourceLocation(Path.Combine(StateFolder, LockFileName)),
                        "wait for it to finish and run this command again; the lock is released when that process ends, even if it is killed"));
                }

                Thread.Sleep(options.PollInterval);
            }
        }

        var workspace = new ProjectWorkspace(full, held, options);
        try
        {
            var holder = string.Create(CultureInfo.InvariantCulture, $"process {Environment.ProcessId} on {Environment.MachineName}, 'recal {command}' since {clock.GetUtcNow():yyyy-MM-dd HH:mm:ss}Z");
            WriteAtomically(Path.Combine(full, StateFolder, HolderFileName), Utf8.GetBytes(holder + "\n"), flush: false);
            workspace.Recover();
        }
        catch
        {
            workspace.Dispose();
            throw;
        }

        return workspace;
    }

    /// <summary>The file's text; null when it does not exist.</summary>
    public string? ReadAllText(string path) => File.Exists(Resolve(path)) ? File.ReadAllText(Resolve(path)) : null;

    /// <summary>The file's lines; none when it does not exist.</summary>
    public string[] ReadAllLines(string path) => File.Exists(Resolve(path)) ? File.ReadAllLines(Resolve(path)) : [];

    /// <summary>Writes a text file whole and atomically.</summary>
    public void WriteAllText(string path, string contents) => Write(path, Utf8.GetBytes(contents));

    /// <summary>Writes lines (each ended by a newline) whole and atomically.</summary>
    public void WriteAllLines(string path, IEnumerable<string> lines) => WriteAllText(path, Lines(lines));

    /// <summary>Appends lines to a file (created when missing): the file is rewritten whole, atomically.</summary>
    public void AppendAllLines(string path, IEnumerable<string> lines)
    {
        var full = Resolve(path);
        WriteAllText(full, (File.Exists(full) ? File.ReadAllText(full) : string.Empty) + Lines(lines));
    }

    /// <summary>Writes bytes whole and atomically.</summary>
    public void Write(string path, byte[] contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        WriteAtomically(Resolve(path), contents, flush: true);
    }

    /// <summary>Deletes a file if it is there.</summary>
    public void Delete(string path) => File.Delete(Resolve(path));

    /// <summary>Starts a change of several files, applied all together by <see cref="WorkspaceChange.Commit"/> or not at all.</summary>
    public WorkspaceChange Begin(string description) => new(this, description);

    /// <summary>The full path of a project file; refuses a path outside the project.</summary>
    public string Resolve(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = Path.GetFullPath(Path.Combine(Root, path));
        var relative = Path.GetRelativePath(Root, full);
        if (relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(relative))
        {
            throw new ArgumentException($"'{path}' is outside the project {Root}", nameof(path));
        }

        return full;
    }

    public void Dispose()
    {
        try
        {
            File.Delete(Path.Combine(Root, StateFolder, HolderFileName));
        }
        catch (IOException)
        {
            // The holder's record is informative only.
        }

        _lock.Dispose();
    }

    internal static string Lines(IEnumerable<string> lines)
    {
        ArgumentNullException.ThrowIfNull(lines);
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line).Append(Environment.NewLine);
        }

        return text.ToString();
    }

    /// <summary>Writes the journal of a change, applies it, then removes the journal.</summary>
    internal void Apply(string description, IReadOnlyList<JournalEntry> entries)
    {
        var journal = new Journal(description, _options.Time.GetUtcNow(), entries);
        WriteAtomically(JournalPath(Root), JsonSerializer.SerializeToUtf8Bytes(journal, JournalJson), flush: true);
        Replay(journal, _options.Fault);
        File.Delete(JournalPath(Root));
    }

    /// <summary>Completes a change a crash interrupted: its journal is whole (it was renamed into place), so every step is applied again.</summary>
    private void Recover()
    {
        var path = JournalPath(Root);
        File.Delete(path + ".tmp");
        if (!File.Exists(path))
        {
            return;
        }

        Journal? journal;
        try
        {
            journal = JsonSerializer.Deserialize<Journal>(File.ReadAllBytes(path), JournalJson);
        }
        catch (JsonException e)
        {
            throw new WorkspaceException(new Diagnostic(Severity.Error, BadJournalCode, $"the journal of an interrupted change cannot be read ({e.Message}); none of it was applied", new SourceLocation(Path.Combine(StateFolder, JournalFileName)), "check the project's files with 'git status' and 'recal validate', then delete the journal"));
        }

        if (journal?.Entries is null)
        {
            throw new WorkspaceException(new Diagnostic(Severity.Error, BadJournalCode, "the journal of an interrupted change is empty; none of it was applied", new SourceLocation(Path.Combine(StateFolder, JournalFileName)), "check the project's files with 'git status' and 'recal validate', then delete the journal"));
        }

        Replay(journal, fault: null);
        File.Delete(path);
        _diagnostics.Add(new Diagnostic(
            Severity.Warning,
            RecoveredCode,
            string.Create(CultureInfo.InvariantCulture, $"a change interrupted at {journal.Started:yyyy-MM-dd HH:mm:ss}Z ({journal.Description}) was completed from its journal: {journal.Entries.Count} file(s) written or removed"),
            new SourceLocation(Path.Combine(StateFolder, JournalFileName)),
            "the project is as the change left it; 'git diff' shows what it changed"));
    }

    private void Replay(Journal journal, Action<int, string>? fault)
    {
        for (var i = 0; i < journal.Entries.Count; i++)
        {
            var entry = journal.Entries[i];
            fault?.Invoke(i, entry.Path);
            var full = Resolve(entry.Path);
            if (entry.Contents is null)
            {
                File.Delete(full);
            }
            else
            {
                WriteAtomically(full, Convert.FromBase64String(entry.Contents), flush: true);
            }
        }
    }

    private static void WriteAtomically(string path, byte[] bytes, bool flush)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(bytes);
            if (flush)
            {
                stream.Flush(flushToDisk: true);
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    private static string? ReadHolder(string root)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(root, StateFolder, HolderFileName)).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>One step of a change: a file's whole new contents (base64), or null to delete it.</summary>
    internal sealed record JournalEntry(string Path, string? Contents);

    private sealed record Journal(string Description, DateTimeOffset Started, IReadOnlyList<JournalEntry> Entries);
}

/// <summary>The project's files as a writer sees them: a workspace (each write atomic) or a change in it (all together).</summary>
public interface IProjectFiles
{
    /// <summary>The project folder; paths are relative to it (or full paths inside it).</summary>
    string Root { get; }

    string? ReadAllText(string path);

    string[] ReadAllLines(string path);

    void WriteAllText(string path, string contents);

    void WriteAllLines(string path, IEnumerable<string> lines);

    /// <summary>Appends lines, each ended by a newline, creating the file when missing.</summary>
    void AppendAllLines(string path, IEnumerable<string> lines);

    void Write(string path, byte[] contents);

    /// <summary>Deletes the file if it is there.</summary>
    void Delete(string path);
}

/// <summary>How a workspace waits for the lock, tells time, and (in tests) fails on purpose.</summary>
public sealed record WorkspaceOptions
{
    /// <summary>How long to wait for another writer before stopping with RC1801.</summary>
    public TimeSpan Wait { get; init; } = ProjectWorkspace.DefaultWait;

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Called before each step of a change is applied, with its index and path: a test throws here to stand for a crash.</summary>
    public Action<int, string>? Fault { get; init; }
}

/// <summary>
/// Files to write and delete together: staged in memory (reads see what is staged), then journalled and applied as
/// one by <see cref="Commit"/>. Dropped without a commit, nothing is changed.
/// </summary>
public sealed class WorkspaceChange : IProjectFiles, IDisposable
{
    private readonly ProjectWorkspace _workspace;
    private readonly string _description;
    private readonly Dictionary<string, byte[]?> _staged = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];
    private bool _done;

    internal WorkspaceChange(ProjectWorkspace workspace, string description)
    {
        _workspace = workspace;
        _description = description;
    }

    public string Root => _workspace.Root;

    /// <summary>The file's text as the change would leave it (staged, else on disk); null when it would not exist.</summary>
    public string? ReadAllText(string path)
    {
        var full = _workspace.Resolve(path);
        if (_staged.TryGetValue(full, out var staged))
        {
            return staged is null ? null : Encoding.UTF8.GetString(staged);
        }

        return File.Exists(full) ? File.ReadAllText(full) : null;
    }

    /// <summary>The file's lines as the change would leave them.</summary>
    public string[] ReadAllLines(string path)
    {
        var lines = new List<string>();
        using var reader = new StringReader(ReadAllText(path) ?? string.Empty);
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return [.. lines];
    }

    public void WriteAllText(string path, string contents) => Stage(path, new UTF8Encoding(false).GetBytes(contents ?? throw new ArgumentNullException(nameof(contents))));

    public void WriteAllLines(string path, IEnumerable<string> lines) => WriteAllText(path, ProjectWorkspace.Lines(lines));

    /// <summary>Appends lines (each ended by a newline) to the file as the change would leave it.</summary>
    public void AppendAllLines(string path, IEnumerable<string> lines) => WriteAllText(path, (ReadAllText(path) ?? string.Empty) + ProjectWorkspace.Lines(lines));

    public void Write(string path, byte[] contents) => Stage(path, contents ?? throw new ArgumentNullException(nameof(contents)));

    public void Delete(string path) => Stage(path, null);

    /// <summary>Journals the staged files, applies them and removes the journal: after a crash the next open completes it.</summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _done = true;
        if (_order.Count == 0)
        {
            return;
        }

        _workspace.Apply(_description, [.. _order.Select(full => new ProjectWorkspace.JournalEntry(
            Path.GetRelativePath(_workspace.Root, full),
            _staged[full] is { } bytes ? Convert.ToBase64String(bytes) : null))]);
    }

    public void Dispose() => _done = true;

    private void Stage(string path, byte[]? contents)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        var full = _workspace.Resolve(path);
        if (_staged.TryAdd(full, contents))
        {
            _order.Add(full);
        }
        else
        {
            _staged[full] = contents;
        }
    }
}

/// <summary>The project cannot be written now (RC1801 locked, RC1803 a journal it cannot read): carries the diagnostic to print.</summary>
public sealed class WorkspaceException(Diagnostic diagnostic) : Exception(diagnostic.Message)
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}
