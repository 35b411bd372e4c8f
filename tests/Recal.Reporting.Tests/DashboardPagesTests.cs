using FluentAssertions;
using Recal.Domain;
using Recal.Drift;
using Recal.Gates;
using Recal.Lifecycle;
using Recal.Reporting.Dashboard;
using Recal.Running;
using Recal.Testing;
using Recal.Workflows;
using Xunit;

namespace Recal.Reporting.Tests;

/// <summary>The dashboard's pages: every view linked from every other, trace text encoded, windows to drill into, and each page fits a phone and a laptop.</summary>
public sealed class DashboardPagesTests
{
    private const string Payload = "<script>alert('owned')</script>";
    private static readonly DateTimeOffset Monday = new(2026, 7, 27, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Every_view_carries_the_navigation_with_its_own_link_marked_and_the_state_the_script_watches()
    {
        // Given every view rendered
        var pages = Pages();

        // Then each links to all eight views, marks its own, and carries the state and the server's script
        foreach (var (path, html) in pages)
        {
            foreach (var view in DashboardPages.Views)
            {
                html.Should().Contain($"<a href=\"{view.Path}\"", $"{path} links to {view.Path}");
            }

            html.Should().Contain($"<a href=\"{path}\" aria-current=\"page\">", path);
            html.Should().Contain("<meta name=\"recal-state\" content=\"s-42\">").And.Contain($"<script src=\"{DashboardPages.ScriptPath}\" defer></script>");
        }
    }

    [Fact]
    public void Text_from_traces_and_cases_is_encoded_everywhere_it_is_shown()
    {
        // Given a trace and a blind spot whose texts and metadata hold a script
        var pages = Pages();

        // Then no page carries the script as markup; the trace pages show it as text
        foreach (var (path, html) in pages)
        {
            html.Should().NotContain(Payload, path);
        }

        pages["/traces"].Should().Contain("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;");
        DashboardPages.Trace("demo", Trace(), "s").Should().NotContain(Payload).And.Contain("&lt;script&gt;");
    }

    [Fact]
    public void Each_period_of_the_timeline_opens_its_window_from_the_charts_and_the_table()
    {
        // Given a drift report with a series, rendered with a link per window
        var html = Pages()["/timeline"];

        // Then the charts have a clickable band per period, and the period table links its dates
        var report = DriftReportFixture.Build(alarm: true);
        var link = WindowLink(report.Series[0]).Replace("&", "&amp;", StringComparison.Ordinal);
        html.Should().Contain($"<a href=\"{link}\" class=\"window\">");
        html.Should().Contain($"<a href=\"{link}\">{report.Series[0].From.UtcDateTime:yyyy-MM-dd}</a>");
    }

    [Fact]
    public void The_coverage_map_draws_covered_and_uncovered_traffic_and_cases_with_their_text_on_hover()
    {
        // Given a map of two covered and one uncovered trace and a case
        var map = new CoverageMapModel(
            [new(0, 0, MapPointKind.Covered, "id:a", "a"), new(1, 1, MapPointKind.Covered, "id:b", "b"), new(5, -2, MapPointKind.Uncovered, "id:c", Payload), new(0.5, 0.5, MapPointKind.Case, "case-1", "the case")],
            [0.4, 0.2], 3, 300);

        // When drawn
        var svg = new CoverageMap(map).Render();

        // Then each kind has its group, the uncovered trace opens its page, and texts are encoded
        svg.Should().Contain("<g class=\"covered\"").And.Contain("<g class=\"uncovered\"").And.Contain("<g class=\"eval-case\"");
        svg.Should().Contain("<a href=\"/traces/id%3Ac\">").And.Contain("<title>eval case: the case</title>");
        svg.Should().Contain("40.0% and 20.0% of the variance; 3 of 300 measured traces").And.NotContain(Payload);
    }

    [Fact]
    public void A_page_of_another_writer_gets_the_navigation_and_the_script()
    {
        // Given a whole page as the gate writer renders it
        var framed = DashboardPages.Framed("<!DOCTYPE html><html><head><title>t</title></head><body><h1>Gate</h1></body></html>", "/runs", "s-1");

        // Then the navigation comes first in the body, the script and the state in the head
        framed.Should().Contain("<body>\n<nav class=\"dash\">").And.Contain("<a href=\"/runs\" aria-current=\"page\">");
        framed.IndexOf("<meta name=\"recal-state\" content=\"s-1\">", StringComparison.Ordinal).Should().BeLessThan(framed.IndexOf("</head>", StringComparison.Ordinal));
        framed.Should().Contain("<h1>Gate</h1>");
    }

    [Fact]
    public async Task Every_view_fits_a_phone_and_a_laptop()
    {
        // Given every view rendered
        var pages = Pages();

        // When laid out at both widths
        var problems = await PageLayout.ProblemsAsync([.. pages.Select(p => (p.Key, p.Value))], TestContext.Current.CancellationToken);

        // Then nothing is wider than the window, scrolls sideways or spills
        problems.Should().BeEmpty();
    }

    private static string WindowLink(DriftWindow window) => $"/mix?from={window.From.UtcDateTime:yyyy-MM-dd}&to={window.To.UtcDateTime:yyyy-MM-dd}";

    private static Dictionary<string, string> Pages()
    {
        var report = DriftReportFixture.Build(alarm: true);
        var check = new CheckResult(
        [
            new Finding("intent mix", Verdict.Drifting, "2 alarm(s): intent JS distance 0.310 > 0.250; 4.0% of traffic in intents the set lacks (alarm at 2.0%)", "recal drift --over weekly --html drift.html; recal sample --pool shadow"),
            new Finding("coverage", Verdict.Healthy, "58.2% (56.0% to 60.1%) of the window has an eval case within r = 0.512"),
            new Finding("score", Verdict.Unknown, "no completed run", "recal run --target NAME --pool gold shadow holdout"),
        ], null);
        var project = Project();
        var status = new StatusResult([new StratumPools("balance", 3, 1, 2, 0, 1), new StratumPools("cancel_subscription_and_request_a_refund_for_the_annual_plan", 1, 0, 0, 1, 0)], 4, 1, 2, 1, 1,
            LifecycleClock.Of(project, Monday), 1, 1, null, []);
        var changes = new List<ChangeEntry> { new(Monday, "label import", "labelling", 1, "v1", "v2", "2 labelled draft(s) from to-label.csv added", [new CaseMove("gold-1", "draft", "gold")]) };
        var traces = new TraceSearchResult([Trace()], 1, 10, Monday, Monday.AddDays(7));
        RunInfo[] runs = [new("run-1", "demo", "baseline", "{}", "v1", PoolSet.Of([Pool.Gold]), 10, null, Monday, Monday.AddMinutes(3), RunStatus.Completed)];
        return new Dictionary<string, string>
        {
            ["/"] = DashboardPages.Health("demo", check, "s-42"),
            ["/timeline"] = DashboardPages.Timeline(report, WindowLink, "s-42"),
            ["/mix"] = DashboardPages.Mix(report, "s-42"),
            ["/coverage"] = DashboardPages.Coverage(Coverage(), new CoverageMapModel([new(0, 0, MapPointKind.Uncovered, "id:t-1", Payload), new(1, 2, MapPointKind.Case, "c", "case")], [0.3, 0.1], 1, 1), "s-42"),
            ["/runs"] = DashboardPages.Runs("demo", runs, "s-42", [Distributed()]),
            ["/releases"] = DashboardPages.Releases(report, "s-42"),
            ["/lifecycle"] = DashboardPages.Lifecycle(project, "v2", status, changes, "s-42"),
            ["/traces"] = DashboardPages.Traces("demo", new TraceSearch(Text: Payload), traces, "s-42"),
        };
    }

    [Fact]
    public void The_runs_view_shows_a_distributed_run_in_progress_with_its_queue_its_workers_and_its_errors_encoded()
    {
        // Given a distributed run half done, with a live worker, a killed one and an error quoting markup
        var html = DashboardPages.Runs("demo", [], "s-42", [Distributed()]);

        // Then the view says where the run stands, each worker's heartbeat, and the error as text
        html.Should().Contain("In progress: run-2");
        html.Should().Contain("5/10 done, 2 leased, 3 queued; 1 worker(s) active, 1 silent; pass 75.0%, errors 1, 2 case(s) reclaimed");
        html.Should().Contain("heartbeat 1.0 s ago").And.Contain("silent for 40 s (lease 30 s): stopped or killed");
        html.Should().NotContain(Payload).And.Contain("&lt;script&gt;");
    }

    [Fact]
    public void The_runs_view_shows_a_capped_runs_cap_and_retries_and_lists_a_cancelled_run_as_cancelled()
    {
        // Given a distributed run capped at four cases in flight whose workers retried three calls, and a cancelled run
        var capped = Distributed() with { Settings = new Storage.DistributedRunSettings(true, false, null, 0.05, MaxInFlight: 4) };
        capped = capped with { Workers = [capped.Workers[0] with { Retries = 2 }, capped.Workers[1] with { Retries = 1 }] };
        RunInfo[] runs = [new("run-3", "demo", "baseline", "{}", "v1", PoolSet.Of([Pool.Gold]), 10, null, Monday, Monday.AddMinutes(1), RunStatus.Cancelled)];

        // When the runs view is rendered
        var html = DashboardPages.Runs("demo", runs, "s-42", [capped]);

        // Then the progress names the cap and the retries, and the cancelled run's status is cancelled
        html.Should().Contain("5/10 done, 2 leased (at most 4 in flight), 3 queued").And.Contain("errors 1, 3 retries, 2 case(s) reclaimed");
        html.Should().Contain("data-label=\"status\">cancelled</td>");
    }

    private static Storage.DistributedRunState Distributed() =>
        new(new RunInfo("run-2", "demo", "baseline", "{}", "v1", PoolSet.Of([Pool.Gold]), 10, null, Monday, null, RunStatus.Running),
            new Storage.DistributedRunSettings(true, false, null, 0.05), 3, 2, 5, 3, 1, 2,
            [
                new Storage.WorkerState("vm:100:a", 16, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), false, 4, 4, 0, 1, 0),
                new Storage.WorkerState("vm:101:b", 16, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(30), false, 1, 1, 0, 0, 0),
            ],
            [("gold-7", "target answered 500: " + Payload)]);

