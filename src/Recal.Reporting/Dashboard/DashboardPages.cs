using System.Globalization;
using System.Net;
using Recal.Domain;
using Recal.Drift;
using Recal.Gates;
using Recal.Lifecycle;
using Recal.Reporting.Html;
using Recal.Reporting.Runs;
using Recal.Running;
using Recal.Storage;
using Recal.Workflows;

namespace Recal.Reporting.Dashboard;

/// <summary>One view of the dashboard: its path and the name its link shows.</summary>
public sealed record DashboardView(string Path, string Label);

/// <summary>
/// The pages of <c>recal serve</c>'s dashboard, rendered on the server from the use cases' results: score and gap on
/// one site, every view one link from every other. Each page is whole (inline style and charts) and loads one script of
/// the server's, which reloads it when new traffic or a new run arrives. All text from traces, cases and the project is
/// HTML-encoded.
/// </summary>
public static class DashboardPages
{
    /// <summary>The script each page loads (<see cref="Script"/>).</summary>
    public const string ScriptPath = "/assets/dashboard.js";

    /// <summary>The views, in the order the navigation lists them.</summary>
    public static IReadOnlyList<DashboardView> Views { get; } =
    [
        new("/", "Health"),
        new("/timeline", "Gap timeline"),
        new("/mix", "Strata mix"),
        new("/coverage", "Coverage"),
        new("/runs", "Runs and diffs"),
        new("/releases", "Offline vs online"),
        new("/lifecycle", "Lifecycle"),
        new("/traces", "Traces"),
        new("/review", "Review queue"),
    ];

    /// <summary>The form field that carries the anti-forgery token of a write.</summary>
    public const string CsrfField = "__csrf";

    /// <summary>
    /// The script behind <see cref="ScriptPath"/>: it asks <c>/api/state</c> every few seconds and reloads the page
    /// when the store has changed (new traffic, a new run), or when the page showed a view of an earlier state that is
    /// computed for the current one now (<see cref="Stale"/>), unless a form on the page is being filled in or the page is
    /// being left.
    /// </summary>
    public const string Script = """
        (function () {
          var meta = document.querySelector('meta[name="recal-state"]');
          if (!meta) { return; }
          var seen = meta.getAttribute('content');
          var view = document.querySelector('meta[name="recal-view"]');
          var ask = '/api/state' + (view ? '?view=' + encodeURIComponent(view.getAttribute('content')) : '');
          var editing = false;
          var leaving = false;
          document.addEventListener('input', function () { editing = true; });
          // A page being left (a link followed, a form sent) is not reloaded under the reader: the reload would cancel that navigation.
          window.addEventListener('beforeunload', function () { leaving = true; });
          window.addEventListener('pageshow', function () { leaving = false; });
          setInterval(function () {
            if (editing || leaving || document.hidden) { return; }
            fetch(ask, { credentials: 'same-origin', cache: 'no-store' })
              .then(function (r) { return r.ok ? r.json() : null; })
              .then(function (s) { if (s && (s.state !== seen || s.ready === true)) { location.reload(); } })
              .catch(function () { });
          }, 5000);
        })();
        """;

    /// <summary>1. Health: every instrument's verdict with its evidence and the next action.</summary>
    public static string Health(string project, CheckResult result, string state)
    {
        ArgumentNullException.ThrowIfNull(result);
        var page = Page($"Health — {project}", "/", state);
        page.Heading(1, $"Health — {project}");
        var drifting = result.Findings.Count(f => f.Verdict == Verdict.Drifting);
        var unknown = result.Findings.Count(f => f.Verdict == Verdict.Unknown);
        page.Paragraph(
            drifting > 0 ? $"{drifting} instrument(s) drifting: the score is not to be read without these gaps."
            : unknown > 0 ? $"No instrument drifts; {unknown} have nothing to measure yet."
            : "Every instrument is healthy: the set still measures today's traffic.",
            drifting > 0 ? "alarm" : unknown > 0 ? "info" : "ok");
        if (result.Run is { } run)
        {
            page.Paragraph($"Score side read from the newest run {run.Id} (target {run.Target}, suite {run.SuiteVersion}).", "meta");
        }

        // One box per instrument, coloured by its verdict, with the next step under a finding.
        foreach (var finding in result.Findings)
        {
            var css = finding.Verdict switch { Verdict.Drifting => "alarm", Verdict.Healthy => "ok", _ => "info" };
            var next = finding.Verdict == Verdict.Healthy || finding.Next is null ? string.Empty : $"<br><span class=\"meta\">next: <code>{E(finding.Next)}</code></span>";
            page.Raw($"<div class=\"{css}\" data-verdict=\"{finding.Verdict.ToString().ToLowerInvariant()}\"><strong>{E(finding.Instrument)}</strong> · {finding.Verdict.ToString().ToLowerInvariant()}: {E(finding.Evidence)}{next}</div>");
        }

        return page.Render();
    }

