using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Project;
using Recal.Storage;
using Recal.Workflows;

namespace Recal.Server.Dashboard;

/// <summary>
/// What the dashboard's views read: the project as its files are now (loaded again when one changes), the store's state
/// (stored traffic and runs), and each view's newest computation, served while the next is computed after the state
/// changes (stale-while-revalidate, with a note on the page) — at most once per <see cref="MinimumAge"/> while traffic
/// keeps arriving, so a receiver under load does not recompute every view per batch. The views computed ahead are kept
/// in the store (<see cref="PersistedViews"/>), so a restart serves them before computing anything.
/// </summary>
internal sealed class DashboardService(RecalServerContext context, ILogger? logger = null, TimeSpan? minimumAge = null)
{
    /// <summary>A result younger than this is shown again even if traffic has arrived since (the page says when it was computed).</summary>
    public static readonly TimeSpan MinimumAge = TimeSpan.FromSeconds(15);

    /// <summary>Views kept at most (a query string is a key of its own): beyond, the cache starts afresh.</summary>
    private const int MaxEntries = 256;

    /// <summary>
    /// The views kept in the store besides those computed ahead: the most recently used ones a reader opened (a window of
    /// the timeline, a coverage or drift window). 32 holds a drill into every week of a twelve-week timeline (a drift and a
    /// coverage view each, 24) with room for a few windows of one's own, so a restart serves what a team was just looking
    /// at; the rest are deleted when a view is kept, so the store holds at most 32 plus the few computed ahead.
    /// </summary>
    public const int KeptViews = 32;

