using System.Globalization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Recal.Decisions;
using Recal.Domain;
using Recal.Drift;
using Recal.Embeddings;
using Recal.Lifecycle;
using Recal.Project;
using Recal.Reporting.Dashboard;
using Recal.Reporting.Decisions;
using Recal.Reporting.Runs;
using Recal.Running;
using Recal.Storage;
using Recal.Workflows;

namespace Recal.Server.Dashboard;

/// <summary>
/// The dashboard: score and gap on one site, server-rendered from the use cases over the project and its store
/// (docs/serve.md#the-dashboard). Every view needs the read token (or a session opened with one at <c>/login</c>);
/// labelling a draft needs the write token and the form's anti-forgery token.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>Adds the dashboard's services: its cache of computed views and the anti-forgery tokens of its forms.</summary>
    public static IServiceCollection AddDashboard(this IServiceCollection services)
    {
        services.AddSingleton(provider => new DashboardService(provider.GetRequiredService<RecalServerContext>(), provider.GetService<Microsoft.Extensions.Logging.ILogger<DashboardService>>()));
        services.AddHostedService(provider => new DashboardWarmer(provider.GetRequiredService<DashboardService>(), provider.GetService<Microsoft.Extensions.Logging.ILogger<DashboardWarmer>>()));
        services.AddAntiforgery(options =>
        {
            options.FormFieldName = DashboardPages.CsrfField;
            options.Cookie.Name = "recal_csrf";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        return services;
    }

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        var pages = endpoints.MapGroup(string.Empty).Require(Permission.Read, ToLoginAsync).AddEndpointFilter(async (context, next) =>
        {
            SecurityHeaders(context.HttpContext.Response);
            return await next(context).ConfigureAwait(false);
        });

        pages.MapGet("/", Page(HealthAsync));
        pages.MapGet("/timeline", Page(TimelineAsync));
        pages.MapGet("/mix", Page(MixAsync));
        pages.MapGet("/releases", Page(ReleasesAsync));
        pages.MapGet("/coverage", Page(CoverageAsync));
        pages.MapGet("/runs", Page(RunsAsync));
        pages.MapGet("/runs/{id}", Page(RunAsync));
        pages.MapGet("/diff", Page(DiffAsync));
        pages.MapGet("/lifecycle", Page(LifecycleAsync));
        pages.MapGet("/traces", Page(TracesAsync));
        pages.MapGet("/traces/{key}", Page(TraceAsync));
        pages.MapGet("/review", Page(ReviewAsync));
        pages.MapGet("/review/judges", Page(JudgesAsync));
        pages.MapGet("/review/{id}", Page(ReviewDraftAsync));
        Func<HttpContext, Task<IResult>> state = StateAsync;
        pages.MapGet("/api/state", state);

        Func<HttpContext, Task<IResult>> label = LabelAsync;
        endpoints.MapPost("/review/{id}", label).Require(Permission.Write, ToLoginAsync).DisableAntiforgery();
        Func<HttpContext, Task<IResult>> resolve = ResolveAsync;
        endpoints.MapPost("/review/judges", resolve).Require(Permission.Write, ToLoginAsync).DisableAntiforgery();
        Func<HttpContext, Task<IResult>> draft = DraftBlindSpotAsync;
        endpoints.MapPost("/coverage/drafts", draft).Require(Permission.Write, ToLoginAsync).DisableAntiforgery();

        Func<IResult> script = () => Results.Text(DashboardPages.Script, "text/javascript; charset=utf-8");
        endpoints.MapGet(DashboardPages.ScriptPath, script);

        // Browsers ask for an icon on every page: answered with nothing rather than a 404 in their console.
        Func<IResult> icon = Results.NoContent;
        endpoints.MapGet("/favicon.ico", icon);
        return endpoints;
    }

    /// <summary>A browser without a session is sent to the login page; any other client gets the 401 it asked for.</summary>
    private static Task ToLoginAsync(HttpContext http)
    {
        if (http.Request.Method == HttpMethods.Get && http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.Ordinal))
        {
            http.Response.StatusCode = StatusCodes.Status303SeeOther;
            http.Response.Headers.Location = "/login?next=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString);
            return Task.CompletedTask;
        }

        return http.Response.WriteAsync("401: this needs a read token (a write token to label): send Authorization: Bearer <token>, or open /login in a browser (docs/serve.md#tokens)\n");
    }

    /// <summary>What the browser may do with a page: its own scripts only, no frames, forms back to this server.</summary>
    internal static void SecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";
        response.Headers.CacheControl = "no-store";
    }

    private static Func<HttpContext, Task<IResult>> Page(Func<HttpContext, DashboardService, EvalProject, string, Task<string>> render) => async http =>
    {
        var service = http.RequestServices.GetRequiredService<DashboardService>();
        var state = await service.StateAsync(http.RequestAborted).ConfigureAwait(false);
        var (project, problems) = service.Project();
        if (project is null)
        {
            var first = problems.FirstOrDefault();
            return Html(DashboardPages.Problem("The project does not load", http.Request.Path, string.Join("; ", problems.Take(5).Select(p => p.ToString())), first?.Hint ?? "recal validate", state));
        }

        try
        {
            return Html(await render(http, service, project, state).ConfigureAwait(false));
        }
        catch (BadQueryException e)
        {
            return Html(DashboardPages.Problem("That cannot be shown", http.Request.Path, e.Message, e.Next, state), StatusCodes.Status400BadRequest);
        }
    };

    private static IResult Html(string html, int status = StatusCodes.Status200OK) => Results.Content(html, "text/html; charset=utf-8", statusCode: status);

    private static async Task<IResult> StateAsync(HttpContext http)
    {
        var service = http.RequestServices.GetRequiredService<DashboardService>();
        var state = await service.StateAsync(http.RequestAborted).ConfigureAwait(false);

        // ?view=KEY (a page shown stale names its view): whether that view is computed for the state now.
        return http.Request.Query["view"].ToString() is { Length: > 0 } view
            ? Results.Json(new { state, updating = service.Updating, ready = service.IsReady(view, state) })
            : Results.Json(new { state, updating = service.Updating });
    }

    private static async Task<string> HealthAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var (result, stale) = await service.GetAsync(HealthKey, state, heavy: true, Check(service, project), persisted: true).ConfigureAwait(false);
        return Noted(DashboardPages.Health(project.Settings.Name, result, state), stale);
    }

    private static async Task<string> TimelineAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var (report, stale) = await DriftAsync(service, project, state, Over(http), null, null, timeline: true).ConfigureAwait(false);
        return Noted(DashboardPages.Timeline(report, w => $"/mix?from={Day(w.From)}&to={Day(w.To)}", state), stale);
    }

    private static async Task<string> MixAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var (from, to) = Window(http);
        var (report, stale) = await DriftAsync(service, project, state, Period.None, from, to, timeline: false).ConfigureAwait(false);
        return Noted(DashboardPages.Mix(report, state), stale);
    }

    private static async Task<string> ReleasesAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var (report, stale) = await DriftAsync(service, project, state, Period.Week, null, null, timeline: true).ConfigureAwait(false);
        return Noted(DashboardPages.Releases(report, state), stale);
    }

    private static async Task<string> CoverageAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var (from, to) = Window(http);
        var (inner, id, error) = Embedder(service, project);
        if (inner is null)
        {
            return DashboardPages.Problem("No coverage", "/coverage", error ?? "no embedder", "set embeddings: in recal.yaml", state);
        }

        var (outcome, stale) = await service.GetAsync(CoverageKey(from, to), state, heavy: true, Coverage(service, project, from, to), persisted: true).ConfigureAwait(false);
        return Noted(
            outcome.Report is { } report
                ? DashboardPages.Coverage(report, outcome.Map, state, WriteToken(http))
                : DashboardPages.Problem("No coverage", "/coverage", outcome.Problem ?? "nothing to measure", "recal ingest FILE; recal sample", state),
            stale);
    }

    private static async Task<string> RunsAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var runs = await service.Store.QueryRunsAsync(new RunQuery(Limit: 200), http.RequestAborted).ConfigureAwait(false);
        var distributed = service.Store is IRunQueue queue ? await DistributedRuns.OpenStatesAsync(queue, project.Settings.Name, http.RequestAborted).ConfigureAwait(false) : [];
        return DashboardPages.Runs(project.Settings.Name, runs, state, distributed);
    }

    private static async Task<string> RunAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var id = (string)http.Request.RouteValues["id"]!;
        var run = await service.Store.GetRunAsync(id, http.RequestAborted).ConfigureAwait(false) ?? throw new BadQueryException($"there is no run '{id}'", "pick one on the runs view");
        var (html, stale) = await service.GetAsync($"run|{id}", state, heavy: false, async ct =>
        {
            var results = await service.Store.GetRunCasesAsync(run.Id, ct).ConfigureAwait(false);
            var report = await RunReportBuilder.BuildAsync(run, results, project.Policy, service.Store, ct, project.Cases.ToDictionary(c => c.Id, StringComparer.Ordinal)).ConfigureAwait(false);
            report = await Contamination.AttachAsync(report, project, service.Store, ct).ConfigureAwait(false);
            return RunReportWriters.ToHtml(report, project.Policy.Alarms);
        }).ConfigureAwait(false);
        return Noted(DashboardPages.Framed(html, "/runs", state), stale);
    }

    private static async Task<string> DiffAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var (a, b) = (http.Request.Query["a"].ToString(), http.Request.Query["b"].ToString());
        if (a.Length == 0 || b.Length == 0)
        {
            throw new BadQueryException("a diff needs two runs: ?a=BASELINE&b=CANDIDATE", "pick them on the runs view");
        }

        var baseline = await service.Store.GetRunAsync(a, http.RequestAborted).ConfigureAwait(false) ?? throw new BadQueryException($"there is no run '{a}'", "pick one on the runs view");
        var candidate = await service.Store.GetRunAsync(b, http.RequestAborted).ConfigureAwait(false) ?? throw new BadQueryException($"there is no run '{b}'", "pick one on the runs view");
        var ((gate, diff), stale) = await service.GetAsync($"diff|{a}|{b}", state, heavy: false, async ct =>
        {
            var before = await service.Store.GetRunCasesAsync(baseline.Id, ct).ConfigureAwait(false);
            var after = await service.Store.GetRunCasesAsync(candidate.Id, ct).ConfigureAwait(false);
            var signals = await RunReportBuilder.SignalsAsync(project.Policy, service.Store, ct).ConfigureAwait(false);
            var cases = project.Cases.ToDictionary(c => c.Id, StringComparer.Ordinal);
            var diffed = RunDiffBuilder.Build(baseline, before, candidate, after, project.Policy, cases, signals);
            var gated = await GateEvaluator.EvaluateAsync(project, baseline, before, candidate, after, service.Store, DateTimeOffset.UtcNow, ct).ConfigureAwait(false);
            return (GateWriters.ToHtml(gated, explain: true), DiffWriters.ToHtml(diffed));
        }).ConfigureAwait(false);
        return Noted(DashboardPages.Framed(DashboardPages.Joined(gate, diff), "/runs", state), stale);
    }

    private static async Task<string> LifecycleAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var status = await StatusUseCase.RunAsync(new StatusRequest(project, DateTimeOffset.UtcNow), service.Store, http.RequestAborted).ConfigureAwait(false);
        var (changes, _) = Changelog.Read(project.Root);
        return DashboardPages.Lifecycle(project, ProjectHasher.SuiteVersion(project), status, changes, state);
    }

    private static async Task<string> TracesAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var query = http.Request.Query;
        var (from, to) = Window(http);
        string? Text(string name) => query[name].ToString() is { Length: > 0 } value ? value : null;
        double? below = null;
        if (Text("below") is { } written)
        {
            below = double.TryParse(written, NumberStyles.Float, CultureInfo.InvariantCulture, out var b) ? b : throw new BadQueryException($"'{written}' is not a confidence between 0 and 1", "write it as 0.5");
        }

        var search = new TraceSearch(from, to, Text("intent"), Text("cohort"), Text("feedback"), Text("q"), Text("uncertain") is not null, below);
        if (search.Problem is { } problem)
        {
            throw new BadQueryException(problem, "correct the filter");
        }

        var (result, stale) = await service.GetAsync("traces|" + http.Request.QueryString.Value, state, heavy: false, ct => TraceSearchUseCase.RunAsync(search, service.Store, ct)).ConfigureAwait(false);
        return Noted(DashboardPages.Traces(project.Settings.Name, search, result, state), stale);
    }

    private static async Task<string> TraceAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var key = (string)http.Request.RouteValues["key"]!;
        var trace = await service.Store.FindTraceAsync(key, http.RequestAborted).ConfigureAwait(false) ?? throw new BadQueryException($"no stored trace has the key '{key}'", "search for it on the traces view");
        return DashboardPages.Trace(project.Settings.Name, trace, state);
    }

    private static Task<string> ReviewAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var (drafts, _) = LabelImportUseCase.ReadDrafts(project.Root);
        var message = http.Request.Query["labelled"].ToString() is { Length: > 0 } labelled ? $"Draft {labelled} is a case now."
            : http.Request.Query["drafted"].ToString() is { Length: > 0 } drafted ? $"Drafted: {drafted}; label them below."
            : null;
        return Task.FromResult(DashboardPages.Review(project.Settings.Name, [.. drafts.Select(d => d.Draft)], state, message));
    }

    private static Task<string> ReviewDraftAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var id = (string)http.Request.RouteValues["id"]!;
        var draft = LabelImportUseCase.ReadDrafts(project.Root).Drafts.FirstOrDefault(d => d.Draft.Id == id)?.Draft
            ?? throw new BadQueryException($"there is no draft '{id}' (labelled already, or never drawn)", "the review queue lists the drafts waiting");
        return Task.FromResult(ReviewForm(http, project, draft, null, [], null, state));
    }

    private static async Task<string> JudgesAsync(HttpContext http, DashboardService service, EvalProject project, string state)
    {
        var items = await JudgeReviewUseCase.ListAsync(project, service.Store, cancellationToken: http.RequestAborted).ConfigureAwait(false);
        var message = http.Request.Query["resolved"].ToString() is { Length: > 0 } resolved ? $"Recorded the verdict on {resolved}." : null;
        return DashboardPages.Disagreements(project.Settings.Name, items, state, WriteToken(http), message);
    }

    /// <summary>POST /review/judges: a human verdict on one disagreement, appended to the judging labels under the workspace's lock.</summary>
    private static async Task<IResult> ResolveAsync(HttpContext http)
    {
        SecurityHeaders(http.Response);
        if (!await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Results.Text("400: the form's anti-forgery token is missing or wrong: open the disagreements again and resend it\n", statusCode: StatusCodes.Status400BadRequest);
        }

        var service = http.RequestServices.GetRequiredService<DashboardService>();
        var form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        var state = await service.StateAsync(http.RequestAborted).ConfigureAwait(false);
        var (project, _) = service.Project();
        var id = form["id"].ToString();
        var item = project is null ? null : (await JudgeReviewUseCase.ListAsync(project, service.Store, cancellationToken: http.RequestAborted).ConfigureAwait(false)).FirstOrDefault(i => i.Id == id);
        if (project is null || item is null)
        {
            return Html(DashboardPages.Problem("Not recorded", "/review", $"no disagreement '{id}' in the recent runs", "open the disagreements again", state), StatusCodes.Status404NotFound);
        }

        string? problem;
        try
        {
            using var workspace = ProjectWorkspace.Open(project.Root, "judge verdict in recal serve");
            problem = JudgeReviewUseCase.Resolve(item, form["verdict"].ToString(), form["note"].ToString(), workspace, DateTimeOffset.UtcNow);
        }
        catch (WorkspaceException e)
        {
            problem = $"{e.Diagnostic.Message}: nothing was recorded; send it again in a moment";
        }

        return problem is null
            ? Results.Redirect("/review/judges?resolved=" + Uri.EscapeDataString(id))
            : Html(DashboardPages.Disagreements(project.Settings.Name, await JudgeReviewUseCase.ListAsync(project, service.Store, cancellationToken: http.RequestAborted).ConfigureAwait(false), state, WriteToken(http), problem), StatusCodes.Status409Conflict);
    }

    /// <summary>The anti-forgery token for a page's forms when the request may write; null for a reader (no forms then).</summary>
    private static string? WriteToken(HttpContext http) =>
        http.RequestServices.GetRequiredService<Access>().Allows(http.Request, Permission.Write) ? http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http).RequestToken : null;

    /// <summary>POST /coverage/drafts: drafts spread over one blind spot of the current window, written for the review queue.</summary>
    private static async Task<IResult> DraftBlindSpotAsync(HttpContext http)
    {
        SecurityHeaders(http.Response);
        if (!await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Results.Text("400: the form's anti-forgery token is missing or wrong: open the coverage view again and resend it\n", statusCode: StatusCodes.Status400BadRequest);
        }

        var service = http.RequestServices.GetRequiredService<DashboardService>();
        var form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        var state = await service.StateAsync(http.RequestAborted).ConfigureAwait(false);
        var (project, _) = service.Project();
        // The window the page measured, so the blind spot's number means the cluster the reviewer saw.
        static DateTimeOffset? When(string text) => DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var when) ? when : null;
        var window = new CoverageRequest(When(form["from"].ToString()), When(form["to"].ToString()));
        if (project is null || !int.TryParse(form["spot"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var spot))
        {
            return Html(DashboardPages.Problem("No drafts", "/coverage", project is null ? "the project does not load" : "the form names no blind spot", "open the coverage view again", state), StatusCodes.Status400BadRequest);
        }

        BlindSpotDraftResult result;
        try
        {
            using var workspace = ProjectWorkspace.Open(project.Root, "drafts from a blind spot in recal serve");
            result = await BlindSpotDraftUseCase.RunAsync(new BlindSpotDraftRequest(project, window, spot, Embedder(service, project)), service.Store, workspace, http.RequestAborted).ConfigureAwait(false);
        }
        catch (WorkspaceException e)
        {
            result = new BlindSpotDraftResult(0, null, $"{e.Diagnostic.Message}: nothing was drafted; send it again in a moment");
        }

        return result.Problem is { } problem
            ? Html(DashboardPages.Problem("No drafts", "/coverage", problem, "the review queue lists the drafts waiting", state), StatusCodes.Status409Conflict)
            : Results.Redirect("/review?drafted=" + Uri.EscapeDataString($"{result.Drafted} draft(s) from blind spot {spot} ({result.File})"));
    }

    private static string ReviewForm(HttpContext http, EvalProject project, Draft draft, ReviewLabel? values, IReadOnlyList<Diagnostics.Diagnostic> problems, string? message, string state)
    {
        var csrf = WriteToken(http);
        var intents = project.Taxonomy.Intents.Select(i => i.Name).Append(Taxonomy.UnknownIntent).Where(i => i != Taxonomy.UnknownIntent || draft.Intent == Taxonomy.UnknownIntent).ToList();
        return DashboardPages.ReviewDraft(project.Settings.Name, draft, ReviewUseCase.VersionOf(draft), intents, values, problems, message, state, csrf);
    }

    /// <summary>POST /review/{id}: the form's labels, checked against forgery, then imported under the workspace's lock.</summary>
    private static async Task<IResult> LabelAsync(HttpContext http)
    {
        SecurityHeaders(http.Response);
        var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
        if (!await antiforgery.IsRequestValidAsync(http).ConfigureAwait(false))
        {
            return Results.Text("400: the form's anti-forgery token is missing or wrong: open the form again and resend it\n", statusCode: StatusCodes.Status400BadRequest);
        }

        var service = http.RequestServices.GetRequiredService<DashboardService>();
        var id = (string)http.Request.RouteValues["id"]!;
        var form = await http.Request.ReadFormAsync(http.RequestAborted).ConfigureAwait(false);
        string? Field(string name) => form[name].ToString() is { Length: > 0 } value ? value : null;
        var label = new ReviewLabel(id, Field("version") ?? string.Empty, Field("intent"), Field("reference_high"), Field("reference_borderline"), Field("contains"), Field("difficulty"), Field("valid_until"));
        var root = service.Context.ProjectRoot ?? throw new InvalidOperationException("no project folder");

        ReviewResult result;
        try
        {
            using var workspace = ProjectWorkspace.Open(root, "review in recal serve");
            result = ReviewUseCase.Label(label, workspace, DateTimeOffset.UtcNow);
        }
        catch (WorkspaceException e)
        {
            result = new ReviewResult(ReviewOutcome.Conflict, [e.Diagnostic], null, "the project is being changed by another command: nothing was saved; send the form again in a moment");
        }

        if (result.Outcome == ReviewOutcome.Labelled)
        {
            return Results.Redirect("/review?labelled=" + Uri.EscapeDataString(id), permanent: false);
        }

        var state = await service.StateAsync(http.RequestAborted).ConfigureAwait(false);
        var (project, _) = service.Project();
        var draft = project is null ? null : LabelImportUseCase.ReadDrafts(project.Root).Drafts.FirstOrDefault(d => d.Draft.Id == id)?.Draft;
        if (project is null || draft is null)
        {
            return Html(DashboardPages.Problem("Not saved", "/review", result.Message ?? "the draft is gone", "the review queue lists the drafts waiting", state), StatusCodes.Status409Conflict);
        }

        var status = result.Outcome == ReviewOutcome.Conflict ? StatusCodes.Status409Conflict : StatusCodes.Status422UnprocessableEntity;
        return Html(ReviewForm(http, project, draft, label with { Version = ReviewUseCase.VersionOf(draft) }, result.Diagnostics, result.Message, state), status);
    }

    /// <summary>The views computed ahead of a request when the store's state changes (<see cref="DashboardWarmer"/>): health, the timeline (and releases), the current mix, coverage.</summary>
    internal static async Task WarmAsync(DashboardService service, EvalProject project, string state)
    {
        await service.RefreshAsync(HealthKey, state, heavy: true, Check(service, project), persisted: true).ConfigureAwait(false);
        await service.RefreshAsync(DriftKey(Period.Week, null, null, timeline: true), state, heavy: true, Drift(service, project, Period.Week, null, null, timeline: true), persisted: true).ConfigureAwait(false);
        await service.RefreshAsync(DriftKey(Period.None, null, null, timeline: false), state, heavy: true, Drift(service, project, Period.None, null, null, timeline: false), persisted: true).ConfigureAwait(false);
        if (Embedder(service, project).Generator is not null)
        {
            await service.RefreshAsync(CoverageKey(null, null), state, heavy: true, Coverage(service, project, null, null), persisted: true).ConfigureAwait(false);
        }
    }

    /// <summary>Reads back the views computed ahead that an earlier server kept over this store (<see cref="PersistedViews"/>).</summary>
    internal static async Task LoadKeptAsync(DashboardService service, CancellationToken cancellationToken)
    {
        await service.LoadKeptAsync<CheckResult>(HealthKey, cancellationToken).ConfigureAwait(false);
        await service.LoadKeptAsync<DriftOutcome>(DriftKey(Period.Week, null, null, timeline: true), cancellationToken).ConfigureAwait(false);
        await service.LoadKeptAsync<DriftOutcome>(DriftKey(Period.None, null, null, timeline: false), cancellationToken).ConfigureAwait(false);
        await service.LoadKeptAsync<CoverageOutcome>(CoverageKey(null, null), cancellationToken).ConfigureAwait(false);
    }

    internal const string HealthKey = "health";

    internal static string CoverageKey(DateTimeOffset? from, DateTimeOffset? to) => $"coverage|{from:O}|{to:O}";

    internal static string DriftKey(Period over, DateTimeOffset? from, DateTimeOffset? to, bool timeline) => $"drift|{over}|{from:O}|{to:O}|{timeline}";

    /// <summary>A page of a view shown from an earlier state, with the note that says so.</summary>
    private static string Noted(string html, Staleness? stale) =>
        stale is null ? html : DashboardPages.Stale(html, stale.At, stale.TracesSince, stale.Updating ? stale.Key : null);

    private static Func<CancellationToken, Task<CheckResult>> Check(DashboardService service, EvalProject project) =>
        ct => CheckUseCase.RunAsync(new CheckRequest(project, DateTimeOffset.UtcNow, Embedder(service, project)), service.Store, ct);

    private static Func<CancellationToken, Task<CoverageOutcome>> Coverage(DashboardService service, EvalProject project, DateTimeOffset? from, DateTimeOffset? to) => async ct =>
    {
        var (inner, id, _) = Embedder(service, project);
        using var cached = new CachedEmbeddingGenerator(inner!, service.Store, id!);
        try
        {
            var outcome = await CoverageAnalyzer.AnalyzeAsync(project, ProjectHasher.SuiteVersion(project), service.Store, cached, id!, new CoverageRequest(from, to, Map: true), ct).ConfigureAwait(false);

            // The page shows the report and the map; the blind spots' members (their vectors) are for a draw, which makes its own.
            return outcome with { BlindSpots = null };
        }
        catch (TargetCallException e)
        {
            return new CoverageOutcome(null, $"the embedding endpoint failed: {e.Message}");
        }
    };

    private static Func<CancellationToken, Task<DriftOutcome>> Drift(DashboardService service, EvalProject project, Period over, DateTimeOffset? from, DateTimeOffset? to, bool timeline) =>
        ct => DriftUseCase.RunAsync(new DriftUseCaseRequest(project, new DriftRequest(from, to, over), timeline ? Embedder(service, project) : null), service.Store, ct);

    private static async Task<(DriftReport Report, Staleness? Stale)> DriftAsync(DashboardService service, EvalProject project, string state, Period over, DateTimeOffset? from, DateTimeOffset? to, bool timeline)
    {
        // Kept like the views computed ahead (the timeline of weeks, the current mix): a window once opened is not computed on request again after a restart.
        var (outcome, stale) = await service.GetAsync(DriftKey(over, from, to, timeline), state, heavy: true, Drift(service, project, over, from, to, timeline), persisted: true).ConfigureAwait(false);
        return outcome.Report is { } report
            ? (report, stale)
            : throw new BadQueryException(outcome.Error ?? "no drift report", outcome.Failure == DriftFailure.NoTraffic ? "send traces to /v1/traces, or recal ingest FILE" : "set embeddings: in recal.yaml");
    }

    private static (IEmbeddingGenerator<string, Embedding<float>>? Generator, string? Id, string? Error) Embedder(DashboardService service, EvalProject project) =>
        service.Context.Embedder?.Invoke(project) ?? (null, null, "the server was started without an embedder: coverage is unknown");

    private static Period Over(HttpContext http) => http.Request.Query["over"].ToString() switch
    {
        "" or "weekly" => Period.Week,
        "daily" => Period.Day,
        "monthly" => Period.Month,
        var other => throw new BadQueryException($"'{other}' is not a period", "daily, weekly or monthly"),
    };

    private static (DateTimeOffset? From, DateTimeOffset? To) Window(HttpContext http)
    {
        DateTimeOffset? Read(string name)
        {
            var text = http.Request.Query[name].ToString();
            if (text.Length == 0)
            {
                return null;
            }

            return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var when)
                ? when
                : throw new BadQueryException($"'{text}' is not a date", "write it as yyyy-mm-dd");
        }

        var (from, to) = (Read("from"), Read("to"));
        return from >= to ? throw new BadQueryException("the window's start is not before its end", "pick a start before the end") : (from, to);
    }

    private static string Day(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>A query the dashboard cannot answer, said to the user with what would work.</summary>
    private sealed class BadQueryException(string message, string next) : Exception(message)
    {
        public string Next { get; } = next;
    }
}
