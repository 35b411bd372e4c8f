using FluentAssertions;
using Recal.Core.Tests.Drift;
using Recal.Decisions;
using Recal.Domain;
using Recal.Running;
using Xunit;
using static Recal.Core.Tests.Decisions.DecisionFixture;

namespace Recal.Core.Tests.Decisions;

public sealed class GateEvaluatorTests
{
    private static readonly GatePolicy Offline = new() { Online = false };

    [Theory]
    [InlineData(-0.10, -0.15, -0.05, GateStatus.Fail)]   // a loss beyond the margin, the whole interval below zero
    [InlineData(0.00, -0.02, 0.02, GateStatus.Pass)]     // the interval rules out a loss beyond 3 points
    [InlineData(-0.02, -0.12, 0.08, GateStatus.Unknown)] // too wide to tell
    [InlineData(-0.02, -0.035, -0.005, GateStatus.Unknown)] // a real loss, under the margin, one beyond it not ruled out
    [InlineData(-0.05, -0.12, 0.02, GateStatus.Unknown)] // beyond the margin but not beyond noise
    public void The_non_inferiority_rule_reads_the_interval_against_the_margin(double change, double lower, double upper, GateStatus expected)
    {
        GateEvaluator.NonInferior(change, lower, upper, 0.03).Status.Should().Be(expected);
    }

    [Fact]
    public void No_newly_failing_case_passes_a_wide_interval()
    {
        GateEvaluator.NonInferior(0.1, -0.3, 0.4, 0.03, noneWorse: true).Status.Should().Be(GateStatus.Pass);
        GateEvaluator.NonInferior(double.NaN, double.NaN, double.NaN, 0.03).Status.Should().Be(GateStatus.Unknown);
    }

    [Fact]
    public async Task An_unchanged_candidate_passes_every_gate()
    {
        // Given two runs with the same verdicts on gold, shadow and holdout, and passing assertions
        List<RunCaseRecord> results = [.. Many("g", 200, 170), .. Many("s", 100, 80, "shadow"), .. Many("h", 60, 50, "holdout"), Result("a-1", true, assertionPassed: true)];

        // When the gates compare them
        var report = await GateEvaluator.EvaluateAsync(ProjectWith(Offline), Run("b", "base"), results, Run("c", "cand"), results, new InMemoryStore(), Now, TestContext.Current.CancellationToken);

        // Then every gate passes and the decision is to ship
        report.Gates.Select(g => (g.Gate, g.Status)).Should().Equal(
            (GateEvaluator.Assertions, GateStatus.Pass), (GateEvaluator.GoldSegments, GateStatus.Pass), (GateEvaluator.Holdout, GateStatus.Pass), (GateEvaluator.Shadow, GateStatus.Pass));
        report.Decision.Should().Be(GateStatus.Pass);
        report.Passed.Should().BeTrue();
    }

    [Fact]
    public async Task A_gold_segment_that_falls_beyond_noise_fails_the_gold_gate_by_name()
    {
        // Given a candidate that loses 15 of 40 billing cases and keeps refund
        List<RunCaseRecord> before = [.. Many("r", 100, 90), .. Many("b", 40, 40, intent: "billing")];
        List<RunCaseRecord> after = [.. Many("r", 100, 90), .. Many("b", 40, 25, intent: "billing")];

        var report = await GateEvaluator.EvaluateAsync(ProjectWith(Offline with { Holdout = false, Shadow = false }), Run("b", "base"), before, Run("c", "cand"), after, new InMemoryStore(), Now, TestContext.Current.CancellationToken);

        // Then the gold gate fails on the billing intent, and the decision fails
        var gold = report.Gates.Single(g => g.Gate == GateEvaluator.GoldSegments);
        gold.Status.Should().Be(GateStatus.Fail);
        gold.Segments.Should().Contain(s => s.Dimension == "intent" && s.Value == "billing" && s.Status == GateStatus.Fail);
        gold.Segments.Should().Contain(s => s.Dimension == "intent" && s.Value == "refund" && s.Status == GateStatus.Pass);
        gold.Why.Should().Contain("billing");
        report.Passed.Should().BeFalse();
    }