    private static ClassifiedTrace Trace() =>
        new(new Trace("t-1", Monday.AddHours(3), TraceInput.FromText("hello " + Payload), "answer " + Payload, "bot-1", new Dictionary<string, string> { ["plan"] = Payload }, new Feedback(Thumbs: -1), null),
            "id:t-1", "balance", IntentSource.Classifier, 0.42, "plan=free");

    private static EvalProject Project()
    {
        var taxonomy = new Taxonomy(1, [new IntentDefinition("balance", null, [], [], null)], [], new ClassifierSettings(0.2));
        var policy = new SamplingPolicy(1, null, 100, TimeSpan.FromDays(28), new StrataPolicy(["intent"], DefaultWeighting.Traffic, new Dictionary<string, double>(), 2),
            new ExclusionRules([], new Dictionary<string, IReadOnlyList<string>>(), 0.95, 3), 0.2, TimeSpan.FromDays(7), TimeSpan.FromDays(84),
            new PromotionRule(0.01, 2), new RetirementRule(4, true, true), new AlarmThresholds(0.25, 0.3, 0.001, 0.03, 0.1));
        return new EvalProject("/tmp/demo", new ProjectSettings(1, "demo", "/tmp/demo/x.db", "t", "p", []), taxonomy, policy, []);
    }

