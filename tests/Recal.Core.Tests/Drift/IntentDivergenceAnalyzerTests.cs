using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Drift;
using Recal.Storage;
using Xunit;

namespace Recal.Core.Tests.Drift;

public sealed class IntentDivergenceAnalyzerTests
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Traffic_with_the_sets_own_mix_raises_no_alarm()
    {
        // Given a set of 50/30/20 cases and a week of traffic in the same proportions
        var project = Project(("a", 50), ("b", 30), ("c", 20));
        var store = new InMemoryStore();
        store.Add(Monday, "a", 500);
        store.Add(Monday.AddDays(1), "b", 300);
        store.Add(Monday.AddDays(2), "c", 200);

        // When drift is measured
        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, new DriftRequest(), TestContext.Current.CancellationToken))!;

        // Then the distance is zero and nothing fires
        report.Current.Intent.Measures!.JsDistance.Should().BeApproximately(0, 1e-9);
        report.Current.Alarms.Should().BeEmpty();
        report.HasAlarm.Should().BeFalse();
        report.Current.Traces.Should().Be(1000);
    }

    [Fact]
    public async Task Traffic_in_an_intent_the_set_lacks_raises_a_missing_share_alarm_naming_it()
    {
        // Given four reference weeks in the set's two intents, then a week where a fifth of traffic is in a third
        var project = Project(("a", 50), ("b", 50));
        var store = new InMemoryStore();
        Reference(store, ("a", 200), ("b", 200));
        store.Add(Week5, "a", 400);
        store.Add(Week5, "b", 400);
        store.Add(Week5, "book_flight", 200);

        // When that week is compared
        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, Week5Only, TestContext.Current.CancellationToken))!;

        // Then the missing share rose from the reference's 0% to 20%: the alarm names the intent, its reference and threshold
        var alarm = report.Current.Alarms.Should().ContainSingle(a => a.Instrument == "missing_share").Subject;
        alarm.Value.Should().BeApproximately(0.2, 1e-12);
        alarm.Reference.Should().Be(0);
        alarm.Threshold.Should().BeInRange(0.02, 0.05);
        alarm.Message.Should().Contain("book_flight (20.0%)").And.Contain("against 0.0% in the reference window");
        report.Current.Intent.Strata.Single(s => s.Stratum == "book_flight").Status.Should().Be(StratumStatus.Missing);
        report.HasAlarm.Should().BeTrue();
    }

    [Fact]
    public async Task A_large_distance_on_a_handful_of_traces_is_not_significant_and_raises_no_alarm()
    {
        // Given a set split evenly and a quiet window of six traces all in one intent
        var project = Project(("a", 50), ("b", 50));
        var store = new InMemoryStore();
        Reference(store, ("a", 200), ("b", 200));
        store.Add(Week5, "a", 6);

        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, Week5Only, TestContext.Current.CancellationToken))!;

        // Then the distance is large but within what six traces drawn like the reference give, so no alarm fires
        report.Current.Intent.Measures!.JsDistance.Should().BeGreaterThan(0.3);
        report.Current.Alarms.Should().NotContain(a => a.Instrument == "js_distance" || a.Instrument == "psi");
    }

    [Fact]
    public async Task A_significant_shift_in_the_mix_raises_the_distance_alarm()
    {
        // Given reference weeks in the set's 80/20 mix, then a week of 20/80
        var project = Project(("a", 80), ("b", 20));
        var store = new InMemoryStore();
        Reference(store, ("a", 160), ("b", 40));
        store.Add(Week5, "a", 200);
        store.Add(Week5, "b", 800);

        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, Week5Only, TestContext.Current.CancellationToken))!;

        // Then both mix measures alarm, each past its simulated null's threshold, and say so
        report.Current.Alarms.Select(a => a.Instrument).Should().Contain(["js_distance", "psi"]);
        var js = report.Current.Alarms.Single(a => a.Instrument == "js_distance");
        js.Threshold.Should().BeLessThan(js.Value);
        js.Reference.Should().BeLessThan(0.05);
        js.Message.Should().MatchRegex("drawn like the reference|minimum effect");
        report.Calibration!.Alpha.Should().BeApproximately(0.01 / report.Calibration.Instruments, 1e-15);
        report.Current.Intent.Strata.Single(s => s.Stratum == "b").Status.Should().Be(StratumStatus.Under);
        report.Current.Intent.Strata.Single(s => s.Stratum == "a").Status.Should().Be(StratumStatus.Over);
    }

    [Fact]
    public async Task Unclassified_traffic_is_kept_out_of_the_intent_measures_and_reported_apart()
    {
        var project = Project(("a", 50), ("b", 50));
        var store = new InMemoryStore();
        store.Add(Monday, "a", 300);
        store.Add(Monday, "b", 300);
        store.Add(Monday, Taxonomy.UnknownIntent, 400);

        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, new DriftRequest(), TestContext.Current.CancellationToken))!;

        report.Current.UnknownShare.Should().BeApproximately(0.4, 1e-12);
        report.Current.Intent.TrafficTotal.Should().Be(600);
        report.Current.Intent.Strata.Should().NotContain(s => s.Stratum == Taxonomy.UnknownIntent);
        report.Current.Alarms.Should().BeEmpty();
    }

    [Fact]
    public async Task Weekly_series_has_one_window_per_iso_week_and_alarms_only_where_the_mix_moved()
    {
        // Given four calm weeks, then a week where a new intent takes a third of traffic
        var project = Project(("a", 50), ("b", 50));
        var store = new InMemoryStore();
        for (var week = 0; week < 5; week++)
        {
            store.Add(Monday.AddDays(7 * week).AddHours(1), "a", 300);
            store.Add(Monday.AddDays(7 * week).AddHours(2), "b", 300);
        }

        store.Add(Monday.AddDays(28).AddHours(3), "new_intent", 300);

        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, new DriftRequest(Over: Period.Week), TestContext.Current.CancellationToken))!;

        report.Series.Select(w => w.From).Should().Equal(Monday, Monday.AddDays(7), Monday.AddDays(14), Monday.AddDays(21), Monday.AddDays(28));
        report.Series.Take(4).Should().OnlyContain(w => w.Alarms.Count == 0);
        report.Series[4].Alarms.Should().Contain(a => a.Instrument == "missing_share");
    }

    [Fact]
    public async Task Current_window_defaults_to_the_policy_window_before_the_newest_trace()
    {
        var project = Project(("a", 50), ("b", 50));
        var store = new InMemoryStore();
        store.Add(Monday, "old_intent", 1000);
        store.Add(Monday.AddDays(60), "a", 100);
        store.Add(Monday.AddDays(61), "b", 100);

        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, new DriftRequest(), TestContext.Current.CancellationToken))!;

        report.Current.Traces.Should().Be(200);
        report.Current.To.Should().Be(Monday.AddDays(61).AddSeconds(99).AddMilliseconds(1));
        report.Current.From.Should().Be(report.Current.To - TimeSpan.FromDays(28));
    }

    [Fact]
    public async Task Cohort_mix_shift_raises_a_cohort_alarm_naming_the_value()
    {
        // Given reference weeks with a fifth of traffic on the free plan, as in the set, then a week with four fifths
        var project = Project(("a", 100));
        var store = new InMemoryStore();
        PlanReference(store);

        store.Add(Week5, "a", 800, "plan=free");
        store.Add(Week5, "a", 200, "plan=pro");

        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, Week5Only, TestContext.Current.CancellationToken))!;

        var alarm = report.Current.Alarms.Should().ContainSingle(a => a.Instrument == "cohort_js_distance").Subject;
        alarm.Dimension.Should().Be("plan");
        alarm.Message.Should().Contain("plan=free is 80.0% of traffic against 20.0% in the reference window and 20.0% of the set");
    }

    [Fact]
    public async Task A_cohort_value_the_taxonomy_does_not_list_is_named_when_it_grows()
    {
        // Given reference weeks on the listed plans, then a week where most traffic carries a plan the taxonomy lacks
        var project = Project(("a", 100));
        var store = new InMemoryStore();
        PlanReference(store);

        store.Add(Week5, "a", 600, "plan=unknown");
        store.Add(Week5, "a", 400, "plan=pro");

        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, Week5Only, TestContext.Current.CancellationToken))!;

        report.Current.Alarms.Should().ContainSingle(a => a.Instrument == "cohort_js_distance")
            .Which.Message.Should().Contain("plan=unknown (unknown: a value the taxonomy does not list, or none) is 60.0% of traffic");
    }

    [Fact]
    public async Task Unchanged_traffic_after_the_reference_raises_no_alarm_though_the_set_differs_from_traffic()
    {
        // Given eight weeks drawn alike (a 60%, b 30%, unknown 10%, the set 50/50)
        var project = Project(("a", 50), ("b", 50));
        var store = new InMemoryStore();
        for (var week = 0; week < 8; week++)
        {
            store.Add(Monday.AddDays(7 * week).AddHours(1), "a", 600 + (week % 3 * 7));
            store.Add(Monday.AddDays(7 * week).AddHours(2), "b", 300 - (week % 2 * 5));
            store.Add(Monday.AddDays(7 * week).AddHours(3), Taxonomy.UnknownIntent, 100 + (week % 2 * 4));
        }

        // When every week is compared
        var report = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", store, new DriftRequest(Over: Period.Week), TestContext.Current.CancellationToken))!;

        // Then the set's own distance from traffic is no alarm: only a change from the reference would be
        report.Series.Should().HaveCount(8).And.OnlyContain(w => w.Alarms.Count == 0);
        report.Current.Intent.Measures!.JsDistance.Should().BeGreaterThan(0.1);
        // And the reference is the first 28 days of stored traffic, its dispersion read from the whole weeks inside it
        report.Calibration!.From.Should().Be(Monday.AddHours(1));
        report.Calibration.To.Should().Be(Monday.AddDays(28).AddHours(1));
        report.Calibration.Phi.Should().BeGreaterThanOrEqualTo(1);
        report.Calibration.Periods.Should().Be(3);
    }

    [Fact]
    public async Task A_reference_whose_weeks_swing_widens_the_tests_so_a_swing_of_the_same_size_is_no_alarm()
    {
        // Given a set of a/b 50/50, and reference weeks that swing between 75/25 and 45/55 (or hold 60/40)
        var project = Project(("a", 50), ("b", 50));
        var swinging = new InMemoryStore();
        var steady = new InMemoryStore();
        for (var week = 0; week < 4; week++)
        {
            swinging.Add(Monday.AddDays(7 * week).AddHours(1), "a", week % 2 == 0 ? 750 : 450);
            swinging.Add(Monday.AddDays(7 * week).AddHours(2), "b", week % 2 == 0 ? 250 : 550);
            steady.Add(Monday.AddDays(7 * week).AddHours(1), "a", 600);
            steady.Add(Monday.AddDays(7 * week).AddHours(2), "b", 400);
        }

        // When a later week of 75/25 is compared with each
        foreach (var store in new[] { swinging, steady })
        {
            store.Add(Week5, "a", 750);
            store.Add(Week5.AddHours(1), "b", 250);
        }

        var wide = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", swinging, Week5Only, TestContext.Current.CancellationToken))!;
        var narrow = (await IntentDivergenceAnalyzer.AnalyzeAsync(project, "v", steady, Week5Only, TestContext.Current.CancellationToken))!;

        // Then the swinging reference's dispersion factor is large and the week is within its swing; against the steady
        // reference (φ = 1) the same week is a shift
        wide.Calibration!.Phi.Should().BeGreaterThan(10);
        wide.Current.Alarms.Should().NotContain(a => a.Instrument == "js_distance");
        narrow.Calibration!.Phi.Should().Be(1);
        narrow.Current.Alarms.Should().Contain(a => a.Instrument == "js_distance");
    }

    [Fact]
    public async Task Empty_store_gives_no_report()
    {
        (await IntentDivergenceAnalyzer.AnalyzeAsync(Project(("a", 1)), "v", new InMemoryStore(), new DriftRequest(), TestContext.Current.CancellationToken)).Should().BeNull();
    }

    private static DateTimeOffset Week5 => Monday.AddDays(28).AddHours(1);

    private static DriftRequest Week5Only => new(Monday.AddDays(28), Monday.AddDays(35));

    /// <summary>Four reference weeks from <see cref="Monday"/> with the given counts each week.</summary>
    private static void Reference(InMemoryStore store, params (string Intent, int PerWeek)[] intents)
    {
        for (var week = 0; week < 4; week++)
        {
            foreach (var (intent, count) in intents)
            {
                store.Add(Monday.AddDays(7 * week).AddHours(1), intent, count);
            }
        }
    }

    /// <summary>Four reference weeks of intent a, a fifth of it on the free plan (as the set), the rest pro.</summary>
    private static void PlanReference(InMemoryStore store)
    {
        for (var week = 0; week < 4; week++)
        {
            store.Add(Monday.AddDays(7 * week), "a", 40, "plan=free");
            store.Add(Monday.AddDays(7 * week), "a", 160, "plan=pro");
        }
    }

    /// <summary>A project whose gold cases have the given intent counts; 20% of cases are plan=free, the rest pro.</summary>
    private static EvalProject Project(params (string Intent, int Cases)[] intents)
    {
        var taxonomy = new Taxonomy(1, [.. intents.Select(i => new IntentDefinition(i.Intent, null, [], [], null))], [new CohortDimension("plan", "plan", ["free", "pro"], "unknown")], new ClassifierSettings());
        var cases = new List<EvalCase>();
        foreach (var (intent, count) in intents)
        {
            for (var i = 0; i < count; i++)
            {
                cases.Add(new EvalCase($"{intent}-{i}", TraceInput.FromText("x"), [new Reference("y", ReferenceGrade.High)], [], intent,
                    new Dictionary<string, string> { ["plan"] = i % 5 == 0 ? "free" : "pro" }, null, new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", i + 1)));
            }
        }

        var policy = new SamplingPolicy(1, null, 100, TimeSpan.FromDays(28), new StrataPolicy(["intent"], DefaultWeighting.Traffic, new Dictionary<string, double>(), 0),
            new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>>(), 0.95, 1), 0.2, TimeSpan.FromDays(7), TimeSpan.FromDays(90),
            new PromotionRule(0.01, 3), new RetirementRule(4, true, true), AlarmThresholds.Defaults);
        return new EvalProject("/tmp", new ProjectSettings(1, "test", "/tmp/x.db", "t", "p", []), taxonomy, policy, cases);
    }
}