    /// <summary>2. The gap timeline: the series per period with its alarm lines, and the runs' scores and gaps; each period opens its window.</summary>
    public static string Timeline(DriftReport report, Func<DriftWindow, string> windowLink, string state)
    {
        ArgumentNullException.ThrowIfNull(report);
        var page = Page($"Gap timeline — {report.Project}", "/timeline", state);
        DriftHtmlWriter.Compose(page, report, DriftSections.Alarms | DriftSections.Series | DriftSections.Runs, windowLink, $"Gap timeline — {report.Project}");
        if (report.Series.Count > 0)
        {
            page.Paragraph("Click a period in a chart, or its date in the table, to see that window's strata mix.", "meta");
        }
        else
        {
            page.Paragraph("No period series: the policy names no period, or the store holds one period of traffic.", "info");
        }

        return page.Render();
    }

    /// <summary>3. The strata mix of one window: traffic share against eval share per intent and cohort, missing, under- and over-represented.</summary>
    public static string Mix(DriftReport report, string state)
    {
        ArgumentNullException.ThrowIfNull(report);
        var page = Page($"Strata mix — {report.Project}", "/mix", state);
        WindowForm(page, "/mix", report.Current.From, report.Current.To);
        DriftHtmlWriter.Compose(page, report, DriftSections.Alarms | DriftSections.Window, heading: $"Strata mix, {Day(report.Current.From)} to {Day(report.Current.To)} — {report.Project}");
        return page.Render();
    }

    /// <summary>6. Offline vs online by release.</summary>
    public static string Releases(DriftReport report, string state)
    {
        ArgumentNullException.ThrowIfNull(report);
        var page = Page($"Offline vs online — {report.Project}", "/releases", state);
        DriftHtmlWriter.Compose(page, report, DriftSections.Releases, heading: $"Offline vs online by release — {report.Project}");
        if (report.Releases is null)
        {
            page.Paragraph("No comparison yet: it needs runs of at least two releases and traces that name the release that answered them (metadata release, or the model).", "info");
        }

        return page.Render();
    }

