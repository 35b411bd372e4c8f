using System.Diagnostics;
using System.Globalization;

namespace Recal.Storage.Sqlite;

/// <summary>
/// Sessions: every process that opens the store for writing leaves a marker file beside it (in
/// <c>&lt;store&gt;.sessions/</c>, named by host, process id and a random part) and removes it when it closes the store.
/// A marker of this host whose process is gone means that process stopped without closing the store (a kill, a crash,
/// a power loss): the next open runs SQLite's quick check before it uses the store.
/// </summary>
public sealed partial class SqliteStore
{
    private string? _sessionMarker;

    /// <summary>
    /// When the store was found not closed cleanly by a process that has stopped, and its quick check found no damage:
    /// which process it was. Null otherwise.
    /// </summary>
    public string? UncleanShutdown { get; private set; }

    /// <summary>The folder of the session markers of the store at <paramref name="storePath"/>.</summary>
    public static string SessionsFolder(string storePath) => storePath + ".sessions";

    /// <summary>
    /// Looks for markers left by stopped processes; if there are any, runs the quick check (a damaged store throws
    /// RC3004) and, when writing, removes them; then, when writing, leaves this session's marker.
    /// </summary>
    private async Task BeginSessionAsync(bool writing, bool check, CancellationToken cancellationToken)
    {
        var folder = SessionsFolder(Path);
        var stale = check ? StaleMarkers(folder) : [];
        if (stale.Count > 0)
        {
            var problems = await CheckIntegrityAsync(quick: true, limit: 10, cancellationToken).ConfigureAwait(false);
            var who = string.Join(", ", stale.Select(s => s.Process));
            if (problems.Count > 0)
            {
                throw new StoreException(
                    StoreException.Damaged,
                    $"the store was not closed cleanly ({who} stopped with it open) and SQLite's quick check finds it damaged: {problems[0]}{(problems.Count > 1 ? $" (and {problems.Count - 1} more)" : string.Empty)}",
                    Path,
                    "restore the store from a backup, or move it away and ingest the traffic again; 'recal store check' lists every problem");
            }

            UncleanShutdown = who;
            if (writing)
            {
                foreach (var (marker, _) in stale)
                {
                    TryDelete(marker);
                }
            }
        }

        if (!writing)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(folder);
            var marker = System.IO.Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}"));
            await File.WriteAllTextAsync(marker, string.Empty, cancellationToken).ConfigureAwait(false);
            _sessionMarker = marker;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A folder nobody may write: the store is used without a marker, and a crash goes unnoticed by the next open.
        }
    }

    /// <summary>Removes this session's marker, and the folder when it is the last.</summary>
    private void EndSession()
    {
        if (_sessionMarker is null)
        {
            return;
        }

        TryDelete(_sessionMarker);
        _sessionMarker = null;
        try
        {
            Directory.Delete(SessionsFolder(Path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another session's marker is still there.
        }
    }

    /// <summary>This host's markers whose process has stopped (markers of other hosts, on a shared folder, are left alone).</summary>
    private static List<(string Marker, string Process)> StaleMarkers(string folder)
    {
        var stale = new List<(string, string)>();
        if (!Directory.Exists(folder))
        {
            return stale;
        }

        var host = Environment.MachineName + "-";
        foreach (var marker in Directory.EnumerateFiles(folder))
        {
            var name = System.IO.Path.GetFileName(marker);
            var parts = name.StartsWith(host, StringComparison.Ordinal) ? name[host.Length..].Split('-') : [];
            if (parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !IsRunning(pid))
            {
                stale.Add((marker, string.Create(CultureInfo.InvariantCulture, $"process {pid}")));
            }
        }

        return stale;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void TryDelete(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next open.
        }
    }
}
