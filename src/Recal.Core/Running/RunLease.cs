using System.Diagnostics;
using System.Globalization;
using Recal.Storage;

namespace Recal.Running;

/// <summary>
/// The claim one process holds on a run while it executes it, so two <c>recal run --resume</c> of the same run never
/// call the endpoint twice for a case. Kept in the store with an expiry and renewed in the background; a holder on
/// this machine whose process has ended is taken over at once, one elsewhere once its lease expires.
/// </summary>
public sealed class RunLease : IAsyncDisposable
{
    /// <summary>How long a lease lasts without renewal: a killed holder blocks a resume elsewhere at most this long.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);

    private readonly IRecalStore _store;
    private readonly string _runId;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewal;

    private RunLease(IRecalStore store, string runId, string owner, TimeProvider time)
    {
        _store = store;
        _runId = runId;
        Owner = owner;
        _time = time;
        _renewal = RenewAsync();
    }

    /// <summary>A new owner name for this process: host name, process id, and a nonce telling two claims of one process apart.</summary>
    public static string NewOwner() =>
        $"{Environment.MachineName}:{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}:{Guid.NewGuid().ToString("N")[..6]}";

    public string Owner { get; }

    /// <summary>Claims the run for this process; on refusal, returns who holds it.</summary>
    public static async Task<(RunLease? Lease, RunLeaseHolder? HeldBy)> AcquireAsync(IRecalStore store, string runId, TimeProvider? time = null, string? owner = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var clock = time ?? TimeProvider.System;
        var me = owner ?? NewOwner();
        var now = clock.GetUtcNow();
        var held = await store.ClaimRunAsync(runId, me, now, now + Duration, null, cancellationToken).ConfigureAwait(false);
        if (held is not null && IsGone(held.Owner))
        {
            held = await store.ClaimRunAsync(runId, me, now, now + Duration, held.Owner, cancellationToken).ConfigureAwait(false);
        }

        return held is null ? (new RunLease(store, runId, me, clock), null) : (null, held);
    }

    /// <summary>Whether the holder is a process on this machine that no longer runs.</summary>
    private static bool IsGone(string owner)
    {
        var parts = owner.Split(':');
        if (parts.Length != 3 || parts[0] != Environment.MachineName || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private async Task RenewAsync()
    {
        using var timer = new PeriodicTimer(Duration / 3, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var now = _time.GetUtcNow();
                await _store.ClaimRunAsync(_runId, Owner, now, now + Duration, null, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Released.
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failed renewal is the store's failure, which the run's own writes report; the lease then expires.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _renewal.ConfigureAwait(false);
        _stop.Dispose();
        try
        {
            await _store.ReleaseRunAsync(_runId, Owner, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The store is failing (a full disk): the lease simply expires.
        }
    }
}