    /// <summary>4. Coverage and blind spots: per stratum, the uncovered traffic's clusters with size, growth and representative traces, and a map.</summary>
    /// <param name="csrf">The anti-forgery token for the "draft cases" forms; null for a reader who may not write (no forms).</param>
    public static string Coverage(CoverageReport report, CoverageMapModel? map, string state, string? csrf = null)
    {
        ArgumentNullException.ThrowIfNull(report);
        var page = Page($"Coverage — {report.Project}", "/coverage", state);
        page.Heading(1, $"Coverage and blind spots — {report.Project}");
        var overall = report.Overall;
        page.Paragraph(
            $"{Percent(overall.Share)} ({Percent(overall.Lower)} to {Percent(overall.Upper)}) of {Day(report.From)} to {Day(report.To)} ({report.Traces:N0} traces, {overall.Measured:N0} measured) " +
            $"has an eval case within r = {report.Radius.Radius:0.000} ({report.Embedder}); {report.EvalCases:N0} cases in {string.Join(", ", report.Pools)}.",
            "meta");
        if (map is not null)
        {
            page.Figure(new CoverageMap(map).Render(), "Traffic (grey: covered, red: uncovered) and eval cases (blue) on the two directions along which the measured vectors vary most (principal components); hover a point for its text. Distances on the map are a projection: coverage is measured in the full space.");
        }

        if (report.BlindSpots is { Spots.Count: > 0 } spots)
        {
            page.Heading(2, $"Blind spots ({spots.Spots.Count} of {spots.K} clusters of {spots.Uncovered:N0} uncovered traces)");
            for (var number = 1; number <= spots.Spots.Count; number++)
            {
                var spot = spots.Spots[number - 1];
                page.Heading(3, $"Blind spot {number}: {Percent(spot.TrafficShare)} of traffic, {spot.Traces:N0} traces" + (spot.Growth is { } g ? $", ×{g:0.0} growth from the window's first half to its second" : spot.FirstHalfShare == 0 ? ", new in the window's second half" : string.Empty));
                page.Paragraph(
                    $"Distinctive words: {string.Join(", ", spot.Terms.Take(8).Select(t => t.Term))} · strata: {string.Join(", ", spot.Strata.Take(4).Select(s => $"{s.Stratum} {Percent(s.Share)}"))} · median similarity to its nearest case {spot.MedianNearestCaseSimilarity:0.000}",
                    "meta");
                page.Table(
                    ["trace", "stratum", "when", "text", "nearest case"],
                    spot.Examples.Select(e => (IReadOnlyList<string>)[e.TraceId ?? e.Key, e.Stratum, Day(e.Timestamp), e.Text, e.NearestCaseSimilarity.ToString("0.000", CultureInfo.InvariantCulture)]),
                    rowLink: i => TraceLink(spot.Examples[i].Key));
                if (csrf is not null)
                {
                    page.Raw($"<form method=\"post\" action=\"/coverage/drafts\">{Csrf(csrf)}<input type=\"hidden\" name=\"spot\" value=\"{number}\"><input type=\"hidden\" name=\"from\" value=\"{report.From.ToString("O", CultureInfo.InvariantCulture)}\"><input type=\"hidden\" name=\"to\" value=\"{report.To.ToString("O", CultureInfo.InvariantCulture)}\"><button type=\"submit\">Draft {BlindSpotDraftRequest.DefaultSize} cases from this cluster</button></form>");
                }
            }
        }
        else if (report.BlindSpots is not null)
        {
            page.Paragraph("No blind spot: the uncovered traffic forms no cluster large enough to list.", "ok");
        }

        page.Heading(2, "Per stratum, worst covered first");
        page.Paragraph($"Marked: strata with at least {Percent(CheckUseCase.BlindSpotShare)} of traffic and less than {Percent(CheckUseCase.BlindSpotCoverage)} covered, as recal check counts them.", "meta");
        page.Table(
            ["stratum", "traffic", "traffic share", "eval cases", "measured", "covered", "95% interval", "median similarity"],
            report.Strata.Select(s => (IReadOnlyList<string>)
            [
                s.Stratum,
                s.TrafficCount.ToString("N0", CultureInfo.InvariantCulture),
                Percent(s.TrafficShare),
                s.EvalCases.ToString("N0", CultureInfo.InvariantCulture),
                s.Measured.ToString("N0", CultureInfo.InvariantCulture),
                Percent(s.CoveredShare),
                $"{Percent(s.Lower)} to {Percent(s.Upper)}",
                s.MedianSimilarity.ToString("0.000", CultureInfo.InvariantCulture),
            ]),
            i => report.Strata[i].TrafficShare >= CheckUseCase.BlindSpotShare && report.Strata[i].CoveredShare < CheckUseCase.BlindSpotCoverage ? "alarmed" : null);
        return page.Render();
    }

    /// <summary>5. The stored runs, newest first, each opening its report, and two picked to diff side by side.</summary>
    /// <param name="distributed">Distributed runs still running, shown first with their queue and workers (docs/running.md).</param>
    public static string Runs(string project, IReadOnlyList<RunInfo> runs, string state, IReadOnlyList<DistributedRunState>? distributed = null)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var page = Page($"Runs — {project}", "/runs", state);
        page.Heading(1, $"Runs and diffs — {project}");
        foreach (var progress in distributed ?? [])
        {
            page.Heading(2, $"In progress: {progress.Run.Id}");
            page.Paragraph(DistributedRunText.Describe(progress), "info");
            page.Raw($"<ul>{string.Concat(DistributedRunText.Workers(progress).Select(l => $"<li>{E(l.Trim())}</li>"))}</ul>");
        }

        if (runs.Count == 0)
        {
            page.Paragraph("No run stored yet: recal run --target NAME --pool gold shadow holdout.", "info");
            return page.Render();
        }

