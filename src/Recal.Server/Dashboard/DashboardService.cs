using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Project;
using Recal.Storage;

namespace Recal.Server.Dashboard;

/// <summary>
/// What the dashboard's views read: the project as its files are now (loaded again when one changes), the store's state
/// (stored traffic and runs), and each view's computation cached until that state changes — at most once per
/// <see cref="MinimumAge"/> while traffic keeps arriving, so a receiver under load does not recompute every view per batch.
/// </summary>
internal sealed class DashboardService(RecalServerContext context)
{
    /// <summary>A result younger than this is shown again even if traffic has arrived since (the page says when it was computed).</summary>
    public static readonly TimeSpan MinimumAge = TimeSpan.FromSeconds(15);

    /// <summary>Views kept at most (a query string is a key of its own): beyond, the cache starts afresh.</summary>
    private const int MaxEntries = 256;

    private readonly ConcurrentDictionary<string, Lazy<Task<Computed>>> _results = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _heavy = new(1, 1);
    private readonly Lock _projectLock = new();
    private (string Stamp, EvalProject? Project, IReadOnlyList<Diagnostic> Problems) _project = (string.Empty, null, []);

    public RecalServerContext Context { get; } = context;

    public IRecalStore Store => Context.ViewStore ?? Context.Store;

    /// <summary>The project as its files are now, or the problems that keep it from loading.</summary>
    public (EvalProject? Project, IReadOnlyList<Diagnostic> Problems) Project()
    {
        if (Context.ProjectRoot is not { } root)
        {
            return (null, [new Diagnostic(Severity.Error, "RC4003", "the server was started without a project folder", null, "start it with recal serve --project DIR")]);
        }

        var stamp = ProjectStamp(root);
        lock (_projectLock)
        {
            if (_project.Stamp != stamp)
            {
                var (project, problems) = EvalProjectLoader.Load(root);
                _project = (stamp, project, problems);
            }

            return (_project.Project, _project.Problems);
        }
    }

    /// <summary>
    /// The state the pages show and the script compares: the project files' stamp, the stored traffic (count and newest
    /// trace) and the newest run with its status. Any change to what a view shows changes it.
    /// </summary>
    public async Task<string> StateAsync(CancellationToken cancellationToken)
    {
        var projectStamp = Context.ProjectRoot is { } root ? ProjectStamp(root) : "none";
        var span = await Store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        var runs = await Store.QueryRunsAsync(new RunQuery(Limit: 1), cancellationToken).ConfigureAwait(false);
        var text = string.Create(CultureInfo.InvariantCulture, $"{projectStamp}|{span?.Count}|{span?.Last.UtcTicks}|{runs.FirstOrDefault()?.Id}|{runs.FirstOrDefault()?.Status}|{runs.FirstOrDefault()?.Finished?.UtcTicks}");
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }

    /// <summary>
    /// A view's computation for <paramref name="key"/> (the view and its query), shared by every request that asks for
    /// it while it runs, reused until the state changes and it is older than <see cref="MinimumAge"/>. Heavy computations
    /// (drift, coverage, check) run one at a time.
    /// </summary>
    public async Task<T> GetAsync<T>(string key, string state, bool heavy, Func<CancellationToken, Task<T>> compute)
    {
        ArgumentNullException.ThrowIfNull(compute);
        if (_results.Count >= MaxEntries)
        {
            _results.Clear();
        }

        while (true)
        {
            var entry = _results.GetOrAdd(key, _ => new Lazy<Task<Computed>>(() => RunAsync(state, heavy, async ct => (object?)await compute(ct).ConfigureAwait(false))));
            Computed computed;
            try
            {
                computed = await entry.Value.ConfigureAwait(false);
            }
            catch
            {
                // A failed computation is not kept: the next request tries again.
                _results.TryRemove(new KeyValuePair<string, Lazy<Task<Computed>>>(key, entry));
                throw;
            }

            if (computed.State == state || DateTimeOffset.UtcNow - computed.At < MinimumAge)
            {
                return (T)computed.Value!;
            }

            _results.TryRemove(new KeyValuePair<string, Lazy<Task<Computed>>>(key, entry));
        }
    }

    private async Task<Computed> RunAsync(string state, bool heavy, Func<CancellationToken, Task<object?>> compute)
    {
        if (heavy)
        {
            await _heavy.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            // Shared by every request waiting for it: one leaving does not cancel it for the others.
            return new Computed(state, DateTimeOffset.UtcNow, await compute(CancellationToken.None).ConfigureAwait(false));
        }
        finally
        {
            if (heavy)
            {
                _heavy.Release();
            }
        }
    }

    /// <summary>A stamp of the project's files (every file outside .recal and .git: its path, size and time written).</summary>
    private static string ProjectStamp(string root)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.None };
        foreach (var file in new DirectoryInfo(root).EnumerateFiles("*", options).OrderBy(f => f.FullName, StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file.FullName);
            if (relative.StartsWith(ProjectWorkspace.StateFolder, StringComparison.Ordinal) || relative.StartsWith(".git", StringComparison.Ordinal))
            {
                continue;
            }

            hash.AppendData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{relative}\u001f{file.Length}\u001f{file.LastWriteTimeUtc.Ticks}\u001e")));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    private sealed record Computed(string State, DateTimeOffset At, object? Value);
}
