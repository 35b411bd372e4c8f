using FluentAssertions;
using Recal.Gates;
using Recal.Lifecycle;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Lifecycle;

/// <summary>One rule of what is overdue, read by recal status (dates, exit code) and recal check (its finding).</summary>
public sealed class LifecycleClockTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly TempFolder _folder = new();

    public LifecycleClockTests() => ProjectScaffolder.Scaffold(_folder.Path, "demo").Should().BeEmpty();

    public void Dispose() => _folder.Dispose();

    /// <summary>The project with one shadow case added on <paramref name="added"/> (the last refresh), if any.</summary>
    private Domain.EvalProject Project(string? added)
    {
        if (added is not null)
        {
            var gold = File.ReadAllLines(Path.Combine(_folder.Path, "cases", "gold.jsonl"))[0];
            _folder.Write("cases/shadow.jsonl", gold.Replace("\"gold-0001\"", "\"shadow-0001\"").Replace("\"pool\":\"gold\"", "\"pool\":\"shadow\"").Replace("\"added\":\"2026-01-05\"", $"\"added\":\"{added}\"") + "\n");
        }

        var result = EvalProjectLoader.Load(_folder.Path);
        result.HasErrors.Should().BeFalse(string.Join("\n", result.Diagnostics));
        return result.Project!;
    }

    [Fact]
    public void A_project_that_never_refreshed_or_rotated_is_due_now_for_status_and_unknown_for_check()
    {
        var clock = LifecycleClock.Of(Project(added: null), Now);

        clock.Refresh.Last.Should().BeNull();
        clock.Refresh.Overdue.Should().BeFalse("there is no schedule to be behind");
        clock.DueNow.Should().Be(2, "status counts a refresh and a rotation never done as due now");
        clock.Finding.Verdict.Should().Be(Verdict.Unknown);
        clock.Finding.Next.Should().NotBeNull();
    }

    [Fact]
    public void A_refresh_past_its_cadence_is_overdue_by_the_days_since_it_was_due_and_drifting()
    {
        // Given a last refresh on 1 February and a weekly cadence: due 8 February, 21 days before 1 March
        var clock = LifecycleClock.Of(Project(added: "2026-02-01"), Now);

        clock.Refresh.Next.Should().Be(new DateTimeOffset(2026, 2, 8, 0, 0, 0, TimeSpan.Zero));
        clock.Refresh.Overdue.Should().BeTrue();
        clock.Refresh.OverdueBy.Should().Be(TimeSpan.FromDays(21));
        clock.Finding.Should().Be(new Finding("lifecycle", Verdict.Drifting, "shadow refresh overdue", "recal status; recal sample --pool shadow; recal rotate"));
        clock.DueNow.Should().Be(2, "the overdue refresh and the rotation never done");
    }

    [Fact]
    public void A_refresh_within_its_cadence_is_on_schedule()
    {
        var clock = LifecycleClock.Of(Project(added: "2026-02-25"), Now);

        clock.Refresh.Overdue.Should().BeFalse();
        clock.Refresh.OverdueBy.Should().Be(TimeSpan.Zero);
        clock.Finding.Verdict.Should().Be(Verdict.Healthy);
        clock.Finding.Evidence.Should().Be("refresh on schedule; no rotation recorded yet");
    }
}
