using System.Globalization;
using Recal.Running;
using Recal.Storage;

namespace Recal.Reporting.Runs;

/// <summary>A distributed run's progress in words: one line for the run, one per worker (the CLI's <c>--attach</c> and the dashboard).</summary>
public static class DistributedRunText
{
    /// <summary>Cases done, leased (and the run's cap on them) and queued, the workers, pass rate, errors, retries and reclaimed cases.</summary>
    public static string Describe(DistributedRunState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var verdicts = state.Done - state.Errors;
        var pass = verdicts > 0 ? ((double)state.Passed / verdicts).ToString("0.0%", CultureInfo.InvariantCulture) : "-";
        var alive = state.Workers.Count(w => !w.Stopped && !DistributedRuns.IsSilent(w));
        var silent = state.Workers.Count(DistributedRuns.IsSilent);
        var status = state.IsFinished ? state.Run.Status.ToString().ToLowerInvariant() : "running";
        var reclaimed = state.Reclaimed > 0 ? string.Create(CultureInfo.InvariantCulture, $", {state.Reclaimed:N0} case(s) reclaimed") : string.Empty;
        var retries = state.Retries > 0 ? string.Create(CultureInfo.InvariantCulture, $", {state.Retries:N0} retries") : string.Empty;
        var cap = state.Settings.MaxInFlight is { } n ? string.Create(CultureInfo.InvariantCulture, $" (at most {n:N0} in flight)") : string.Empty;
        var workers = silent > 0 ? $"{alive} worker(s) active, {silent} silent" : $"{alive} worker(s) active";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{state.Run.Id} {status}: {state.Done:N0}/{state.Total:N0} done, {state.Leased:N0} leased{cap}, {state.Queued:N0} queued; {workers}; pass {pass}, errors {state.Errors:N0}{retries}{reclaimed}");
    }

    /// <summary>Each worker: its cases, calls, cache hits, errors, discarded results and heartbeat; then the latest errors and what reclaimed means.</summary>
    public static IReadOnlyList<string> Workers(DistributedRunState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var lines = new List<string>();
        foreach (var w in state.Workers)
        {
            var health = w.Stopped ? "stopped"
                : DistributedRuns.IsSilent(w) ? string.Create(CultureInfo.InvariantCulture, $"silent for {w.HeartbeatAge.TotalSeconds:0} s (lease {w.Lease.TotalSeconds:0.#} s): stopped or killed")
                : string.Create(CultureInfo.InvariantCulture, $"heartbeat {w.HeartbeatAge.TotalSeconds:0.0} s ago");
            lines.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"  worker {w.Worker} (concurrency {w.Concurrency}): {w.Done:N0} case(s), {w.Calls:N0} call(s), {w.CacheHits:N0} from the cache, {w.Errors:N0} error(s){(w.Discarded > 0 ? $", {w.Discarded:N0} duplicate result(s) discarded" : string.Empty)}; {health}"));
        }

        if (state.Reclaimed > 0)
        {
            lines.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"  {state.Reclaimed:N0} case(s) were claimed again after their worker stopped or its lease expired: their call may have reached the endpoint twice (each kept one result)"));
        }

        lines.AddRange(state.RecentErrors.Select(e => $"  error in {e.CaseId}: {e.Error}"));
        return lines;
    }
}
