using System.Text.Json;
using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Running;
using Recal.Scoring;
using Xunit;

namespace Recal.Core.Tests.Running;

/// <summary>A local program speaking JSON lines (a bash script here), kept alive across cases.</summary>
public sealed class ProgramTargetTests : IDisposable
{
    /// <summary>Reads "id" and "input" from a request line with sed and prints a reply line.</summary>
    private const string Functions = """
        field() { printf '%s' "$1" | sed -E "s/.*\"$2\":\"([^\"]*)\".*/\1/"; }
        reply() { printf '{"id":"%s","output":"%s"}\n' "$(field "$1" id)" "$2"; }
        """;

    private static readonly RetrySettings FastRetries = new(MaxRetries: 3, BaseDelay: TimeSpan.FromMilliseconds(5));
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task The_program_is_started_once_for_many_cases_and_every_case_gets_its_own_answer()
    {
        // Given an echoing program
        SkipOnWindows();
        var script = Script("echo.sh", """
            while IFS= read -r line; do
              reply "$line" "echo: $(field "$line" input)"
            done
            """);
        await using var target = new ProgramTarget([script], _folder.Path, RetryPolicy.Create(FastRetries), new CallGuard(null, TimeSpan.FromSeconds(20)));
        var cases = Enumerable.Range(0, 24).Select(i => Case($"c{i:00}", $"question {i:00}")).ToList();

        // When 24 cases run four at a time
        var run = await RunExecutor.ExecuteAsync(cases, target.InvokeAsync, [new AssertionScorer()], new RunOptions(Concurrency: 4), cancellationToken: TestContext.Current.CancellationToken);

        // Then one process answered them all, each with its own input
        target.Starts.Should().Be(1);
        run.Passed.Should().Be(24);
        run.Cases.Select(c => (c.Output, c.Response!.Attempts)).Should().Equal(cases.Select(c => ((string?)("echo: " + c.Input.Text), 1)));
    }

    [Fact]
    public async Task Answers_given_out_of_order_are_matched_to_their_requests_by_id()
    {
        // Given a program that reads two requests and then answers the second before the first
        SkipOnWindows();
        var script = Script("reversed.sh", """
            while IFS= read -r first && IFS= read -r second; do
              reply "$second" "$(field "$second" input) (read second, answered first)"
              reply "$first" "$(field "$first" input) (read first, answered second)"
            done
            """);
        await using var target = new ProgramTarget([script], _folder.Path, RetryPolicy.Create(FastRetries), new CallGuard(null, TimeSpan.FromSeconds(20)));

        // When two cases are in flight at once
        var answers = await Task.WhenAll(
            target.InvokeAsync(Case("a", "alpha"), TestContext.Current.CancellationToken).AsTask(),
            target.InvokeAsync(Case("b", "beta"), TestContext.Current.CancellationToken).AsTask());

        // Then each got the answer to its own input, one of them answered before the other
        answers[0].Text.Should().StartWith("alpha (");
        answers[1].Text.Should().StartWith("beta (");
        answers.Select(a => a.Text[(a.Text.IndexOf('(', StringComparison.Ordinal) + 1)..]).Should().BeEquivalentTo("read second, answered first)", "read first, answered second)");
        target.Starts.Should().Be(1);
    }

    [Fact]
    public async Task A_program_that_exits_mid_run_is_started_again_and_the_call_in_flight_is_retried()
    {
        // Given a program that dies (once) on the request 'crash', without answering it
        SkipOnWindows();
        var marker = Path.Combine(_folder.Path, "crashed-once");
        var script = Script("crashy.sh", """
            while IFS= read -r line; do
              input=$(field "$line" input)
              if [ "$input" = "crash" ] && [ ! -e "$1" ]; then
                touch "$1"
                echo "going down" >&2
                exit 3
              fi
              reply "$line" "echo: $input"
            done
            """);
        await using var target = new ProgramTarget([script, marker], _folder.Path, RetryPolicy.Create(FastRetries), new CallGuard(null, TimeSpan.FromSeconds(20)));

        // When a case runs, then the crashing one, then another
        var before = await target.InvokeAsync(Case("a", "first"), TestContext.Current.CancellationToken);
        var crashed = await target.InvokeAsync(Case("b", "crash"), TestContext.Current.CancellationToken);
        var after = await target.InvokeAsync(Case("c", "last"), TestContext.Current.CancellationToken);

        // Then the crashing call was retried on a new process and answered; the new process stays up
        File.Exists(marker).Should().BeTrue();
        before.Text.Should().Be("echo: first");
        crashed.Text.Should().Be("echo: crash");
        crashed.Attempts.Should().BeInRange(2, 3);
        after.Text.Should().Be("echo: last");
        after.Attempts.Should().Be(1);
        target.Starts.Should().Be(2);
    }

    [Fact]
    public async Task An_error_reply_from_the_program_is_the_cases_error_and_is_not_retried()
    {
        SkipOnWindows();
        var script = Script("refuses.sh", """
            while IFS= read -r line; do
              printf '{"id":"%s","error":"no model loaded"}\n' "$(field "$line" id)"
            done
            """);
        var retries = 0;
        await using var target = new ProgramTarget([script], _folder.Path, RetryPolicy.Create(FastRetries, (_, _, _) => retries++), new CallGuard(null, TimeSpan.FromSeconds(20)));

        var act = async () => await target.InvokeAsync(Case("a", "hi"), TestContext.Current.CancellationToken);

        var error = (await act.Should().ThrowAsync<TargetCallException>()).Which;
        error.Message.Should().Contain("no model loaded");
        error.Transient.Should().BeFalse();
        retries.Should().Be(0);
    }

    [Fact]
    public async Task A_program_that_cannot_start_is_a_clear_error_that_is_not_retried()
    {
        // Given a command that does not exist
        SkipOnWindows();
        var missing = Path.Combine(_folder.Path, "no-such-program");
        var retries = 0;
        await using var target = new ProgramTarget([missing, "--serve"], _folder.Path, RetryPolicy.Create(FastRetries, (_, _, _) => retries++));

        // When a case runs
        var act = async () => await target.InvokeAsync(Case("a", "hi"), TestContext.Current.CancellationToken);

        // Then the error names the program and says it could not be started, at once
        var error = (await act.Should().ThrowAsync<TargetCallException>()).Which;
        error.Message.Should().Contain(missing).And.Contain("could not be started");
        error.Transient.Should().BeFalse();
        retries.Should().Be(0);
        target.Starts.Should().Be(0);
    }

    private static void SkipOnWindows() => Assert.SkipWhen(OperatingSystem.IsWindows(), "the test programs are bash scripts");

    private string Script(string name, string body)
    {
        var path = _folder.Write(name, "#!/usr/bin/env bash\n" + Functions + "\n" + body + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    private static EvalCase Case(string id, string input) =>
        new(id, TraceInput.FromText(input), [], [new Assertion("contains", JsonSerializer.SerializeToElement(input), new Dictionary<string, JsonElement>())], "x",
            new Dictionary<string, string>(), null, new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));
}