    [Fact]
    public async Task A_segment_too_small_to_tell_is_unknown_and_fails_unless_the_policy_lets_unknown_pass()
    {
        // Given a candidate that loses 2 of 5 billing cases
        List<RunCaseRecord> before = [.. Many("r", 100, 90), .. Many("b", 5, 5, intent: "billing")];
        List<RunCaseRecord> after = [.. Many("r", 100, 90), .. Many("b", 5, 3, intent: "billing")];
        var gates = Offline with { Holdout = false, Shadow = false };

        var strict = await GateEvaluator.EvaluateAsync(ProjectWith(gates), Run("b", "base"), before, Run("c", "cand"), after, new InMemoryStore(), Now, TestContext.Current.CancellationToken);
        var lenient = await GateEvaluator.EvaluateAsync(ProjectWith(gates with { Unknown = UnknownVerdict.Pass }), Run("b", "base"), before, Run("c", "cand"), after, new InMemoryStore(), Now, TestContext.Current.CancellationToken);

        // Then billing is unknown, not pass: by default that fails the decision; with unknown: pass it is reported only
        var billing = strict.Gates.Single(g => g.Gate == GateEvaluator.GoldSegments).Segments.Single(s => s.Dimension == "intent" && s.Value == "billing");
        billing.Status.Should().Be(GateStatus.Unknown);
        billing.Why.Should().Contain("too few cases");
        strict.Decision.Should().Be(GateStatus.Unknown);
        strict.Passed.Should().BeFalse();
        lenient.Decision.Should().Be(GateStatus.Unknown);
        lenient.Passed.Should().BeTrue();
    }

    [Fact]
    public async Task A_gold_gain_that_does_not_carry_to_the_holdout_fails_it()
    {
        // Given a candidate tuned to gold: +20 points on gold, unchanged on the holdout drawn from the same weeks
        List<RunCaseRecord> before = [.. Many("g", 300, 240), .. Many("h", 80, 64, "holdout")];
        List<RunCaseRecord> after = [.. Many("g", 300, 300), .. Many("h", 80, 64, "holdout")];

        var report = await GateEvaluator.EvaluateAsync(ProjectWith(Offline with { Shadow = false }), Run("b", "base"), before, Run("c", "cand"), after, new InMemoryStore(), Now, TestContext.Current.CancellationToken);

        // Then gold passes and the holdout fails, saying why
        report.Gates.Single(g => g.Gate == GateEvaluator.GoldSegments).Status.Should().Be(GateStatus.Pass);
        var holdout = report.Gates.Single(g => g.Gate == GateEvaluator.Holdout);
        holdout.Status.Should().Be(GateStatus.Fail);
        holdout.Why.Should().Contain("tuned to gold");
        holdout.Evidence.Should().Contain("+20.0 pp");
    }

    [Fact]
    public async Task A_holdout_still_sealed_skips_its_gate_and_one_not_run_is_unknown()
    {
        List<RunCaseRecord> results = [.. Many("g", 50, 45)];
        var seal = new Recal.Lifecycle.SealRecord(1, "aes-256-gcm", Now.AddDays(-10), Now.AddDays(30), 20, "c", "k", "n", "t", new Dictionary<string, int>());

        var sealedReport = await GateEvaluator.EvaluateAsync(ProjectWith(Offline with { Shadow = false }, seal), Run("b", "base"), results, Run("c", "cand"), results, new InMemoryStore(), Now, TestContext.Current.CancellationToken);
        var openable = await GateEvaluator.EvaluateAsync(ProjectWith(Offline with { Shadow = false }, seal), Run("b", "base"), results, Run("c", "cand"), results, new InMemoryStore(), Now.AddDays(31), TestContext.Current.CancellationToken);

        sealedReport.Gates.Single(g => g.Gate == GateEvaluator.Holdout).Status.Should().Be(GateStatus.Skipped);
        sealedReport.Gates.Single(g => g.Gate == GateEvaluator.Holdout).Evidence.Should().Contain("sealed until 2026-12-31");
        sealedReport.Passed.Should().BeTrue();
        openable.Gates.Single(g => g.Gate == GateEvaluator.Holdout).Status.Should().Be(GateStatus.Unknown);
        openable.Passed.Should().BeFalse();
    }

