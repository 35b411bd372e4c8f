using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using Recal.Domain;
using Recal.Project;
using Recal.Reporting.Runs;
using Recal.Scoring;
using Recal.Statistics;
using Xunit;

namespace Recal.Running.Tests;

/// <summary>The run report: Wilson intervals per segment, the traffic-weighted estimate, and its three renderings.</summary>
public sealed class RunReportTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Latest = new(2026, 6, 28, 12, 0, 0, TimeSpan.Zero);
    private RunFixture _fixture = null!;
    private SamplingPolicy _policy = null!;

    public async ValueTask InitializeAsync()
    {
        _fixture = await RunFixture.CreateAsync(TestContext.Current.CancellationToken);
        var project = Path.Combine(_fixture.Folder, "project");
        ProjectScaffolder.Scaffold(project, "demo").Should().BeEmpty();
        _policy = EvalProjectLoader.Load(project).Project!.Policy;
    }

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task Every_segment_has_its_wilson_interval_and_errors_are_counted_but_never_in_a_pass_rate()
    {
        // Given results over three intents, two plans and two pools, three of them errors
        var results = Results();

        // When the report is built without any traffic in the store
        var report = await RunReportBuilder.BuildAsync(Run(results), results, _policy, _fixture.Store, TestContext.Current.CancellationToken);

        // Then overall and every segment match a recount, with the Wilson interval of passes over verdicts
        ShouldMatch(report.Overall, Expected("overall", "all", results));
        report.Overall.Errors.Should().Be(3);
        report.Overall.PassRate.Should().BeApproximately(8 / 14.0, 1e-12);
        var expected = new List<SegmentRate>();
        foreach (var (dimension, key) in new (string, Func<RunCaseRecord, string>)[]
        {
            ("pool", r => r.Pool),
            ("difficulty", r => r.Difficulty ?? "unrated"),
            ("plan", r => r.CohortKey.Split('=')[1]),
            ("intent", r => r.Intent),
        })
        {
            expected.AddRange(results.GroupBy(key).Select(g => Expected(dimension, g.Key, [.. g])));
        }

        report.Segments.Should().HaveCount(expected.Count);
        foreach (var segment in expected)
        {
            ShouldMatch(report.Segments.Single(s => s.Dimension == segment.Dimension && s.Value == segment.Value), segment);
        }

        var resetPassword = report.Segments.Single(s => s.Dimension == "intent" && s.Value == "reset_password");
        resetPassword.Errors.Should().Be(2);
        double.IsNaN(resetPassword.PassRate).Should().BeTrue("a segment of errors only has no pass rate, not 0%");
        report.Segments.Where(s => s.Dimension == "intent").Select(s => s.Value).Should().Equal("cancel_subscription", "refund", "reset_password");
        report.Errors.Select(e => e.CaseId).Should().BeEquivalentTo("refund-err", "reset-0", "reset-1");
        report.Failures.Should().HaveCount(6).And.OnlyContain(f => f.Reason.Contains("contains"));
        report.Weighted.Should().BeNull("the store holds no traffic");
        report.Costs.Calls.Should().Be(11, "cases answered by a call; cached answers and errors have no answer that a call produced");
        report.Costs.CacheHits.Should().Be(3);
    }

    [Fact]
    public async Task The_traffic_weighted_estimate_is_the_post_stratified_rate_over_the_latest_windows_shares()
    {
        // Given traffic in the window of 50% refund, 30% cancel_subscription and 20% reset_password, and older refund traffic
        await AddTrafficAsync("refund", 50, Latest);
        await AddTrafficAsync("cancel_subscription", 30, Latest);
        await AddTrafficAsync("reset_password", 20, Latest);
        await AddTrafficAsync("refund", 100, Latest.AddDays(-60));
        var results = Results();

        // When the report is built
        var report = await RunReportBuilder.BuildAsync(Run(results), results, _policy, _fixture.Store, TestContext.Current.CancellationToken);

        // Then the strata carry the window's shares, reset_password (errors only) is unmeasured, and the estimate is PostStratification's
        var weighted = report.Weighted!;
        weighted.By.Should().Equal("intent");
        weighted.Traces.Should().Be(100, "traffic older than the 28-day window does not count");
        weighted.To.Should().Be(Latest.AddMilliseconds(1));
        weighted.Strata.Select(s => (s.Stratum, s.TrafficShare, s.Cases, s.Passed, s.PassRate)).Should().Equal(
            ("refund", 0.5, 10, 7, 0.7),
            ("cancel_subscription", 0.3, 4, 1, 0.25),
            ("reset_password", 0.2, 0, 0, (double?)null));
        var expected = PostStratification.Estimate([new StratumResult(7, 10, 0.5), new StratumResult(1, 4, 0.3), new StratumResult(0, 0, 0.2)]);
        weighted.Estimate.Should().BeEquivalentTo(expected, o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
        weighted.Estimate.Estimate.Should().BeApproximately(((0.5 * 0.7) + (0.3 * 0.25)) / 0.8, 1e-12);
        weighted.Estimate.UnmeasuredWeight.Should().BeApproximately(0.2, 1e-12);
    }

    [Fact]
    public async Task Reports_built_on_signals_read_once_equal_reports_that_read_them_themselves()
    {
        // Given traffic, and the latest window's online signals read once, as the drift timeline does for every run
        await AddTrafficAsync("refund", 50, Latest);
        await AddTrafficAsync("reset_password", 50, Latest);
        var results = Results();
        var signals = await RunReportBuilder.SignalsAsync(_policy, _fixture.Store, TestContext.Current.CancellationToken);

        // When one report reads them itself and another is given them
        var alone = await RunReportBuilder.BuildAsync(Run(results), results, _policy, _fixture.Store, TestContext.Current.CancellationToken);
        var shared = await RunReportBuilder.BuildAsync(Run(results), results, _policy, _fixture.Store, TestContext.Current.CancellationToken, signals: signals);

        // Then both say the same, over the window the traffic weighting uses
        signals!.Strata.Values.Sum(s => s.Traces).Should().Be(100);
        (signals.From, signals.To).Should().Be((alone.Weighted!.From, alone.Weighted.To));
        shared.Online.Should().BeEquivalentTo(alone.Online);
        shared.Weighted.Should().BeEquivalentTo(alone.Weighted);
    }

    [Fact]
    public async Task Json_markdown_and_html_renderings_carry_the_figures_and_the_html_is_self_contained()
    {
        await AddTrafficAsync("refund", 50, Latest);
        await AddTrafficAsync("reset_password", 50, Latest);
        var results = Results();
        var report = await RunReportBuilder.BuildAsync(Run(results), results, _policy, _fixture.Store, TestContext.Current.CancellationToken);

        var json = RunReportWriters.ToJson(report);
        var markdown = RunReportWriters.ToMarkdown(report);
        var html = RunReportWriters.ToHtml(report);

        // JSON: versioned, the target's configuration as an object, rates as numbers and an undefined rate as null
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        root.GetProperty("format_version").GetInt32().Should().Be(RunReport.CurrentFormatVersion);
        root.GetProperty("run").GetProperty("id").GetString().Should().Be("run-report");
        root.GetProperty("run").GetProperty("target_config").GetProperty("model").GetString().Should().Be("bot");
        root.GetProperty("run").GetProperty("pools").EnumerateArray().Select(p => p.GetString()).Should().Equal("gold", "shadow");
        root.GetProperty("run").GetProperty("status").GetString().Should().Be("completed");
        root.GetProperty("overall").GetProperty("pass_rate").GetDouble().Should().BeApproximately(8 / 14.0, 1e-12);
        root.GetProperty("overall").GetProperty("errors").GetInt32().Should().Be(3);
        var segments = root.GetProperty("segments").EnumerateArray().ToList();
        segments.Should().HaveCount(report.Segments.Count);
        segments.Single(s => s.GetProperty("value").GetString() == "reset_password").GetProperty("pass_rate").ValueKind.Should().Be(JsonValueKind.Null);
        root.GetProperty("weighted").GetProperty("estimate").GetProperty("unmeasured_weight").GetDouble().Should().BeApproximately(0.5, 1e-12);
        root.GetProperty("weighted").GetProperty("strata").GetArrayLength().Should().Be(2);
        root.GetProperty("costs").GetProperty("cache_hits").GetInt32().Should().Be(3);
        root.GetProperty("errors").GetArrayLength().Should().Be(3);
        root.GetProperty("failures").GetArrayLength().Should().Be(6);

        // Markdown: the headline and a table per segment dimension, the strata and the errors
        markdown.Should().StartWith("# Run run-report");
        markdown.Should().Contain("- **pass rate**: 57.1%").And.Contain("- **unmeasured**: 50.0% of traffic");
        foreach (var title in new[] { "## By pool", "## By difficulty", "## By plan", "## By intent", "## Traffic-weighted estimate by intent", "## Scorers", "## Errors", "## Failures" })
        {
            markdown.Should().Contain(title);
        }

        markdown.Should().Contain("| segment | cases | passed | failed | errors | pass rate | 95% CI |");
        markdown.Should().MatchRegex(@"\| refund \| 11 \| 7 \| 3 \| 1 \| 70\.0% \| \d+\.\d%–\d+\.\d% \|");
        markdown.Should().Contain("| reset_password | 50.0% | 0 | unmeasured |");

        // HTML: one page with the same tables and nothing loaded from elsewhere
        html.Should().StartWith("<!DOCTYPE html>").And.Contain("<style").And.Contain("refund").And.Contain("unmeasured");
        html.Should().NotContainAny("<script", "<link", "@import", "<iframe", "<img");
        Regex.Matches(html, @"(?:src|href)\s*=\s*[""']?\s*(?:https?:)?//", RegexOptions.IgnoreCase).Should().BeEmpty();
        Regex.Matches(html, @"url\(\s*[""']?(?:https?:)?//", RegexOptions.IgnoreCase).Should().BeEmpty();
        Regex.Matches(html, "<table").Count.Should().BeGreaterThanOrEqualTo(6);
    }

    private static void ShouldMatch(SegmentRate actual, SegmentRate expected)
    {
        (actual.Dimension, actual.Value, actual.Cases, actual.Passed, actual.Failed, actual.Errors).Should().Be((expected.Dimension, expected.Value, expected.Cases, expected.Passed, expected.Failed, expected.Errors));
        foreach (var (got, want) in new[] { (actual.PassRate, expected.PassRate), (actual.Lower, expected.Lower), (actual.Upper, expected.Upper) })
        {
            if (double.IsNaN(want))
            {
                double.IsNaN(got).Should().BeTrue($"{expected.Dimension}={expected.Value} has no verdict");
            }
            else
            {
                got.Should().BeApproximately(want, 1e-12, $"{expected.Dimension}={expected.Value}");
            }
        }
    }

    private static SegmentRate Expected(string dimension, string value, IReadOnlyList<RunCaseRecord> results)
    {
        var errors = results.Count(r => r.Error != null);
        var passed = results.Count(r => r.Passed);
        var failed = results.Count - errors - passed;
        var (lower, upper) = passed + failed == 0 ? (double.NaN, double.NaN) : Proportion.WilsonInterval(passed, passed + failed);
        return new SegmentRate(dimension, value, results.Count, passed, failed, errors, passed + failed == 0 ? double.NaN : (double)passed / (passed + failed), lower, upper);
    }

    /// <summary>refund: 7 passed, 3 failed, 1 error; cancel_subscription: 1 passed, 3 failed; reset_password: 2 errors.</summary>
    private static List<RunCaseRecord> Results()
    {
        var results = new List<RunCaseRecord>();
        for (var i = 0; i < 10; i++)
        {
            results.Add(Record($"refund-{i}", "refund", passed: i < 7, plan: i % 2 == 0 ? "free" : "pro", pool: i < 6 ? "gold" : "shadow", difficulty: i < 3 ? "easy" : "hard"));
        }

        results.Add(Record("refund-err", "refund", passed: false, error: "the endpoint answered 500"));
        for (var i = 0; i < 4; i++)
        {
            results.Add(Record($"cancel-{i}", "cancel_subscription", passed: i == 0, plan: "pro", fromCache: i > 0));
        }

        results.Add(Record("reset-0", "reset_password", passed: false, error: "no answer within 30 s"));
        results.Add(Record("reset-1", "reset_password", passed: false, error: "judge:quality@v1: no judge gave a usable verdict", difficulty: null));
        return results;
    }

    private static RunCaseRecord Record(string id, string intent, bool passed, string plan = "free", string pool = "gold", string? difficulty = "easy", string? error = null, bool fromCache = false) =>
        new(id, intent, "plan=" + plan, difficulty, pool, error is null ? "answer" : null, error, passed,
            error is null ? [new ScoreResult("contains", passed ? 1 : 0, passed, passed ? null : "missing 'x'")] : [],
            null, error is null ? 120 : null, 10, 5, null, error is null && !fromCache ? 1 : 0, fromCache, Latest);

    private static RunInfo Run(IReadOnlyList<RunCaseRecord> results) =>
        new("run-report", "demo", "bot", """{"name":"bot","type":"openai","base_url":"http://127.0.0.1:8000/v1","model":"bot"}""", "abc123def456", PoolSet.Parse("gold,shadow"), results.Count, null, Latest, Latest.AddMinutes(5), RunStatus.Completed);

    private async Task AddTrafficAsync(string intent, int count, DateTimeOffset at)
    {
        var batch = Enumerable.Range(0, count).Select(i =>
        {
            var trace = new Trace($"{intent}-{at:yyyyMMdd}-{i}", at.AddMinutes(-i), TraceInput.FromText("q"), "a", null, new Dictionary<string, string> { ["plan"] = "free" }, Feedback.None, intent);
            return new ClassifiedTrace(trace, "id:" + trace.Id, intent, IntentSource.Label, 1, "plan=free");
        }).ToList();
        await _fixture.Store.AddTracesAsync(batch, TestContext.Current.CancellationToken);
    }
}