    private static CoverageReport Coverage()
    {
        var spot = new BlindSpot(1, 120, 300, 0.0375, 0.025, 0.05, 2.0, [new(Monday, 40, 0.02)],
            [new("travel_notification", 80, 0.61)], [new("visa", 0.4, 0.01, 0.4 * Math.Log(40))],
            [new("id:t-1", "t-1", "travel_notification", Monday.AddHours(5), "do i need a visa " + Payload, 0.81, 0.35)],
            0.33, 0.55, 0.12, 0.4, true);
        return new CoverageReport(CoverageReport.CurrentFormatVersion, "demo", "v1", 2, ["gold"], 10, "recal-hashed-v1/d256/w0.2", 256,
            Monday, Monday.AddDays(28), 8000, 0, 0.95,
            new RadiusCalibration(0.5, RadiusSource.Calibrated, 95, 10, 3, 0.5, 0.05),
            new CoverageEstimate(0.6, 0.55, 0.65, 1000, 600, CoverageEstimator.Stratified),
            [new CoverageStratum("travel_notification", 800, 0.1, 0, 100, 0, 0, 0, 0.04, 0.3)],
            new BlindSpotReport(400, 3, ClusterCountSource.Silhouette, 20, 400, [new(2, 0.04)], 5, 1, 4, [spot]));
    }
}
