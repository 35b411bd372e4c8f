using FluentAssertions;
using Recal.Domain;
using Recal.Ingest;
using Recal.Scoring;
using Xunit;

namespace Recal.Running.Tests;

/// <summary>Scoring outputs that already exist: recorded on ingested traces, or listed in a results file.</summary>
public sealed class ReplayTargetTests : IAsyncLifetime
{
    private RunFixture _fixture = null!;

    public async ValueTask InitializeAsync() => _fixture = await RunFixture.CreateAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _fixture.DisposeAsync();

    [Fact]
    public async Task Outputs_recorded_on_ingested_traces_are_replayed_and_cases_without_one_are_errors()
    {
        // Given three ingested traces, two of them with the production output
        var traces = Path.Combine(_fixture.Folder, "traces.jsonl");
        await File.WriteAllLinesAsync(traces,
        [
            """{"id":"t-1","timestamp":"2026-06-01T10:00:00Z","input":"freeze my card","output":"Your card is frozen.","intent":"freeze"}""",
            """{"id":"t-2","timestamp":"2026-06-01T10:01:00Z","input":"refund please","output":"I've started your refund.","intent":"refund"}""",
            """{"id":"t-3","timestamp":"2026-06-01T10:02:00Z","input":"hello","intent":"greeting"}""",
        ], TestContext.Current.CancellationToken);
        var ingest = await IngestPipeline.RunAsync(traces, _fixture.Store, Classify, Path.Combine(_fixture.Folder, "quarantine.jsonl"), cancellationToken: TestContext.Current.CancellationToken);
        ingest.Added.Should().Be(3);

        // And cases sampled from them, from a trace the store lacks, and one with no trace at all
        IReadOnlyList<EvalCase> cases =
        [
            RunFixture.Case("c1", "frozen", traceId: "t-1"),
            RunFixture.Case("c2", "refund", traceId: "t-2"),
            RunFixture.Case("c3", "hello", traceId: "t-3"),
            RunFixture.Case("c4", "lost", traceId: "t-404"),
            RunFixture.Case("c5", "manual"),
        ];

        // When the replay target runs them
        var target = await ReplayTarget.FromTracesAsync(_fixture.Store, cases, TestContext.Current.CancellationToken);
        var run = await _fixture.NewRunAsync(cases, target: "production");
        var summary = await EvalRunner.ExecuteAsync(_fixture.Store, run, cases, target, [new AssertionScorer()], null, null, new RunOptions(MaxErrorShare: 1), cancellationToken: TestContext.Current.CancellationToken);

        // Then the recorded outputs were scored without any call, and the others are errors saying why, never passes
        var results = (await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken)).ToDictionary(r => r.CaseId);
        results["c1"].Output.Should().Be("Your card is frozen.");
        results["c1"].Passed.Should().BeTrue();
        results["c1"].Attempts.Should().Be(0);
        results["c2"].Output.Should().Be("I've started your refund.");
        results["c2"].Passed.Should().BeTrue();
        results["c3"].Error.Should().Contain("no output is recorded for trace 't-3'");
        results["c4"].Error.Should().Contain("no output is recorded for trace 't-404'");
        results["c5"].Error.Should().Contain("names no source trace");
        results.Values.Where(r => r.Error != null).Should().HaveCount(3).And.OnlyContain(r => !r.Passed && r.Output == null);
        summary.Passed.Should().Be(2);
        summary.Errors.Should().Be(3);
        summary.CacheHits.Should().Be(0);
    }

    [Fact]
    public async Task A_results_file_is_replayed_its_bad_lines_are_listed_by_line_and_missing_outputs_are_errors()
    {
        // Given a results file with a good line, broken JSON, a line without an output, a second output for c1 and a blank line
        var file = Path.Combine(_fixture.Folder, "results.jsonl");
        await File.WriteAllLinesAsync(file,
        [
            """{"case_id":"c1","output":"Your card is frozen."}""",
            """{"case_id":"c2","output":"I've started""",
            """{"case_id":"c2"}""",
            """{"case_id":"c1","output":"something else"}""",
            string.Empty,
            """{"case_id":"c3","output":"no refund for you"}""",
        ], TestContext.Current.CancellationToken);
        IReadOnlyList<EvalCase> cases = [RunFixture.Case("c1", "frozen"), RunFixture.Case("c2", "refund"), RunFixture.Case("c3", "refund please")];

        // When the file is read and replayed
        var target = ReplayTarget.FromFile(file);
        var run = await _fixture.NewRunAsync(cases, target: "results");
        var summary = await EvalRunner.ExecuteAsync(_fixture.Store, run, cases, target, [new AssertionScorer()], null, null, new RunOptions(MaxErrorShare: 1), cancellationToken: TestContext.Current.CancellationToken);

        // Then every bad line is named with file and line, the first output for c1 is kept, and c2 (no usable line) is an error
        target.Problems.Should().HaveCount(3);
        target.Problems[0].Should().StartWith($"{file}:2: not JSON");
        target.Problems[1].Should().StartWith($"{file}:3: expected");
        target.Problems[2].Should().StartWith($"{file}:4: a second output for case 'c1'");
        var results = (await _fixture.Store.GetRunCasesAsync(run.Id, TestContext.Current.CancellationToken)).ToDictionary(r => r.CaseId);
        results["c1"].Output.Should().Be("Your card is frozen.");
        results["c1"].Passed.Should().BeTrue();
        results["c2"].Error.Should().Be("results.jsonl has no output for this case");
        results["c2"].Passed.Should().BeFalse();
        results["c3"].Passed.Should().BeFalse("the output misses the expected text: a failure, not an error");
        results["c3"].Error.Should().BeNull();
        summary.Passed.Should().Be(1);
        summary.Failed.Should().Be(1);
        summary.Errors.Should().Be(1);
    }

    private static ClassifiedTrace Classify(Trace trace, string key) =>
        new(trace, key, trace.Intent ?? Taxonomy.UnknownIntent, IntentSource.Label, 1, "plan=free");
}