    [Fact]
    public async Task A_failing_assertion_fails_the_assertion_gate_and_names_the_case()
    {
        List<RunCaseRecord> before = [Result("a-1", true, assertionPassed: true), Result("a-2", true, assertionPassed: true), .. Many("g", 30, 30)];
        List<RunCaseRecord> after = [Result("a-1", true, assertionPassed: true), Result("a-2", false, assertionPassed: false), .. Many("g", 30, 30)];

        var report = await GateEvaluator.EvaluateAsync(ProjectWith(Offline with { Holdout = false, Shadow = false }), Run("b", "base"), before, Run("c", "cand"), after, new InMemoryStore(), Now, TestContext.Current.CancellationToken);

        var assertions = report.Gates.Single(g => g.Gate == GateEvaluator.Assertions);
        assertions.Status.Should().Be(GateStatus.Fail);
        assertions.Evidence.Should().StartWith("1 of 2 assertion result(s) passed");
        assertions.Cases.Should().ContainSingle().Which.Should().Contain("a-2").And.Contain("missing 'refund'");
    }

    [Fact]
    public async Task A_shadow_pool_worse_beyond_noise_fails_and_a_suite_without_assertions_skips_that_gate()
    {
        List<RunCaseRecord> before = [.. Many("g", 50, 45), .. Many("s", 120, 100, "shadow")];
        List<RunCaseRecord> after = [.. Many("g", 50, 45), .. Many("s", 120, 60, "shadow")];

        var report = await GateEvaluator.EvaluateAsync(ProjectWith(Offline with { Holdout = false }), Run("b", "base"), before, Run("c", "cand"), after, new InMemoryStore(), Now, TestContext.Current.CancellationToken);

        report.Gates.Single(g => g.Gate == GateEvaluator.Shadow).Status.Should().Be(GateStatus.Fail);
        report.Gates.Single(g => g.Gate == GateEvaluator.Shadow).Evidence.Should().Contain("40 newly failing");
        report.Gates.Single(g => g.Gate == GateEvaluator.Assertions).Status.Should().Be(GateStatus.Skipped);
    }

    [Fact]
    public async Task The_online_gate_is_unknown_when_one_target_names_no_release_and_skipped_when_neither_does()
    {
        List<RunCaseRecord> results = [.. Many("g", 50, 45)];
        var project = ProjectWith(new GatePolicy { Holdout = false, Shadow = false });
        var oneRelease = project with { Settings = project.Settings with { Targets = [new TargetSettings("cand", TargetKind.Replay, new Diagnostics.SourceLocation("recal.yaml", 1)) { Release = "r2" }] } };

        var neither = await GateEvaluator.EvaluateAsync(project, Run("b", "base"), results, Run("c", "cand"), results, new InMemoryStore(), Now, TestContext.Current.CancellationToken);
        var one = await GateEvaluator.EvaluateAsync(oneRelease, Run("b", "base"), results, Run("c", "cand"), results, new InMemoryStore(), Now, TestContext.Current.CancellationToken);

        neither.Gates.Single(g => g.Gate == GateEvaluator.Online).Status.Should().Be(GateStatus.Skipped);
        var online = one.Gates.Single(g => g.Gate == GateEvaluator.Online);
        online.Status.Should().Be(GateStatus.Unknown);
        online.Evidence.Should().Be("target base names no release");
    }

    [Fact]
    public async Task A_project_without_a_holdout_or_shadow_pool_skips_those_gates()
    {
        List<RunCaseRecord> results = [.. Many("g", 50, 45)];
        var report = await GateEvaluator.EvaluateAsync(ProjectWith(Offline), Run("b", "base"), results, Run("c", "cand"), results, new InMemoryStore(), Now, TestContext.Current.CancellationToken);

        report.Gates.Where(g => g.Gate is GateEvaluator.Holdout or GateEvaluator.Shadow).Should().OnlyContain(g => g.Status == GateStatus.Skipped);
        report.Passed.Should().BeTrue();
    }
}
