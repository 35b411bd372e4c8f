using Recal.Domain;
using Recal.Gates;

namespace Recal.Lifecycle;

/// <summary>One task of the lifecycle's clock: when it was last done, when it is next due, and whether that is past.</summary>
/// <param name="Last">When it was last done; null when never.</param>
/// <param name="Cadence">How often it is due.</param>
/// <param name="Next">When it is next due: <paramref name="Last"/> + <paramref name="Cadence"/>; null when never done.</param>
/// <param name="Overdue">Past <paramref name="Next"/> at the clock's time (never when it was never done: there is no schedule to be behind).</param>
public sealed record DueTask(DateTimeOffset? Last, TimeSpan Cadence, DateTimeOffset? Next, bool Overdue, TimeSpan OverdueBy)
{
    public static DueTask Of(DateTimeOffset? last, TimeSpan cadence, DateTimeOffset now)
    {
        var next = last + cadence;
        return new DueTask(last, cadence, next, next < now, next is { } due && due < now ? now - due : TimeSpan.Zero);
    }
}

/// <summary>
/// The lifecycle's clock, read once: the shadow refresh (newest shadow case), the rotation (last rotation or sealing)
/// and the owner's hand-over. <c>recal status</c> shows each task's dates; <c>recal check</c> reads its
/// <see cref="Finding"/>; both by this one rule of what is overdue.
/// </summary>
public sealed record LifecycleClock(DateTimeOffset Now, DueTask Refresh, DueTask Rotation, DueTask? HandOver)
{
    public static LifecycleClock Of(EvalProject project, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(project);
        var (lastRefresh, lastRotation) = LifecycleRules.Schedule(project);
        var handOver = project.Policy.Ownership is { HandOverDue: { } due } ? new DueTask(null, TimeSpan.Zero, due, due < now, due < now ? now - due : TimeSpan.Zero) : null;
        return new LifecycleClock(now, DueTask.Of(lastRefresh, project.Policy.RefreshCadence, now), DueTask.Of(lastRotation, project.Policy.RotationCadence, now), handOver);
    }

    /// <summary>
    /// The tasks to do now, as <c>recal status</c> counts them (its exit code): each overdue task, and a refresh or
    /// rotation never done (due now).
    /// </summary>
    public int DueNow => new[] { Refresh, Rotation }.Count(t => t.Overdue || t.Last is null) + (HandOver is { Overdue: true } ? 1 : 0);

    /// <summary>
    /// The verdict on the set's schedule: drifting when the refresh or the rotation is overdue; unknown when neither
    /// was ever done (a new project has no schedule to be behind); healthy otherwise.
    /// </summary>
    public Finding Finding
    {
        get
        {
            var overdue = new List<string>();
            if (Refresh.Overdue)
            {
                overdue.Add("shadow refresh");
            }

            if (Rotation.Overdue)
            {
                overdue.Add("rotation");
            }

            var (refresh, rotation) = (Refresh.Last, Rotation.Last);
            return overdue.Count > 0
                ? new Finding("lifecycle", Verdict.Drifting, $"{string.Join(" and ", overdue)} overdue", "recal status; recal sample --pool shadow; recal rotate")
                : refresh is null && rotation is null
                    ? new Finding("lifecycle", Verdict.Unknown, "no shadow refresh or rotation recorded yet", "recal sample --pool shadow once traffic is stored")
                    : new Finding("lifecycle", Verdict.Healthy, refresh is null || rotation is null ? $"{(refresh is null ? "rotation" : "refresh")} on schedule; no {(refresh is null ? "shadow refresh" : "rotation")} recorded yet" : "refresh and rotation are on schedule");
        }
    }
}