    /// <summary>The builds of the server and of the use cases whose results it keeps (deterministic: the same code, the same id).</summary>
    private static readonly string Build = typeof(DashboardService).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..8] + typeof(CheckResult).Assembly.ManifestModule.ModuleVersionId.ToString("N")[..8];

    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);

    // The order in which persisted views were last asked for (higher is more recent): what the bound keeps.
    private readonly ConcurrentDictionary<string, long> _used = new(StringComparer.Ordinal);
    private long _uses;
    private readonly SemaphoreSlim _heavy = new(1, 1);
    private readonly PersistedViews _views = new(context, logger);
    private readonly TimeSpan _minimumAge = minimumAge ?? MinimumAge;
    private readonly Lock _projectLock = new();
    private (string Stamp, EvalProject? Project, IReadOnlyList<Diagnostic> Problems) _project = (string.Empty, null, []);
    private DashboardState? _latest;
    private int _computations;

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
    /// The state the pages show and the script compares: the project files' stamp, the day, the stored traffic (count and
    /// newest trace) and the newest run with its status. Any change to what a view shows changes it.
    /// </summary>
    public async Task<string> StateAsync(CancellationToken cancellationToken) => (await SnapshotAsync(cancellationToken).ConfigureAwait(false)).Stamp;

    /// <summary>The state (<see cref="StateAsync"/>) with what a stale view's note counts: the stored traffic and the project's inputs.</summary>
    public async Task<DashboardState> SnapshotAsync(CancellationToken cancellationToken)
    {
        var inputs = Inputs();
        var span = await Store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        var runs = await Store.QueryRunsAsync(new RunQuery(Limit: 1), cancellationToken).ConfigureAwait(false);
        // The day too: the health's lifecycle clock (what is due) moves with it, so a view of yesterday is computed again.
        var text = string.Create(CultureInfo.InvariantCulture, $"{inputs}|{DateTimeOffset.UtcNow:yyyy-MM-dd}|{span?.Count}|{span?.Last.UtcTicks}|{runs.FirstOrDefault()?.Id}|{runs.FirstOrDefault()?.Status}|{runs.FirstOrDefault()?.Finished?.UtcTicks}");
        var state = new DashboardState(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16], inputs, span?.Count ?? 0);
        _latest = state;
        return state;
    }

    /// <summary>Views computed by this server since it started (none when every view shown was kept by an earlier one).</summary>
    public int Computations => Volatile.Read(ref _computations);

    /// <summary>Whether a view is being computed now (the script reloads a page that said "updating" once none is).</summary>
    public bool Updating => _slots.Values.Any(s => s.Running is not null);

    /// <summary>
    /// A view's computation for <paramref name="key"/> (the view and its query), shared by every request that asks for
    /// it while it runs. A view computed for the current state is served as it is; one computed for an earlier state
    /// (or persisted by an earlier server over this store) is served at once, marked stale, while the current state's
    /// is computed in the background — at most one computation per view at a time, starting no sooner than
    /// <see cref="MinimumAge"/> after the stale one was. Only a view never computed makes its request wait. Heavy computations (drift,
    /// coverage, the check) run one at a time.
    /// </summary>
    /// <param name="persisted">Whether the view is kept in the store's blobs, so a restart serves it (the views computed ahead).</param>
    public async Task<Viewed<T>> GetAsync<T>(string key, string state, bool heavy, Func<CancellationToken, Task<T>> compute, bool persisted = false)
    {
        ArgumentNullException.ThrowIfNull(compute);
        var snapshot = await CurrentAsync(state).ConfigureAwait(false);
        var slot = SlotOf(key);
        if (persisted)
        {
            _used[key] = Interlocked.Increment(ref _uses);
            await slot.LoadOnceAsync(() => _views.LoadAsync<T>(key, snapshot.Inputs)).ConfigureAwait(false);
        }

        Task<Computed> wait;
        lock (slot)
        {
            var done = slot.Done;
            if (done is not null && done.State == snapshot.Stamp)
            {
                return new Viewed<T>((T)done.Value!, null);
            }

            if (slot.Running is null)
            {
                // Under traffic that never stops a view is computed again no sooner than the minimum age after the last.
                var after = done is null ? TimeSpan.Zero : _minimumAge - (DateTimeOffset.UtcNow - done.At);
                Start(slot, key, snapshot, heavy, compute, persisted, after > TimeSpan.Zero ? after : TimeSpan.Zero);
            }

            if (done is not null)
            {
                return new Viewed<T>((T)done.Value!, Stale(key, done, snapshot, slot.Running is not null));
            }

            wait = slot.Running!;
        }

        // Never computed: this request waits for the computation (shared with any other asking meanwhile).
        var computed = await wait.ConfigureAwait(false);
        return new Viewed<T>((T)computed.Value!, computed.State == snapshot.Stamp ? null : Stale(key, computed, snapshot, updating: false));
    }

    /// <summary>Reads the kept view of <paramref name="key"/> back, if there is one for the project's inputs now (before the server takes requests).</summary>
    public async Task LoadKeptAsync<T>(string key, CancellationToken cancellationToken)
    {
        var snapshot = await SnapshotAsync(cancellationToken).ConfigureAwait(false);
        var slot = SlotOf(key);
        slot.Ahead = true;
        await slot.LoadOnceAsync(() => _views.LoadAsync<T>(key, snapshot.Inputs)).ConfigureAwait(false);
    }

    /// <summary>Computes the view of <paramref name="key"/> for <paramref name="state"/> unless it is computed already (the warmer's call): waits for a computation under way first.</summary>
    public async Task RefreshAsync<T>(string key, string state, bool heavy, Func<CancellationToken, Task<T>> compute, bool persisted = false)
    {
        ArgumentNullException.ThrowIfNull(compute);
        var snapshot = await CurrentAsync(state).ConfigureAwait(false);
        var slot = SlotOf(key);
        slot.Ahead = true;
        if (persisted)
        {
            await slot.LoadOnceAsync(() => _views.LoadAsync<T>(key, snapshot.Inputs)).ConfigureAwait(false);
        }

        while (true)
        {
            Task<Computed> wait;
            lock (slot)
            {
                if (slot.Done?.State == snapshot.Stamp)
                {
                    return;
                }

                if (slot.Running is null)
                {
                    Start(slot, key, snapshot, heavy, compute, persisted, TimeSpan.Zero);
                }

                wait = slot.Running!;
            }

            if ((await wait.ConfigureAwait(false)).State == snapshot.Stamp)
            {
                return;
            }
        }
    }

    /// <summary>Whether the view of <paramref name="key"/> is computed for <paramref name="state"/> (the warmer's work done).</summary>
    public bool IsReady(string key, string state) => _slots.TryGetValue(key, out var slot) && slot.Done?.State == state;

    private async Task<DashboardState> CurrentAsync(string state) =>
        _latest is { } latest && latest.Stamp == state ? latest : await SnapshotAsync(CancellationToken.None).ConfigureAwait(false);

    private Slot SlotOf(string key)
    {
        if (_slots.Count >= MaxEntries)
        {
            // Beyond the bound the cache starts afresh, keeping the views computed ahead (their keys are few).
            foreach (var stale in _slots.Where(s => !s.Value.Ahead).Select(s => s.Key).ToList())
            {
                _slots.TryRemove(stale, out _);
            }
        }

        return _slots.GetOrAdd(key, _ => new Slot());
    }

    /// <summary>Starts the view's computation for <paramref name="snapshot"/> (the caller holds the slot's lock and saw none running).</summary>
    private void Start<T>(Slot slot, string key, DashboardState snapshot, bool heavy, Func<CancellationToken, Task<T>> compute, bool persisted, TimeSpan after)
    {
        slot.Running = Task.Run(async () =>
        {
            try
            {
                if (after > TimeSpan.Zero)
                {
                    // Computed for the state when it starts, not when it was asked for.
                    await Task.Delay(after).ConfigureAwait(false);
                    snapshot = await SnapshotAsync(CancellationToken.None).ConfigureAwait(false);
                }

                var computed = await RunAsync(snapshot, heavy, async ct => (object?)await compute(ct).ConfigureAwait(false)).ConfigureAwait(false);
                Interlocked.Increment(ref _computations);
                if (persisted)
                {
                    // Kept before it is marked done: a view the dashboard calls ready is one a restart finds.
                    await _views.SaveAsync(key, computed.State, computed.Inputs, computed.Traffic, computed.At, (T)computed.Value!).ConfigureAwait(false);
                    await _views.BoundAsync(_slots.Where(s => s.Value.Ahead).Select(s => s.Key).ToHashSet(StringComparer.Ordinal), _used, KeptViews).ConfigureAwait(false);
                }

                lock (slot)
                {
                    slot.Done = computed;
                    slot.Running = null;
                }

                return computed;
            }
            catch
            {
                // A failed computation is not kept: the next request tries again (a stale view stays shown meanwhile).
                lock (slot)
                {
                    slot.Running = null;
                }

                throw;
            }
        });
    }

    private static Staleness Stale(string key, Computed done, DashboardState now, bool updating) =>
        new(key, done.At, done.Inputs == now.Inputs ? now.Traffic - done.Traffic : null, updating);

    private async Task<Computed> RunAsync(DashboardState snapshot, bool heavy, Func<CancellationToken, Task<object?>> compute)
    {
        if (heavy)
        {
            await _heavy.WaitAsync().ConfigureAwait(false);
        }

        try
        {
            // Shared by every request waiting for it: one leaving does not cancel it for the others.
            var at = DateTimeOffset.UtcNow;
            return new Computed(snapshot.Stamp, snapshot.Inputs, snapshot.Traffic, at, await compute(CancellationToken.None).ConfigureAwait(false));
        }
        finally
        {
            if (heavy)
            {
                _heavy.Release();
            }
        }
    }

    /// <summary>
    /// What a view's result depends on besides the store: the project's files (its settings, embedder included) and
    /// the build that computed it (a persisted view of another build is not read back).
    /// </summary>
    private string Inputs() => (Context.ProjectRoot is { } root ? ProjectStamp(root) : "none") + "|" + Build;

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

    /// <summary>One view's newest result and the computation under way, if any.</summary>
    private sealed class Slot
    {
        private Task? _loaded;

        public Computed? Done { get; set; }

        public Task<Computed>? Running { get; set; }

        /// <summary>A view computed ahead (the warmer's, read back at start): kept when the cache starts afresh.</summary>
        public bool Ahead { get; set; }

        /// <summary>Reads the view a server kept in the store once, before anything is computed here.</summary>
        public Task LoadOnceAsync(Func<Task<Computed?>> load)
        {
            lock (this)
            {
                return _loaded ??= LoadAsync(load);
            }
        }

        private async Task LoadAsync(Func<Task<Computed?>> load)
        {
            var kept = await load().ConfigureAwait(false);
            lock (this)
            {
                Done ??= kept;
            }
        }
    }
}

/// <summary>A view's result: computed for <paramref name="State"/> and the project's <paramref name="Inputs"/>, over <paramref name="Traffic"/> stored traces, at <paramref name="At"/>.</summary>
internal sealed record Computed(string State, string Inputs, long Traffic, DateTimeOffset At, object? Value);

/// <summary>The store's state as the dashboard compares it (<see cref="DashboardService.StateAsync"/>), the project's inputs and the stored traffic.</summary>
internal sealed record DashboardState(string Stamp, string Inputs, long Traffic);

/// <summary>A view's value and, when it is of an earlier state, what its note says.</summary>
internal readonly record struct Viewed<T>(T Value, Staleness? Stale);

/// <summary>A view (by its key) shown from an earlier state: when it was computed, the traces stored since (null when the project's files changed), and whether the current one is being computed.</summary>
internal sealed record Staleness(string Key, DateTimeOffset At, long? TracesSince, bool Updating);
