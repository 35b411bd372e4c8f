using FluentAssertions;
using Recal.Core.Tests.Drift;
using Recal.Core.Tests.Lifecycle;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Xunit;

namespace Recal.Core.Tests.Running;

public sealed class MixDecompositionTests
{
    private static IEnumerable<RunCaseRecord> Cases(string difficulty, int passed, int failed, string prefix) =>
        Enumerable.Range(0, passed + failed).Select(i => new RunCaseRecord($"{prefix}{difficulty}{i}", "a", "", difficulty, "gold", "o", null, i < passed, [], null, 1, null, null, null, 1, false, DateTimeOffset.UnixEpoch));

    [Fact]
    public void A_score_that_rises_only_because_easy_cases_piled_up_is_all_mix()
    {
        // Given the same rates per difficulty (easy 90%, hard 50%) and a set that went from 50/50 to 80/20 easy/hard
        var before = Cases("easy", 45, 5, "o").Concat(Cases("hard", 25, 25, "o")).ToList();
        var after = Cases("easy", 72, 8, "n").Concat(Cases("hard", 10, 10, "n")).ToList();

        var (change, mix, within) = RunReportBuilder.Decompose(before, after, r => r.Difficulty!);

        // Then the 12-point rise (70% → 82%) is all mix
        change.Should().BeApproximately(0.12, 1e-12);
        mix.Should().BeApproximately(0.12, 1e-12);
        within.Should().BeApproximately(0, 1e-12);
    }

    [Fact]
    public void Mix_and_within_always_add_up_to_the_change_even_with_a_stratum_missing_on_one_side()
    {
        var before = Cases("easy", 30, 10, "o").Concat(Cases("medium", 5, 5, "o")).ToList();
        var after = Cases("easy", 20, 20, "n").Concat(Cases("hard", 3, 17, "n")).ToList();

        var (change, mix, within) = RunReportBuilder.Decompose(before, after, r => r.Difficulty!);

        change.Should().BeApproximately((23.0 / 60) - (35.0 / 50), 1e-12);
        (mix + within).Should().BeApproximately(change, 1e-12);
    }

    [Fact]
    public async Task The_report_segments_by_provenance_and_month_added_when_given_the_cases()
    {
        var results = Cases("easy", 3, 1, "c").ToList();
        var cases = results.ToDictionary(r => r.CaseId, r => new EvalCase(r.CaseId, TraceInput.FromText("x"), [], [], "a", new Dictionary<string, string>(), null,
            new Provenance(r.CaseId.EndsWith('0') ? ProvenanceKind.BugReport : ProvenanceKind.Sampled), new DateOnly(2026, r.CaseId.EndsWith('0') ? 7 : 6, 2), null, Pool.Gold, [], new SourceLocation("c.jsonl")));
        var run = new RunInfo("r", "p", "t", "{}", "v", PoolSet.Parse("gold"), 4, null, DateTimeOffset.UnixEpoch, null, RunStatus.Completed);

        var report = await RunReportBuilder.BuildAsync(run, results, SamplerTests.Policy(), new InMemoryStore(), TestContext.Current.CancellationToken, cases);

        report.Segments.Where(s => s.Dimension == "provenance").Select(s => (s.Value, s.Cases)).Should().BeEquivalentTo([("bug_report", 1), ("sampled", 3)]);
        report.Segments.Where(s => s.Dimension == "added").Select(s => (s.Value, s.Cases)).Should().BeEquivalentTo([("2026-06", 3), ("2026-07", 1)]);

        // And the accumulation rows give each segment's pass rate and difficulty mix (every case here is easy; the
        // July bug report passed, two of the three June samples passed)
        report.Accumulation.Select(a => (a.Dimension, a.Value, a.Cases, a.Labelled, a.EasyShare, a.HardShare)).Should().Equal(
            ("provenance", "bug_report", 1, 1, 1.0, 0.0), ("provenance", "sampled", 3, 3, 1.0, 0.0), ("added", "2026-06", 3, 3, 1.0, 0.0), ("added", "2026-07", 1, 1, 1.0, 0.0));
        report.Accumulation.Single(a => a.Value == "sampled").PassRate.Should().BeApproximately(2.0 / 3, 1e-12);
    }
}
