using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Ingest;
using Recal.Judging;
using Recal.Providers.OpenAI;
using Recal.Scoring;
using Recal.Testing;
using Xunit;

namespace Recal.Running.Tests;

/// <summary>
/// Recal's own traces and logs, seen by an <see cref="ActivityListener"/> as an OpenTelemetry SDK would see them:
/// names, parents, tags, error status, and that no tag ever carries a key or a text.
/// </summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private const string KeyVariable = "RECAL_TELEMETRY_TEST_KEY";
    private const string Secret = "sk-telemetry-test-0123456789abcdef";

    private static readonly Rubric Rubric = new(
        "answer-quality",
        3,
        "Grade the support answer.",
        [new RubricDimension("correctness", "Is it right?", 1, 5, new Dictionary<int, string> { [1] = "wrong", [5] = "right" })],
        new PassRule(4, null));

    private const string TestSourceName = "Recal.Tests.Telemetry";

    private static readonly ActivitySource TestSource = new(TestSourceName);

    private RunFixture _fixture = null!;

    public async ValueTask InitializeAsync() => _fixture = await RunFixture.CreateAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task An_ingest_is_one_activity_with_the_file_name_format_and_counts_and_its_quarantined_lines_are_logged_as_warnings()
    {
        // Given a JSONL file with two good traces, one repeated and one broken line
        var path = Path.Combine(_fixture.Folder, "traffic.jsonl");
        var good = new[] { Line(1), Line(2) };
        await File.WriteAllLinesAsync(path, [good[0], good[1], good[0], "{not json"], TestContext.Current.CancellationToken);
        var logger = new ListLogger();

        // When it is ingested with a listener and a logger attached
        using var traces = new Collector();
        IngestSummary summary;
        using (traces.Root())
        {
            summary = await IngestPipeline.RunAsync(path, _fixture.Store, Classify, Path.Combine(_fixture.Folder, "quarantine.jsonl"), new IngestOptions(), cancellationToken: TestContext.Current.CancellationToken, logger: logger);
        }

        // Then one recal.ingest activity under the caller's carries the file's name (not its folder) and the counts
        summary.Quarantined.Should().Be(1);
        var ingest = traces.Named(RecalTelemetry.IngestActivity).Should().ContainSingle().Subject;
        ingest.ParentSpanId.Should().Be(traces.RootSpanId);
        ingest.Source.Name.Should().Be("Recal");
        ingest.Source.Version.Should().NotBeNullOrEmpty();
        ingest.GetTagItem("file.name").Should().Be("traffic.jsonl");
        ingest.GetTagItem("recal.ingest.format").Should().Be("jsonl");
        ingest.GetTagItem("recal.ingest.lines_read").Should().Be(4L);
        ingest.GetTagItem("recal.ingest.traces_added").Should().Be(2L);
        ingest.GetTagItem("recal.ingest.duplicates").Should().Be(1L);
        ingest.GetTagItem("recal.ingest.quarantined").Should().Be(1L);
        ingest.Status.Should().Be(ActivityStatusCode.Unset);
        traces.TagValues().Should().NotContain(v => v.Contains(_fixture.Folder, StringComparison.Ordinal) || v.Contains("question", StringComparison.Ordinal));

        // And the log has the start and end at Information and the quarantined line at Warning, with its place and code
        logger.Entries.Where(e => e.Level == LogLevel.Information).Select(e => e.Id.Id).Should().Equal(1001, 1002);
        var quarantined = logger.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning).Subject;
        quarantined.Id.Should().Be(new EventId(1003, "RecordQuarantined"));
        quarantined.State["Place"].Should().Be("traffic.jsonl:4");
        quarantined.State["Code"].Should().NotBeNull();
        logger.Entries.Should().NotContain(e => e.Message.Contains("{not json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_run_is_a_tree_of_run_case_and_chat_activities_with_gen_ai_tags_an_error_status_on_a_failed_call_and_no_secret_or_text_in_any_tag()
    {
        // Given a target behind a key from the environment, a server that refuses q01, and a one-judge panel
        Environment.SetEnvironmentVariable(KeyVariable, Secret);
        await using var server = new FakeOpenAIServer
        {
            Respond = r => r.Model == "judge-a" ? FakeReply.Ok(JsonSerializer.Serialize(new { scores = new { correctness = 5 }, rationale = "graded" }))
                : r.LastContent == "q01" ? FakeReply.ServerError(400)
                : null,
        };
        var target = new ChatTarget(Client(server, "bot"), RetryPolicy.Create(RunFixture.FastRetries), new ChatOptions { Temperature = 0 });
        var panel = new JudgePanel(Rubric, [new PanelJudge("judge-a", Client(server, "judge-a"), server.BaseUrl.ToString(), "judge-a", new ChatOptions { Temperature = 0 })], RetryPolicy.Create(RunFixture.FastRetries), null, null);
        var cases = RunFixture.Cases(3);
        var run = await _fixture.NewRunAsync(cases, judges: Rubric.Id);
        var logger = new ListLogger();

        // When the run executes with a listener and a meter listener attached
        var outcomes = new List<string>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RecalTelemetry.Name && instrument.Name == "recal.run.cases")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            lock (outcomes)
            {
                foreach (var tag in tags)
                {
                    outcomes.Add((string)tag.Value!);
                }
            }
        });
        meters.Start();
        using var traces = new Collector();
        RunSummary summary;
        using (traces.Root())
        {
            summary = await EvalRunner.ExecuteAsync(_fixture.Store, run, cases, target, [new AssertionScorer()], panel, null, new RunOptions(Concurrency: 2, MaxErrorShare: 1), cancellationToken: TestContext.Current.CancellationToken, logger: logger);
        }

        // Then one recal.run under the caller's carries the run's figures
        server.Requests.Should().Contain(r => r.Authorization != null && r.Authorization.Contains(Secret), "the key was really used");
        summary.Errors.Should().Be(1);
        var runActivity = traces.Named(RecalTelemetry.RunActivity).Should().ContainSingle().Subject;
        runActivity.ParentSpanId.Should().Be(traces.RootSpanId);
        runActivity.GetTagItem("recal.run.id").Should().Be(run.Id);
        runActivity.GetTagItem("recal.run.target").Should().Be("bot");
        runActivity.GetTagItem("recal.run.pools").Should().Be("gold");
        runActivity.GetTagItem("recal.run.cases").Should().Be(3);
        runActivity.GetTagItem("recal.run.passed").Should().Be(2);
        runActivity.GetTagItem("recal.run.failed").Should().Be(0);
        runActivity.GetTagItem("recal.run.errors").Should().Be(1);
        runActivity.GetTagItem("recal.run.cache_hits").Should().Be(0);

        // And each case is a child of the run, with its target call and its judge call as children
        var caseActivities = traces.Named(RecalTelemetry.CaseActivity);
        caseActivities.Select(a => a.GetTagItem("recal.case.id")).Should().BeEquivalentTo(new[] { "c00", "c01", "c02" });
        caseActivities.Should().OnlyContain(a => a.ParentSpanId == runActivity.SpanId);
        var byCase = caseActivities.ToDictionary(a => (string)a.GetTagItem("recal.case.id")!);
        var calls = traces.All.Where(a => a.OperationName == "chat bot").ToList();
        calls.Should().HaveCount(3);
        foreach (var call in calls)
        {
            call.Kind.Should().Be(ActivityKind.Client);
            call.GetTagItem("gen_ai.operation.name").Should().Be("chat");
            call.GetTagItem("gen_ai.request.model").Should().Be("bot");
            call.ParentSpanId.Should().Be(byCase[(string)call.GetTagItem("recal.case.id")!].SpanId);
        }

        var answered = calls.Single(c => (string?)c.GetTagItem("recal.case.id") == "c00");
        answered.GetTagItem("gen_ai.usage.input_tokens").Should().Be(10L);
        answered.GetTagItem("gen_ai.usage.output_tokens").Should().Be(5L);
        answered.GetTagItem("gen_ai.response.model").Should().Be("fake-model");
        answered.GetTagItem("recal.cache.hit").Should().Be(false);
        answered.Status.Should().Be(ActivityStatusCode.Unset);

        // And the refused call and its case are errors, the call with the HTTP status as its error type
        var refused = calls.Single(c => (string?)c.GetTagItem("recal.case.id") == "c01");
        refused.Status.Should().Be(ActivityStatusCode.Error);
        refused.GetTagItem("error.type").Should().Be("400");
        byCase["c01"].Status.Should().Be(ActivityStatusCode.Error);
        byCase["c00"].Status.Should().Be(ActivityStatusCode.Unset);

        // And the judge's calls are chat activities under the cases they grade, named after the judge and the rubric
        var judged = traces.All.Where(a => a.OperationName == "chat judge-a").ToList();
        judged.Should().HaveCount(2, "the refused case has no output to judge");
        judged.Should().OnlyContain(a => (string?)a.GetTagItem("recal.judge.name") == "judge-a"
            && (string?)a.GetTagItem("recal.rubric.name") == "answer-quality"
            && (int?)a.GetTagItem("recal.rubric.version") == 3
            && a.ParentSpanId == byCase[(string)a.GetTagItem("recal.case.id")!].SpanId);

        // And no tag holds the key, an input, an output or a prompt
        var values = traces.TagValues();
        values.Should().NotBeEmpty();
        values.Should().NotContain(v => v.Contains(Secret, StringComparison.Ordinal)
            || v.Contains("q0", StringComparison.Ordinal)
            || v.Contains("echo", StringComparison.Ordinal)
            || v.Contains("Grade the support answer", StringComparison.Ordinal)
            || v.Contains("internal error", StringComparison.Ordinal));
        traces.All.Select(a => a.StatusDescription ?? string.Empty).Should().NotContain(v => v.Contains(Secret, StringComparison.Ordinal) || v.Contains("internal error", StringComparison.Ordinal));

        // And the cases were counted by outcome (other tests' runs may add to the same meter)
        lock (outcomes)
        {
            outcomes.Should().Contain(["passed", "error"]);
        }

        // And the log has the run's start and end and the failed case as a warning, never the key
        logger.Entries.Select(e => e.Id.Id).Should().Contain([2001, 2002]);
        var failed = logger.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning).Subject;
        failed.Id.Should().Be(new EventId(2003, "CaseFailed"));
        failed.State["CaseId"].Should().Be("c01");
        logger.Entries.Should().NotContain(e => e.Message.Contains(Secret, StringComparison.Ordinal));
    }

    private static string Line(int i) =>
        $$"""{"id":"t-{{i}}","timestamp":"2026-06-01T00:0{{i}}:00Z","input":"question {{i}}","output":"answer","metadata":{"plan":"free"},"intent":"balance"}""";

    private static ClassifiedTrace Classify(Recal.Domain.Trace trace, string key) =>
        new(trace, key, trace.Intent ?? Taxonomy.UnknownIntent, trace.Intent is null ? IntentSource.Unknown : IntentSource.Label, 1, "plan=free");

    private OpenAICompatibleChatClient Client(FakeOpenAIServer server, string model)
    {
        var (client, error) = OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(server.BaseUrl, model, KeyVariable));
        return client ?? throw new InvalidOperationException(error);
    }

    /// <summary>Collects the Recal activities of one trace: the one under <see cref="Root"/>, so parallel tests do not mix in.</summary>
    private sealed class Collector : IDisposable
    {
        private readonly ActivityListener _listener;
        private readonly List<Activity> _stopped = [];
        private ActivityTraceId _trace;

        public Collector()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = s => s.Name is RecalTelemetry.Name or TestSourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = a =>
                {
                    lock (_stopped)
                    {
                        _stopped.Add(a);
                    }
                },
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public ActivitySpanId RootSpanId { get; private set; }

        public IReadOnlyList<Activity> All
        {
            get
            {
                lock (_stopped)
                {
                    return [.. _stopped.Where(a => a.TraceId == _trace && a.Source.Name == RecalTelemetry.Name)];
                }
            }
        }

        public Activity Root()
        {
            var root = TestSource.StartActivity("test")!;
            (_trace, RootSpanId) = (root.TraceId, root.SpanId);
            return root;
        }

        public IReadOnlyList<Activity> Named(string name) => [.. All.Where(a => a.OperationName == name)];

        public IReadOnlyList<string> TagValues() => [.. All.SelectMany(a => a.TagObjects).Select(t => Convert.ToString(t.Value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty)];

        public void Dispose() => _listener.Dispose();
    }

    private sealed record LogEntry(LogLevel Level, EventId Id, string Message, IReadOnlyDictionary<string, object?> State);

    private sealed class ListLogger : ILogger
    {
        private readonly List<LogEntry> _entries = [];

        public IReadOnlyList<LogEntry> Entries
        {
            get
            {
                lock (_entries)
                {
                    return [.. _entries];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state as IReadOnlyList<KeyValuePair<string, object?>> ?? [];
            lock (_entries)
            {
                _entries.Add(new LogEntry(logLevel, eventId, formatter(state, exception), values.ToDictionary(p => p.Key, p => p.Value)));
            }
        }
    }
}
