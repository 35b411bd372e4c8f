using System.Net;
using System.Text.RegularExpressions;
using FluentAssertions;
using Recal.Project;
using Recal.Reporting.Dashboard;
using Recal.Testing.Shared;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>
/// The dashboard over HTTP on a copy of the bundled sample with its twelve weeks of traffic: every view, the drill-in
/// from the timeline, sessions and tokens, a draft labelled through the review form, and the page state moving when
/// traffic arrives.
/// </summary>
public sealed partial class DashboardTests : IClassFixture<DashboardTests.Sample>
{
    private const string Payload = "<script>alert('owned')</script>";

    /// <summary>The sample's last four weeks: what the coverage view shows whatever another test has exported since.</summary>
    private const string SampleWindow = "/coverage?from=2026-07-27&to=2026-08-24";
    private readonly Sample _sample;

    public DashboardTests(Sample sample) => _sample = sample;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_view_renders_on_the_sample_with_the_read_token()
    {
        var server = await _sample.ServerAsync();
        using var reader = Client(server, Harness.ReadToken);

        foreach (var view in DashboardPages.Views)
        {
            var response = await reader.GetAsync(view.Path, Cancel);
            var html = await response.Content.ReadAsStringAsync(Cancel);
            response.StatusCode.Should().Be(HttpStatusCode.OK, $"{view.Path}: {Text(html)}");
            html.Should().Contain($"<a href=\"{view.Path}\" aria-current=\"page\">", view.Path);
            response.Headers.GetValues("Content-Security-Policy").Single().Should().Contain("script-src 'self'");
        }

        (await reader.GetStringAsync("/", Cancel)).Should().Contain("intent mix").And.Contain("coverage");
        (await reader.GetStringAsync("/lifecycle", Cancel)).Should().Contain("Pools per stratum").And.Contain("Shadow refresh");
        (await reader.GetStringAsync(SampleWindow, Cancel)).Should().Contain("<g class=\"uncovered\"").And.Contain("Per stratum, worst covered first");
        (await reader.GetStringAsync("/runs", Cancel)).Should().Contain(Sample.JudgedRun).And.Contain("/runs/" + Sample.JudgedRun);
    }

    [Fact]
    public async Task The_heavy_views_are_computed_before_anyone_asks()
    {
        var server = await _sample.ServerAsync();
        var service = (Dashboard.DashboardService)server.App.Services.GetService(typeof(Dashboard.DashboardService))!;
        var state = await service.StateAsync(Cancel);

        // Nobody has asked for the timeline or coverage of this state; the warmer computes them on its own.
        var ready = false;
        for (var i = 0; i < 600 && !ready; i++)
        {
            ready = service.IsReady("health", state) && service.IsReady("drift|Week|||True", state) && service.IsReady("coverage||", state);
            if (!ready)
            {
                await Task.Delay(500, Cancel);
                state = await service.StateAsync(Cancel);
            }
        }

        ready.Should().BeTrue("the warmer computes health, the timeline and coverage when the state changes");
    }

    [Fact]
    public async Task A_period_of_the_timeline_opens_that_window_s_strata_mix()
    {
        var server = await _sample.ServerAsync();
        using var reader = Client(server, Harness.ReadToken);

        var timeline = await reader.GetStringAsync("/timeline", Cancel);
        var links = WindowLink().Matches(timeline).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).Distinct().ToList();
        links.Should().HaveCountGreaterThan(10, "one per week of the sample's twelve");
        var mix = await reader.GetAsync(links[3], Cancel);
        var html = await mix.Content.ReadAsStringAsync(Cancel);