        var options = string.Concat(runs.Select(r => $"<option value=\"{E(r.Id)}\">{E($"{r.Id} · {r.Target} · {Day(r.Started)}")}</option>"));
        page.Raw(
            $"<form class=\"filter\" method=\"get\" action=\"/diff\"><label>baseline<select name=\"a\">{options}</select></label>" +
            $"<label>candidate<select name=\"b\">{options}</select></label><button type=\"submit\">Diff, with the gate</button></form>");
        page.Table(
            ["run", "target", "suite", "pools", "cases", "status", "started", "finished"],
            runs.Select(r => (IReadOnlyList<string>)
            [
                r.Id,
                r.Target,
                r.SuiteVersion,
                string.Join(", ", r.Pools.Names),
                r.Total.ToString("N0", CultureInfo.InvariantCulture),
                r.Status.ToString().ToLowerInvariant(),
                r.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                r.Finished?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "—",
            ]),
            rowLink: i => "/runs/" + Uri.EscapeDataString(runs[i].Id));
        return page.Render();
    }

    /// <summary>7. The lifecycle: pools per stratum, what is due, the holdout's seal, suite versions and their changes.</summary>
    public static string Lifecycle(EvalProject project, string suiteVersion, StatusResult status, IReadOnlyList<ChangeEntry> changes, string state)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(changes);
        var name = project.Settings.Name;
        var policy = project.Policy;
        var page = Page($"Lifecycle — {name}", "/lifecycle", state);
        page.Heading(1, $"Lifecycle — {name}");
        page.Paragraph($"Suite {suiteVersion} · policy v{policy.Version} · gold {status.Gold:N0} of a policy size of {policy.Size:N0}; shadow {status.Shadow:N0}; holdout {status.Holdout:N0}{(project.Seal is null ? string.Empty : " (sealed)")}; retired {status.Retired:N0}; {status.Drafts:N0} draft(s) waiting for labels.", "meta");

        void Due(string what, DueTask task)
        {
            if (task.Last is not { } done)
            {
                page.Paragraph($"{what}: never; due now (every {task.Cadence.TotalDays:0} days).", "warn");
                return;
            }

            page.Paragraph(
                $"{what}: last {Day(done)}, next {Day(task.Next!.Value)}{(task.Overdue ? $" — overdue by {task.OverdueBy.TotalDays:0} days" : string.Empty)}.",
                task.Overdue ? "alarm" : "ok");
        }

        Due("Shadow refresh", status.Clock.Refresh);
        Due("Rotation", status.Clock.Rotation);
        if (project.Seal is { } seal)
        {
            page.Paragraph($"Holdout sealed {seal.Sealed:yyyy-MM-dd} until {seal.SealedUntil:yyyy-MM-dd}{(seal.SealedUntil <= status.Clock.Now ? " — due to be opened at rotation" : string.Empty)}.", seal.SealedUntil <= status.Clock.Now ? "warn" : "info");
        }
        else
        {
            page.Paragraph("The holdout is not sealed: recal holdout seal keeps it out of sight until the next rotation.", "info");
        }

        if (status.Expired > 0)
        {
            page.Paragraph($"{status.Expired:N0} gold case(s) are past valid_until: recal retire --dry-run lists them.", "warn");
        }

        if (status.Thin > 0)
        {
            page.Paragraph($"{status.Thin:N0} stratum/strata hold fewer gold cases than the floor of {policy.Strata.Floor}.", "warn");
        }

        if (status.Contamination is { } exposure)
        {
            page.Paragraph($"Contamination: {Reporting.Runs.RunReportTables.ContaminationLine(exposure)}.", "info");
        }

        page.Heading(2, "Pools per stratum");
        page.Table(
            ["stratum", "gold", "shadow", "holdout", "retired", "drafts"],
            status.Strata.Select(s => (IReadOnlyList<string>)[s.Stratum, N(s.Gold), N(s.Shadow), N(s.Holdout), N(s.Retired), N(s.Drafts)]),
            i => status.Strata[i].Gold is > 0 and var n && n < policy.Strata.Floor ? "alarmed" : null);

        page.Heading(2, "Suite versions and their changes");
        if (changes.Count == 0)
        {
            page.Paragraph("No change recorded yet: label import, holdout seal and unseal, retire, promote and rotate write them.", "info");
        }
        else
        {
            page.Table(
                ["when (UTC)", "command", "rule", "policy", "suite", "cases moved", "what"],
                changes.Reverse().Select(c => (IReadOnlyList<string>)
                [
                    c.At.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                    c.Command,
                    c.Rule,
                    $"v{c.PolicyVersion}",
                    $"{c.SuiteBefore} → {c.SuiteAfter}",
                    N(c.Moves.Count),
                    c.Summary,
                ]));
        }

        return page.Render();
    }

    /// <summary>8. Traces: the filter's form and the matching traces, newest first.</summary>
    public static string Traces(string project, TraceSearch search, TraceSearchResult result, string state)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(result);
        var page = Page($"Traces — {project}", "/traces", state);
        page.Heading(1, $"Traces — {project}");
        page.Raw(
            "<form class=\"filter\" method=\"get\" action=\"/traces\">" +
            $"<label>from<input type=\"date\" name=\"from\" value=\"{E(search.From is { } f ? Day(f) : string.Empty)}\"></label>" +
            $"<label>to<input type=\"date\" name=\"to\" value=\"{E(search.To is { } t ? Day(t) : string.Empty)}\"></label>" +
            $"<label>intent<input name=\"intent\" value=\"{E(search.Intent ?? string.Empty)}\"></label>" +
            $"<label>cohort<input name=\"cohort\" placeholder=\"plan=pro\" value=\"{E(search.Cohort ?? string.Empty)}\"></label>" +
            $"<label>feedback<select name=\"feedback\">{Options(search.Feedback, ["", "up", "down", "escalated", "none"])}</select></label>" +
            $"<label>text<input name=\"q\" value=\"{E(search.Text ?? string.Empty)}\"></label>" +
            $"<label><span><input type=\"checkbox\" name=\"uncertain\" value=\"1\"{(search.Uncertain ? " checked" : string.Empty)}> unknown or low confidence</span></label>" +
            "<button type=\"submit\">Filter</button></form>");
        page.Paragraph(
            $"{result.Matched:N0} trace(s) match of {result.Scanned:N0} in the window from {Day(result.From)} to {(result.To is { } end ? Day(end) : "the newest trace")}{(result.Matched > result.Traces.Count ? $"; the newest {result.Traces.Count:N0} shown" : string.Empty)}.",
            "meta");
        page.Table(
            ["trace", "when", "intent", "confidence", "cohort", "feedback", "input"],
            result.Traces.Select(t => (IReadOnlyList<string>)
            [
                t.Trace.Id ?? t.Key,
                t.Trace.Timestamp.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture),
                t.Intent,
                t.Confidence.ToString("0.00", CultureInfo.InvariantCulture),
                t.CohortKey,
                FeedbackText(t.Trace.Feedback),
                Shorten(t.Trace.Input.ClassificationText, 160),
            ]),
            rowLink: i => TraceLink(result.Traces[i].Key));
        return page.Render();
    }

    /// <summary>One trace in full: its input (each message), output, classification, cohort, feedback and metadata.</summary>
    public static string Trace(string project, ClassifiedTrace trace, string state)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var t = trace.Trace;
        var page = Page($"Trace {t.Id ?? trace.Key} — {project}", "/traces", state);
        page.Heading(1, $"Trace {t.Id ?? trace.Key}");
        page.Paragraph($"{t.Timestamp.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC · intent {trace.Intent} ({trace.IntentSource.ToString().ToLowerInvariant()}, confidence {trace.Confidence:0.00}) · cohort {(trace.CohortKey.Length == 0 ? "—" : trace.CohortKey)} · model {t.Model ?? "—"} · feedback {FeedbackText(t.Feedback)}", "meta");
        page.Heading(2, "Input");
        if (t.Input.Messages is { } messages)
        {
            foreach (var message in messages)
            {
                page.Raw($"<p class=\"meta\">{E(message.Role)}</p><pre class=\"text\">{E(message.Content)}</pre>");
            }
        }
        else
        {
            page.Raw($"<pre class=\"text\">{E(t.Input.Text ?? string.Empty)}</pre>");
        }

        page.Heading(2, "Output");
        page.Raw($"<pre class=\"text\">{E(t.Output ?? "(none stored)")}</pre>");
        if (t.Metadata.Count > 0)
        {
            page.Heading(2, "Metadata");
            page.Table(["field", "value"], t.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => (IReadOnlyList<string>)[m.Key, m.Value]));
        }

        page.Raw($"<p class=\"meta\">Store key {E(trace.Key)}</p>");
        return page.Render();
    }

    /// <summary>The review queue: the drafts waiting for labels, each opening its form.</summary>
    public static string Review(string project, IReadOnlyList<Draft> drafts, string state, string? message = null)
    {
        ArgumentNullException.ThrowIfNull(drafts);
        var page = Page($"Review queue — {project}", "/review", state);
        page.Heading(1, $"Review queue — {project}");
        if (message is not null)
        {
            page.Paragraph(message, "ok");
        }

        page.Raw("<p class=\"meta\"><a href=\"/review/judges\">The judges' disagreements</a> wait for human verdicts there.</p>");
        if (drafts.Count == 0)
        {
            page.Paragraph("No draft waits for labels: draw some with recal sample, or from a blind spot on the coverage view.", "info");
            return page.Render();
        }

        page.Paragraph($"{drafts.Count:N0} draft(s) wait for a reference answer. A labelled draft becomes a case of its pool, validated as recal label import validates a file.", "meta");
        page.Table(
            ["draft", "pool", "intent", "confidence", "drawn from", "input"],
            drafts.Select(d => (IReadOnlyList<string>)[d.Id, d.Pool, d.Intent, d.Confidence.ToString("0.00", CultureInfo.InvariantCulture), d.Note ?? d.Stratum, Shorten(Labelling.InputText(d), 160)]),
            rowLink: i => "/review/" + Uri.EscapeDataString(drafts[i].Id));
        return page.Render();
    }

    /// <summary>
    /// The judges' disagreements: each case of a recent run the ensemble marked for human review, its input, the
    /// target's answer, every judge's scores, verdict and reasons, and a form for the human verdict.
    /// </summary>
    /// <param name="csrf">The anti-forgery token; null for a reader who may not write (no forms).</param>
    public static string Disagreements(string project, IReadOnlyList<JudgeDisagreement> items, string state, string? csrf, string? message = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        var page = Page($"Judge disagreements — {project}", "/review", state);
        page.Heading(1, $"Judge disagreements — {project}");
        if (message is not null)
        {
            page.Paragraph(message, message.StartsWith("Recorded", StringComparison.Ordinal) ? "ok" : "alarm");
        }

        var waiting = items.Count(i => i.Resolved is null);
        page.Paragraph(items.Count == 0
            ? "No disagreement: no case of the recent runs had two judges more than one point apart."
            : $"{waiting:N0} of {items.Count:N0} case(s) the judges split on wait for a human verdict. Verdicts go to {JudgeReviewUseCase.LabelsFile}, which recal judge-agreement reads to measure the judges against people.", items.Count == 0 ? "info" : "meta");
        foreach (var item in items)
        {
            var result = item.Result;
            page.Heading(2, $"{item.Id}{(item.Resolved is { } done ? $" — resolved: {done}" : string.Empty)}");
            page.Paragraph($"Target {item.Run.Target} · intent {result.Intent} · rubric {result.Judge?.Rubric} · split on {string.Join(", ", result.Judge?.Disagreements ?? [])} · the ensemble said {(result.Passed ? "pass" : "fail")}", "meta");
            if (item.Case is { } evalCase)
            {
                page.Raw($"<p class=\"meta\">Input</p><pre class=\"text\">{E(evalCase.Input.ClassificationText)}</pre>");
                if (evalCase.References.Count > 0)
                {
                    page.Raw($"<p class=\"meta\">Reference ({E(evalCase.References[0].Grade.ToString().ToLowerInvariant())})</p><pre class=\"text\">{E(evalCase.References[0].Text)}</pre>");
                }
            }

            page.Raw($"<p class=\"meta\">The target's answer</p><pre class=\"text\">{E(result.Output ?? "(none)")}</pre>");
            page.Table(
                ["judge", "verdict", "scores", "reasons"],
                (result.Judge?.Votes ?? []).Select(v => (IReadOnlyList<string>)
                [
                    v.Judge,
                    item.Verdicts.GetValueOrDefault(v.Judge) ?? "no usable reply",
                    v.Scores is null ? "—" : string.Join(", ", v.Scores.Select(x => $"{x.Key} {x.Value}")),
                    v.Rationale ?? v.Error ?? string.Empty,
                ]));
            if (item.Resolved is null && csrf is not null)
            {
                page.Raw(
                    $"<form class=\"filter\" method=\"post\" action=\"/review/judges\">{Csrf(csrf)}<input type=\"hidden\" name=\"id\" value=\"{E(item.Id)}\">" +
                    string.Concat(JudgeReviewUseCase.Verdicts.Select(v => $"<label><span><input type=\"radio\" name=\"verdict\" value=\"{v}\"> {v}</span></label>")) +
                    "<label>note<input name=\"note\"></label><button type=\"submit\">Record the verdict</button></form>");
            }
        }

        return page.Render();
    }

    /// <summary>One draft's review form: the input and the production answer with its feedback, and the labels to write.</summary>
    /// <param name="values">What the reviewer wrote, to show again with the problems found; null for an empty form.</param>
    /// <param name="csrf">The anti-forgery token; null for a reader who may not write (the form is shown disabled).</param>
    public static string ReviewDraft(string project, Draft draft, string version, IReadOnlyList<string> intents, ReviewLabel? values, IReadOnlyList<Diagnostics.Diagnostic> problems, string? message, string state, string? csrf)
    {
        ArgumentNullException.ThrowIfNull(draft);
        ArgumentNullException.ThrowIfNull(intents);
        ArgumentNullException.ThrowIfNull(problems);
        var page = Page($"Review {draft.Id} — {project}", "/review", state);
        page.Heading(1, $"Review draft {draft.Id}");
        page.Paragraph($"Pool {draft.Pool} · stratum {draft.Stratum} · filed under {draft.Intent} ({draft.IntentSource}, confidence {draft.Confidence:0.00}) · cohort {(draft.Cohort.Count == 0 ? "—" : string.Join(", ", draft.Cohort.Select(c => $"{c.Key}={c.Value}")))}{(draft.Note is null ? string.Empty : " · " + draft.Note)}", "meta");
        if (message is not null)
        {
            page.Paragraph(message, "alarm");
        }

        foreach (var problem in problems)
        {
            page.Paragraph($"{problem.Code}: {problem.Message}{(problem.Hint is null ? string.Empty : $" — {problem.Hint}")}", problem.Severity == Diagnostics.Severity.Error ? "alarm" : "warn");
        }

        page.Heading(2, "Input");
        page.Raw($"<pre class=\"text\">{E(Labelling.InputText(draft))}</pre>");
        var context = draft.Context;
        page.Heading(2, "What production answered");
        page.Raw($"<pre class=\"text\">{E(context.Output ?? "(not recorded)")}</pre>");
        page.Paragraph($"Feedback: thumbs {(context.Thumbs is { } t ? t.ToString(CultureInfo.InvariantCulture) : "—")}, CSAT {(context.Csat is { } c ? c.ToString("0.#", CultureInfo.InvariantCulture) : "—")}, escalated {(context.Escalated is { } e ? (e ? "yes" : "no") : "—")}, completed {(context.Completed is { } done ? (done ? "yes" : "no") : "—")}", "meta");

        var v = values ?? new ReviewLabel(draft.Id, version, draft.Intent, null, null, null, null, null);
        var disabled = csrf is null ? " disabled" : string.Empty;
        var intentOptions = string.Concat(intents.Select(i => $"<option{(i == v.Intent ? " selected" : string.Empty)}>{E(i)}</option>"));
        var difficulty = string.Concat(new[] { "", "easy", "medium", "hard" }.Select(d => $"<option value=\"{d}\"{(d == (v.Difficulty ?? string.Empty) ? " selected" : string.Empty)}>{(d.Length == 0 ? "not set" : d)}</option>"));
        page.Heading(2, "Labels");
        page.Raw(
            $"<form class=\"review\" method=\"post\" action=\"/review/{E(Uri.EscapeDataString(draft.Id))}\">{(csrf is null ? string.Empty : Csrf(csrf))}<input type=\"hidden\" name=\"version\" value=\"{E(version)}\">" +
            $"<p><label>intent<br><select name=\"intent\"{disabled}>{intentOptions}</select></label></p>" +
            $"<p><label>reference answer (high)<br><textarea name=\"reference_high\" rows=\"4\" style=\"width:100%\"{disabled}>{E(v.ReferenceHigh ?? string.Empty)}</textarea></label></p>" +
            $"<p><label>reference answer (borderline, optional)<br><textarea name=\"reference_borderline\" rows=\"3\" style=\"width:100%\"{disabled}>{E(v.ReferenceBorderline ?? string.Empty)}</textarea></label></p>" +
            $"<p><label>must contain (optional)<br><input name=\"contains\" value=\"{E(v.Contains ?? string.Empty)}\" style=\"width:100%\"{disabled}></label></p>" +
            $"<p><label>difficulty <select name=\"difficulty\"{disabled}>{difficulty}</select></label> <label>valid until <input type=\"date\" name=\"valid_until\" value=\"{E(v.ValidUntil ?? string.Empty)}\"{disabled}></label></p>" +
            $"<p><button type=\"submit\"{disabled}>Save as a case</button>{(csrf is null ? " (a write token is needed to label)" : string.Empty)}</p></form>");
        return page.Render();
    }

    /// <summary>A page of another writer's (a run report, a diff, a gate) with the dashboard's navigation and script added.</summary>
    public static string Framed(string html, string current, string state)
    {
        ArgumentNullException.ThrowIfNull(html);
        var body = html.IndexOf("<body>", StringComparison.Ordinal);
        var head = html.IndexOf("</head>", StringComparison.Ordinal);
        if (body < 0 || head < 0)
        {
            throw new ArgumentException("not a whole HTML page", nameof(html));
        }

        return html[..head] + StateMeta(state) + $"<script src=\"{ScriptPath}\" defer></script>" + html[head..(body + 6)] + "\n" + Nav(current) + html[(body + 6)..];
    }

    /// <summary>
    /// A page of a view computed for an earlier state of the store, shown while the current one is computed: a note
    /// under the navigation says as of when, how many traces arrived since and whether it is being updated; the script
    /// then asks whether the view is computed for the current state and reloads the page once it is.
    /// </summary>
    /// <param name="tracesSince">Traces stored since it was computed; null when the project's files changed since.</param>
    /// <param name="updating">The view being computed for the current state (its key, which the script asks about); null when none is.</param>
    public static string Stale(string html, DateTimeOffset at, long? tracesSince, string? updating)
    {
        ArgumentNullException.ThrowIfNull(html);
        var head = html.IndexOf("</head>", StringComparison.Ordinal);
        var nav = html.IndexOf("</nav>", StringComparison.Ordinal);
        if (head < 0 || nav < head)
        {
            throw new ArgumentException("not a dashboard page", nameof(html));
        }

        var since = tracesSince switch
        {
            null => "the project's files changed since",
            1 => "1 trace since",
            < 0 => "the store changed since",
            { } n => string.Create(CultureInfo.InvariantCulture, $"{n:N0} traces since"),
        };
        var note = $"<p class=\"info stale\">As of {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC, {since}{(updating is null ? string.Empty : "; updating")}.</p>";
        var meta = updating is null ? string.Empty : $"<meta name=\"recal-view\" content=\"{E(updating)}\">";
        return html[..head] + meta + html[head..(nav + 6)] + note + html[(nav + 6)..];
    }

    /// <summary>Two whole pages as one: the second's body after the first's (a gate above its diff).</summary>
    public static string Joined(string first, string second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var start = second.IndexOf("<body>", StringComparison.Ordinal);
        var end = second.LastIndexOf("</body>", StringComparison.Ordinal);
        var cut = first.LastIndexOf("</body>", StringComparison.Ordinal);
        if (start < 0 || end < start || cut < 0)
        {
            throw new ArgumentException("not whole HTML pages");
        }

        return first[..cut] + second[(start + 6)..end] + first[cut..];
    }

    /// <summary>A page that says what could not be shown and what would show it.</summary>
    public static string Problem(string title, string current, string message, string? next, string state)
    {
        var page = Page(title, current, state);
        page.Heading(1, title);
        page.Paragraph(message, "warn");
        if (next is not null)
        {
            page.Paragraph($"Next: {next}", "info");
        }

        return page.Render();
    }

    /// <summary>The link of one trace's page.</summary>
    public static string TraceLink(string key) => "/traces/" + Uri.EscapeDataString(key);

    /// <summary>The navigation bar, the current view marked.</summary>
    public static string Nav(string current) =>
        "<nav class=\"dash\">" + string.Concat(Views.Select(v => v.Path == current
            ? $"<a href=\"{v.Path}\" aria-current=\"page\">{E(v.Label)}</a>"
            : $"<a href=\"{v.Path}\">{E(v.Label)}</a>")) + "</nav>";

    private static HtmlPage Page(string title, string current, string state) =>
        new HtmlPage(title) { Head = StateMeta(state) }.Script(ScriptPath).Raw(Nav(current));

    private static string Csrf(string token) => $"<input type=\"hidden\" name=\"{CsrfField}\" value=\"{E(token)}\">";

    private static string StateMeta(string state) => $"<meta name=\"recal-state\" content=\"{E(state)}\">";

    private static void WindowForm(HtmlPage page, string action, DateTimeOffset from, DateTimeOffset to) =>
        page.Raw(
            $"<form class=\"filter\" method=\"get\" action=\"{action}\">" +
            $"<label>from<input type=\"date\" name=\"from\" value=\"{Day(from)}\"></label>" +
            $"<label>to (exclusive)<input type=\"date\" name=\"to\" value=\"{Day(to)}\"></label><button type=\"submit\">Show this window</button></form>");

    private static string Options(string? selected, IReadOnlyList<string> values) =>
        string.Concat(values.Select(v => $"<option value=\"{E(v)}\"{(v == (selected ?? string.Empty) ? " selected" : string.Empty)}>{E(v.Length == 0 ? "any" : v)}</option>"));

    private static string FeedbackText(Feedback feedback)
    {
        var parts = new List<string>();
        if (feedback.Thumbs is { } thumbs)
        {
            parts.Add(thumbs > 0 ? "👍" : thumbs < 0 ? "👎" : "thumbs 0");
        }

        if (feedback.Escalated == true)
        {
            parts.Add("escalated");
        }

        if (feedback.Csat is { } csat)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"CSAT {csat:0.#}"));
        }

        return parts.Count == 0 ? "—" : string.Join(" ", parts);
    }

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private static string N(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Percent(double value) => double.IsFinite(value) ? value.ToString("0.0%", CultureInfo.InvariantCulture) : "n/a";

    private static string Day(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
