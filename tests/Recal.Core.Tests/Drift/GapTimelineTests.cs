using FluentAssertions;
using Recal.Domain;
using Recal.Drift;
using Recal.Running;
using Recal.Statistics;
using Recal.Storage;
using Xunit;

namespace Recal.Core.Tests.Drift;

public sealed class GapTimelineTests
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly AlarmThresholds Thresholds = new(0.2, 0.25, 0.001, 0.02, 0.15);

    [Fact]
    public void Coverage_alarms_need_both_the_drop_and_significance_and_a_stratum_alarm_is_bonferroni_corrected()
    {
        // Given a reference window 60% covered and strata a (70%) and b (50%), 1,000 traces each
        var reference = Report(("a", 700, 1000), ("b", 500, 1000));

        // When a later window is 45% covered: a fell to 20%, b rose to 70%
        var fallen = GapTimeline.CoverageAlarms(Report(("a", 200, 1000), ("b", 700, 1000)), reference, Thresholds, 1, 0.001).ToList();

        // Then coverage fell by 15 points (> 10) at Fisher p < 0.001, and a by 50 points (> 25) at p < 0.001 / 2
        fallen.Select(a => (a.Instrument, a.Dimension)).Should().Equal(("coverage_drop", "coverage"), ("stratum_coverage_drop", "a"));
        ProportionDifference.FisherExactTwoSided(900, 2000, 1200, 2000).Should().BeLessThan(0.001);
        fallen[0].Value.Should().BeApproximately(0.45, 1e-12);
        fallen[1].Message.Should().Contain("20.0% covered against 70.0%").And.Contain("2 strata tested");

        // And a drop below the thresholds, or on too few traces to tell, raises nothing
        GapTimeline.CoverageAlarms(Report(("a", 650, 1000), ("b", 460, 1000)), reference, Thresholds, 1, 0.001).Should().BeEmpty();
        GapTimeline.CoverageAlarms(Report(("a", 3, 10), ("b", 5, 10)), Report(("a", 7, 10), ("b", 5, 10)), Thresholds, 1, 0.001).Should().BeEmpty();
    }

    [Fact]
    public void Releases_alarm_when_gold_and_users_rank_them_the_other_way_both_significantly()
    {
        // Given gold 82.7% → 100% (498 cases each) and users' thumbs up 80% → 75% (standard error 0.6 points each)
        var older = Release("r1", 412, 498, 0.80);
        var newer = Release("r2", 498, 498, 0.75);

        // When the newest two releases are compared
        var alarm = GapTimeline.ReleaseAlarm(new ReleaseComparison(Monday, Monday.AddDays(28), 40, [older, newer], null), Thresholds);

        // Then gold says better, users say worse: the alarm names both moves
        alarm!.Instrument.Should().Be("offline_online_releases");
        alarm.Value.Should().BeApproximately(-0.05, 1e-12);
        alarm.Message.Should().Contain("gold says release r2 (target t-r2) is better than r1").And.Contain("users say worse").And.Contain("−5.0 points");

        // And agreement, a difference users cannot resolve, or one within release_divergence raises nothing
        GapTimeline.ReleaseAlarm(new ReleaseComparison(Monday, Monday, 40, [older, Release("r2", 498, 498, 0.85)], null), Thresholds).Should().BeNull();
        GapTimeline.ReleaseAlarm(new ReleaseComparison(Monday, Monday, 40, [older, Release("r2", 498, 498, 0.79, se: 0.05)], null), Thresholds).Should().BeNull();
        GapTimeline.ReleaseAlarm(new ReleaseComparison(Monday, Monday, 40, [Release("r1", 412, 498, 0.80, se: 0.001), Release("r2", 498, 498, 0.785, se: 0.001)], null), Thresholds).Should().BeNull();
    }

    [Fact]
    public async Task The_timeline_measures_each_week_against_the_reference_weeks_and_finds_a_shift_inside_an_intent()
    {
        // Given four reference weeks of intent a near its case, two unknown traces a week and thumbs up on half;
        // then two weeks where a's traffic asks something far from its case and unknown traffic grows
        var project = CoverageAnalyzerTests.Project([("a", "1,0,0"), ("a", "0.8,0.6,0"), ("b", "0,1,0"), ("b", "0,0.8,0.6"), ("c", "0,0,1")]);
        var store = new InMemoryStore();
        for (var week = 0; week < 6; week++)
        {
            var shifted = week >= 4;
            Add(store, week, "a", shifted ? "0.2,0,-0.98" : "1,0.1,0", 60);
            Add(store, week, "b", "0,1,0", 40);
            Add(store, week, Taxonomy.UnknownIntent, "0,0,1", shifted ? 20 : 2);
        }

        var drift = await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, new DriftRequest(null, null, Period.Week, null), TestContext.Current.CancellationToken);

        // When the timeline is measured
        var timeline = await GapTimeline.ExtendAsync(drift!, project, store, new CoverageAnalyzerTests.CoordinateEmbedder(), "coordinates", TestContext.Current.CancellationToken);

        // Then the reference is the first 28 days, fully covered, 2% unknown
        var reference = timeline.Reference!;
        reference.From.Should().Be(Monday);
        reference.To.Should().Be(Monday.AddDays(28));
        reference.Coverage.Share.Should().Be(1);
        reference.UnknownShare.Should().BeApproximately(8.0 / 408, 1e-12);

        // And every week has its coverage and online signals; the quiet weeks raise no timeline alarm
        timeline.Series.Should().HaveCount(6);
        timeline.Series.Select(w => w.Coverage!.Share).Should().Equal(1, 1, 1, 1, 0.5, 0.5);
        timeline.Series.Should().OnlyContain(w => w.Online!.Rated == w.Traces / 2 && w.Online.ThumbsUpRate == 1);
        timeline.Series.Take(4).SelectMany(w => w.Alarms).Where(a => a.Instrument is "coverage_drop" or "stratum_coverage_drop" or "unknown_share").Should().BeEmpty();

        // And the shifted weeks raise coverage_drop, the stratum alarm for a (its intent share unchanged), and unknown_share
        var shiftedWeek = timeline.Series[4];
        shiftedWeek.Alarms.Select(a => (a.Instrument, a.Dimension)).Should().Contain([("coverage_drop", "coverage"), ("stratum_coverage_drop", "a"), ("unknown_share", "intent")]);
        shiftedWeek.Alarms.Should().NotContain(a => a.Instrument == "stratum_coverage_drop" && a.Dimension == "b");
        timeline.Current.Coverage.Should().NotBeNull();
        timeline.Runs.Should().BeEmpty();
        timeline.Releases.Should().BeNull();
    }

    [Fact]
    public async Task Traffic_unlike_every_case_and_taxonomy_example_raises_novelty_while_it_stays_and_unhappy_users_raise_thumbs_up_drop()
    {
        // Given four reference weeks near the cases of a and b, three quarters of them rated up; then three weeks where a
        // third of traffic, still classified as a, asks something near no case, and users rate half of it down
        var project = CoverageAnalyzerTests.Project([("a", "1,0,0"), ("a", "0.9,0.1,0"), ("b", "0,1,0"), ("b", "0.1,0.9,0")]);
        var store = new InMemoryStore();
        for (var week = 0; week < 7; week++)
        {
            var shifted = week >= 4;
            Add(store, week, "a", "1,0.05,0", 100, up: shifted ? 0.5 : 0.75);
            Add(store, week, "b", "0.05,1,0", 100, up: shifted ? 0.5 : 0.75);
            if (shifted)
            {
                Add(store, week, "a", "0,0.05,1", 100, up: 0.5, name: "new");
            }
        }

        // When the timeline is measured
        var timeline = await TimelineAsync(project, store);

        // Then the reference's 5th percentile of similarity to every case and example is the novelty radius, and the
        // unchanged weeks raise neither alarm
        timeline.Reference!.NoveltyRadius.Should().BeGreaterThan(0.9);
        timeline.Series.Take(4).Should().OnlyContain(w => !w.Alarms.Any(a => a.Instrument == "novelty" || a.Instrument == "thumbs_up_drop"));

        // And every shifted week raises novelty (a third of traffic, against the reference's share) and thumbs_up_drop
        foreach (var week in timeline.Series.Skip(4))
        {
            week.Coverage!.NoveltyShare.Should().BeApproximately(1.0 / 3, 1e-12);
            var novelty = week.Alarms.Should().ContainSingle(a => a.Instrument == "novelty").Subject;
            novelty.Message.Should().Contain("33.3% of traffic is farther from every case and taxonomy example");
            novelty.Alpha.Should().BeApproximately(timeline.Calibration!.Alpha, 1e-15);
            week.Alarms.Should().ContainSingle(a => a.Instrument == "thumbs_up_drop").Which.Message.Should().Contain("thumbs up fell to 50.0%").And.Contain("against 75.0%");
            // (these traces carry no escalation field: the rate is no data, not 0%, and the escalation test does not run)
            week.Online!.EscalationRate.Should().BeNull();
            week.Online.EscalationKnown.Should().Be(0);
            week.Tests.Should().NotContain(t => t.Instrument == "escalation_rise");
        }

        // And once the taxonomy names the new kind of request with an example, it is no longer novel (though uncovered)
        var taught = project with { Taxonomy = project.Taxonomy with { Intents = [.. project.Taxonomy.Intents, new IntentDefinition("c", null, ["0,0,1"], [], null)] } };
        var known = await TimelineAsync(taught, store);
        known.Series.Skip(4).Should().OnlyContain(w => !w.Alarms.Any(a => a.Instrument == "novelty") && w.Alarms.Any(a => a.Instrument == "coverage_drop"));
    }

    [Fact]
    public async Task A_gold_score_rise_after_the_suite_changed_is_split_into_the_difficulty_mix_and_the_system()
    {
        // Given two runs of one target: suite v1 half easy (90% pass) and half hard (30%); suite v2 two thirds easy,
        // the same rates within each difficulty: 60% → 70%
        var project = CoverageAnalyzerTests.Project([("a", "1,0,0"), ("b", "0,1,0")]);
        var store = new InMemoryStore();
        Add(store, 0, "a", "1,0,0", 10);
        store.Runs.Add((RunOf("r1", "v1", 0), [.. Results("r1", "easy", 9, 1), .. Results("r1", "hard", 3, 7)]));
        store.Runs.Add((RunOf("r2", "v2", 1), [.. Results("r2", "easy", 18, 2), .. Results("r2", "hard", 3, 7)]));
        store.Runs.Add((RunOf("r3", "v2", 2) with { Target = "u" }, [.. Results("r2", "easy", 17, 3), .. Results("r2", "hard", 3, 7)]));
        var drift = await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, new DriftRequest(null, null, Period.None, null), TestContext.Current.CancellationToken);

        // When the timeline lists the runs
        var timeline = await GapTimeline.ExtendAsync(drift!, project, store, new CoverageAnalyzerTests.CoordinateEmbedder(), "coordinates", TestContext.Current.CancellationToken);
        var runs = timeline.Runs;

        // Then the ten-point rise is all mix (Kitagawa): the easy cases piled up, the system did not improve
        runs.Select(r => r.RunId).Should().Equal("r1", "r2", "r3");
        runs[0].MixEffect.Should().BeNull();
        runs[1].Gold!.Value.Should().BeApproximately(0.7, 1e-12);
        runs[1].MixEffect!.Value.Should().BeApproximately(0.1, 1e-12);
        runs[1].WithinEffect!.Value.Should().BeApproximately(0, 1e-12);
        runs[1].EasyShare!.Value.Should().BeApproximately(2.0 / 3, 1e-12);
        runs[1].SuiteVersion.Should().Be("v2");

        // And suite v2, scored by two targets, has its staleness figures: 70% and 66.7%, failing sets {e18, e19, h3..h9}
        // and {e17, e18, e19, h3..h9}: Jaccard 9/10; two targets are too few to call it stale
        var v2 = timeline.Staleness.Should().ContainSingle().Subject;
        (v2.SuiteVersion, v2.Targets, v2.Stale).Should().Be(("v2", 2, false));
        v2.Spread.Should().BeApproximately(0.7 - (20.0 / 30), 1e-12);
        v2.MeanJaccard.Should().BeApproximately(0.9, 1e-12);
    }

    private static RunInfo RunOf(string id, string suite, int day) =>
        new(id, "p", "t", "{}", suite, PoolSet.Parse("gold"), 0, null, Monday.AddDays(day), Monday.AddDays(day).AddHours(1), RunStatus.Completed);

    private static IEnumerable<RunCaseRecord> Results(string run, string difficulty, int passed, int failed) =>
        Enumerable.Range(0, passed + failed).Select(i => new RunCaseRecord($"{run}-{difficulty}{i}", "a", "plan=pro", difficulty, "gold", "o", null, i < passed, [], null, 1, null, null, null, 1, false, Monday));

    /// <summary>Adds <paramref name="count"/> traces; without <paramref name="up"/> every other one is rated up, else every one is rated and that share up.</summary>
    private static void Add(InMemoryStore store, int week, string intent, string vector, int count, double? up = null, string name = "")
    {
        for (var i = 0; i < count; i++)
        {
            var key = $"{week}-{intent}{name}-{i}";
            int? thumbs = up is { } share ? (i < share * count ? 1 : -1) : i % 2 == 0 ? 1 : null;
            store.Add(new ClassifiedTrace(
                new Trace(key, Monday.AddDays(7 * week).AddMinutes(i), TraceInput.FromText(vector), null, null, new Dictionary<string, string>(), new Feedback(Thumbs: thumbs), null),
                "id:" + key, intent, IntentSource.Classifier, 0.9, "plan=pro"));
        }
    }

    private static async Task<DriftReport> TimelineAsync(EvalProject project, InMemoryStore store)
    {
        var drift = await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, new DriftRequest(null, null, Period.Week, null), TestContext.Current.CancellationToken);
        return await GapTimeline.ExtendAsync(drift!, project, store, new CoverageAnalyzerTests.CoordinateEmbedder(), "coordinates", TestContext.Current.CancellationToken);
    }

    private static ReleasePoint Release(string name, int passed, int cases, double online, double se = 0.006) =>
        new(name, "t-" + name, "run-" + name, Monday, Monday.AddDays(7), 10_000, 3_000, cases, passed, (double)passed / cases, null, online, online - (1.959963984540054 * se), online + (1.959963984540054 * se), online);

    private static CoverageReport Report(params (string Stratum, long Covered, long Measured)[] strata)
    {
        var measured = strata.Sum(s => s.Measured);
        var covered = strata.Sum(s => s.Covered);
        return new CoverageReport(
            CoverageReport.CurrentFormatVersion, "p", "v", 1, ["gold"], 10, "e", 3, Monday, Monday.AddDays(7), measured, 0, 0.95,
            new RadiusCalibration(0.6, RadiusSource.Given, null, 10, 2, null, null),
            new CoverageEstimate((double)covered / measured, 0, 1, measured, covered, CoverageEstimator.Census),
            [.. strata.Select(s => new CoverageStratum(s.Stratum, s.Measured, (double)s.Measured / measured, 5, s.Measured, s.Covered, (double)s.Covered / s.Measured, 0, 1, 0.5))]);
    }
}