        mix.StatusCode.Should().Be(HttpStatusCode.OK, Text(html));
        var from = links[3].Split("from=")[1][..10];
        html.Should().Contain($"Strata mix, {from} to").And.Contain("Current window: intents");
    }

    [Fact]
    public async Task Trace_searches_on_text_feedback_and_certainty_find_on_the_sample_what_a_scan_of_whole_traces_finds()
    {
        var server = await _sample.ServerAsync();
        var from = new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero);
        var whole = new List<Domain.ClassifiedTrace>();
        await server.Store.ScanTracesAsync(from, null, whole.Add, Cancel);

        foreach (var search in new Workflows.TraceSearch[]
        {
            new(from, Text: "balance"),
            new(from, Text: "CARD", Cohort: "plan=pro", Limit: 50),
            new(from, Feedback: "down"),
            new(from, Feedback: "escalated", Intent: "balance"),
            new(from, Feedback: "none", Text: "my"),
            new(from, Uncertain: true),
            new(from, Uncertain: true, ConfidenceBelow: 0.6, Text: "what"),
        })
        {
            // The whole traces in the store's order (time, then position), newest first: what the search returned before.
            var expected = whole.Where(search.Matches).Reverse().ToList();
            var found = await Workflows.TraceSearchUseCase.RunAsync(search, server.Store, Cancel);
            (found.Matched, found.Scanned).Should().Be((expected.Count, whole.Count), search.ToString());
            found.Traces.Select(t => t.Key).Should().Equal(expected.Take(search.Limit).Select(t => t.Key), search.ToString());
        }
    }

    [Fact]
    public async Task Trace_text_is_encoded_in_the_search_and_the_trace_page()
    {
        var server = await _sample.ServerAsync();
        using var reader = Client(server, Harness.ReadToken);

        var found = await reader.GetStringAsync("/traces?q=" + Uri.EscapeDataString("alert('owned')") + "&from=2026-01-01", Cancel);
        found.Should().Contain("1 trace(s) match of ").And.NotContain(Payload).And.Contain("&lt;script&gt;");
        var link = TraceLink().Match(found).Groups[1].Value;
        var page = await reader.GetStringAsync(WebUtility.HtmlDecode(link), Cancel);
        page.Should().NotContain(Payload).And.Contain("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;");
    }

    [Fact]
    public async Task A_browser_without_a_session_is_sent_to_log_in_and_a_read_session_cannot_label()
    {
        var server = await _sample.ServerAsync();
        using var browser = Browser(server);

        var first = await browser.GetAsync("/lifecycle", Cancel);
        first.StatusCode.Should().Be(HttpStatusCode.SeeOther);
        first.Headers.Location!.ToString().Should().Be("/login?next=%2Flifecycle");
        (await LogInAsync(browser, "not-a-token")).StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        (await LogInAsync(browser, Harness.ReadToken)).StatusCode.Should().Be(HttpStatusCode.Redirect);
        (await browser.GetAsync("/lifecycle", Cancel)).StatusCode.Should().Be(HttpStatusCode.OK);

        var draft = _sample.DraftIds[0];
        var form = await browser.GetStringAsync("/review/" + draft, Cancel);
        form.Should().Contain("a write token is needed to label").And.NotContain(DashboardPages.CsrfField);
        var post = await browser.PostAsync("/review/" + draft, new FormUrlEncodedContent(new Dictionary<string, string> { ["reference_high"] = "x" }), Cancel);
        post.StatusCode.Should().NotBe(HttpStatusCode.Redirect);
        ((int)post.StatusCode).Should().BeOneOf(401, 303);
    }

    [Fact]
    public async Task A_draft_labelled_in_the_review_form_becomes_a_case_and_a_forged_post_is_refused()
    {
        var server = await _sample.ServerAsync();
        using var browser = Browser(server);
        (await LogInAsync(browser, Harness.Token)).StatusCode.Should().Be(HttpStatusCode.Redirect);
        var draft = _sample.DraftIds[1];

        var form = await browser.GetStringAsync("/review/" + draft, Cancel);
        var fields = Hidden().Matches(form).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields.Should().ContainKeys(DashboardPages.CsrfField, "version");

        var forged = await browser.PostAsync("/review/" + draft, new FormUrlEncodedContent(new Dictionary<string, string> { ["version"] = fields["version"], ["reference_high"] = "forged" }), Cancel);
        forged.StatusCode.Should().Be(HttpStatusCode.BadRequest);

        var empty = await browser.PostAsync("/review/" + draft, new FormUrlEncodedContent(new Dictionary<string, string>(fields)), Cancel);
        empty.StatusCode.Should().Be(HttpStatusCode.UnprocessableEntity);
        (await empty.Content.ReadAsStringAsync(Cancel)).Should().Contain("RC1604");

        var labelled = await browser.PostAsync("/review/" + draft, new FormUrlEncodedContent(new Dictionary<string, string>(fields) { ["reference_high"] = "Here is how that works.", ["difficulty"] = "medium" }), Cancel);
        labelled.StatusCode.Should().Be(HttpStatusCode.Redirect);
        labelled.Headers.Location!.ToString().Should().Be("/review?labelled=" + draft);
        var made = EvalProjectLoader.Load(_sample.Folder).Project!.Cases.Single(c => c.Id == draft);
        made.References.Single().Text.Should().Be("Here is how that works.");
        (await browser.GetStringAsync("/lifecycle", Cancel)).Should().Contain("from the review form");

        var again = await browser.PostAsync("/review/" + draft, new FormUrlEncodedContent(new Dictionary<string, string>(fields) { ["reference_high"] = "Second opinion." }), Cancel);
        again.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await again.Content.ReadAsStringAsync(Cancel)).Should().Contain("labelled by someone else");
    }

    [Fact]
    public async Task Drafts_from_a_blind_spot_are_written_for_the_review_queue()
    {
        var server = await _sample.ServerAsync();
        using var browser = Browser(server);
        (await LogInAsync(browser, Harness.Token)).StatusCode.Should().Be(HttpStatusCode.Redirect);

        var coverage = await browser.GetStringAsync(SampleWindow, Cancel);
        var form = DraftForm().Match(coverage);
        form.Success.Should().BeTrue("a writer sees a draft button under each blind spot");
        var fields = Hidden().Matches(form.Value).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields["spot"].Should().Be("1");
        var before = Workflows.LabelImportUseCase.ReadDrafts(_sample.Folder).Drafts.Count;

        var posted = await browser.PostAsync("/coverage/drafts", new FormUrlEncodedContent(fields), Cancel);
        var again = await browser.PostAsync("/coverage/drafts", new FormUrlEncodedContent(fields), Cancel);

        posted.StatusCode.Should().Be(HttpStatusCode.Redirect, await posted.Content.ReadAsStringAsync(Cancel));
        posted.Headers.Location!.ToString().Should().StartWith("/review?drafted=");
        var drafts = Workflows.LabelImportUseCase.ReadDrafts(_sample.Folder).Drafts;
        drafts.Count.Should().BeGreaterThan(before);
        drafts.Where(d => d.Draft.Note?.StartsWith("blind spot 1 of", StringComparison.Ordinal) == true).Should().NotBeEmpty().And.OnlyContain(d => d.Draft.Pool == "shadow");
        again.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await again.Content.ReadAsStringAsync(Cancel)).Should().Contain("already drafted");
        (await browser.GetStringAsync(posted.Headers.Location.ToString(), Cancel)).Should().Contain("label them below");
    }

    [Fact]
    public async Task A_judge_disagreement_resolved_in_the_browser_becomes_a_human_label_recal_judge_agreement_reads()
    {
        var server = await _sample.ServerAsync();
        using var browser = Browser(server);
        (await LogInAsync(browser, Harness.Token)).StatusCode.Should().Be(HttpStatusCode.Redirect);

        var page = await browser.GetStringAsync("/review/judges", Cancel);
        page.Should().Contain($"{Sample.JudgedRun}/{_sample.JudgedCase}").And.Contain("split on correctness").And.Contain("wrong topic");
        var form = JudgeForm().Match(page);
        form.Success.Should().BeTrue("a writer sees a verdict form under a waiting disagreement");
        var fields = Hidden().Matches(form.Value).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));

        var bad = await browser.PostAsync("/review/judges", new FormUrlEncodedContent(new Dictionary<string, string>(fields) { ["verdict"] = "maybe" }), Cancel);
        var good = await browser.PostAsync("/review/judges", new FormUrlEncodedContent(new Dictionary<string, string>(fields) { ["verdict"] = "fail", ["note"] = "answers another intent" }), Cancel);
        var twice = await browser.PostAsync("/review/judges", new FormUrlEncodedContent(new Dictionary<string, string>(fields) { ["verdict"] = "pass" }), Cancel);

        bad.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await bad.Content.ReadAsStringAsync(Cancel)).Should().Contain("give pass or fail");
        good.StatusCode.Should().Be(HttpStatusCode.Redirect);
        twice.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await twice.Content.ReadAsStringAsync(Cancel)).Should().Contain("the first verdict stands");
        var labels = Path.Combine(_sample.Folder, Workflows.JudgeReviewUseCase.LabelsFile);
        File.ReadAllLines(labels).Should().ContainSingle().Which.Should().Contain("\"human\":\"fail\"").And.Contain("\"support-judge#1\":\"pass\"").And.Contain("\"support-judge#2\":\"fail\"");
        var agreement = await Harness.RunCliAsync("judge-agreement", labels, "--labels", "pass,fail");
        agreement.Code.Should().Be(0, agreement.Out + agreement.Error);
        agreement.Out.Should().Contain("support-judge#2");
    }

    [Fact]
    public async Task The_page_state_moves_when_traffic_arrives_without_a_restart()
    {
        var server = await _sample.ServerAsync();
        using var reader = Client(server, Harness.ReadToken);
        var before = await reader.GetStringAsync("/api/state", Cancel);

        var export = await server.Client.PostAsync("/v1/traces", Spans.Json(Spans.Traces(9, 0, 3)), Cancel);
        var after = await reader.GetStringAsync("/api/state", Cancel);

        export.StatusCode.Should().Be(HttpStatusCode.OK);
        after.Should().NotBe(before);
        (await reader.GetStringAsync(DashboardPages.ScriptPath, Cancel)).Should().Contain("/api/state");
    }

    private static HttpClient Client(Harness server, string token)
    {
        var client = new HttpClient { BaseAddress = server.Url };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A client that keeps cookies, asks for HTML and follows no redirect: a browser, as the server sees it.</summary>
    private static HttpClient Browser(Harness server)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() }) { BaseAddress = server.Url };
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        return client;
    }

    private static async Task<HttpResponseMessage> LogInAsync(HttpClient browser, string token)
    {
        var form = await browser.GetStringAsync("/login", Cancel);
        var fields = Hidden().Matches(form).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields["token"] = token;
        return await browser.PostAsync("/login", new FormUrlEncodedContent(fields), Cancel);
    }

    private static string Text(string html) => html.Length > 600 ? html[..600] : html;

    [GeneratedRegex("<a href=\"(/mix\\?from=[^\"]+)\" class=\"window\">")]
    private static partial Regex WindowLink();

    [GeneratedRegex("<form class=\"filter\" method=\"post\" action=\"/review/judges\">.*?</form>")]
    private static partial Regex JudgeForm();

    [GeneratedRegex("<form method=\"post\" action=\"/coverage/drafts\">.*?</form>")]
    private static partial Regex DraftForm();

    [GeneratedRegex("<a href=\"(/traces/[^\"]+)\">")]
    private static partial Regex TraceLink();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\">")]
    private static partial Regex Hidden();

    /// <summary>A copy of the sample with its traffic ingested, a trace carrying a script, shadow drafts, and its server.</summary>
    public sealed class Sample : IAsyncLifetime
    {
        private Harness? _server;

        public string Folder { get; } = Path.Combine(Path.GetTempPath(), "recal-dashboard-" + Guid.NewGuid().ToString("N")[..12]);

        public IReadOnlyList<string> DraftIds { get; private set; } = [];

        /// <summary>A finished run whose judges split on one case.</summary>
        public const string JudgedRun = "run-judged-1";

        public string JudgedCase { get; private set; } = string.Empty;

        public async ValueTask InitializeAsync()
        {
            var source = Path.Combine(RepositoryRoot.Path, "samples", "clinc150-support");
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(f => !Path.GetRelativePath(source, f).StartsWith(".recal", StringComparison.Ordinal)))
            {
                var target = Path.Combine(Folder, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            var ingest = await Harness.RunCliAsync("ingest", "-p", Folder, Path.Combine(Folder, "traffic", "traffic.jsonl.gz"));
            Assert.True(ingest.Code == 0, ingest.Error);
            var hostile = Path.Combine(Folder, "hostile.jsonl");
            var line = "{\"id\": \"hostile-1\", \"timestamp\": \"2026-08-20T10:00:00Z\", \"input\": \"what is my balance " + Payload + "\", \"output\": \"fine\", \"metadata\": {\"plan\": \"pro\"}}";
            await File.WriteAllTextAsync(hostile, line + "\n");
            var more = await Harness.RunCliAsync("ingest", "-p", Folder, hostile);
            Assert.True(more.Code == 0, more.Error);
            var sample = await Harness.RunCliAsync("sample", "-p", Folder, "--pool", "shadow", "--size", "6", "--seed", "3");
            Assert.True(sample.Code == 0, sample.Error);
            DraftIds = [.. Workflows.LabelImportUseCase.ReadDrafts(Folder).Drafts.Select(d => d.Draft.Id)];
            await StoreJudgedRunAsync();
            Assert.True(DraftIds.Count >= 2, sample.Out);
        }

        /// <summary>A run of one gold case on which two of three judges are three points apart (marked for human review).</summary>
        private async Task StoreJudgedRunAsync()
        {
            var project = Harness.LoadProject(Folder);
            var evalCase = project.Cases.First(c => c.Pool == Domain.Pool.Gold);
            JudgedCase = evalCase.Id;
            await using var store = await Cli.CliContext.DefaultStores.Resolve(project.Settings.Store).OpenAsync(project.Settings.Store, null, Cancel);
            var started = new DateTimeOffset(2026, 8, 24, 9, 0, 0, TimeSpan.Zero);
            await store.CreateRunAsync(new Running.RunInfo(JudgedRun, project.Settings.Name, "baseline", "{}", ProjectHasher.SuiteVersion(project), Domain.PoolSet.Of([Domain.Pool.Gold]), 1, "support-judge#1,support-judge#2,support-judge#3", started, null, Running.RunStatus.Running), Cancel);
            Running.JudgeVote Vote(string judge, int correctness, string why) => new(judge, new Dictionary<string, int> { ["correctness"] = correctness, ["helpfulness"] = 4 }, why, null, false, false);
            var outcome = new Running.JudgeOutcome("support-answer@v1", new Dictionary<string, double> { ["correctness"] = 4, ["helpfulness"] = 4 }, true, 0, true, ["correctness"],
                [Vote("support-judge#1", 5, "says what the reference says"), Vote("support-judge#2", 2, "wrong topic"), Vote("support-judge#3", 4, "close enough")]);
            await store.AddRunCaseAsync(JudgedRun, new Running.RunCaseRecord(evalCase.Id, evalCase.Intent, string.Empty, null, "gold", "Here is an answer.", null, true, [], outcome, 120, 10, 20, 0.001, 1, false, started.AddMinutes(1)), Cancel);
            await store.FinishRunAsync(JudgedRun, Running.RunStatus.Completed, started.AddMinutes(2), Cancel);
        }

        internal async Task<Harness> ServerAsync() => _server ??= await Harness.StartOnAsync(Folder);

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }

            Harness.Delete(Folder);
        }
    }
}
