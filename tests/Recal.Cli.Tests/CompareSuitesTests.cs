using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

public sealed class CompareSuitesTests : IDisposable
{
    private readonly SampleProject _old = new();
    private readonly SampleProject _new = new();

    public void Dispose()
    {
        _old.Dispose();
        _new.Dispose();
    }

    /// <summary>Adds a replay target answering every case with its high reference, except cases of the given intents.</summary>
    private static void AddCandidate(SampleProject project, params string[] wrongIntents)
    {
        var results = File.ReadLines(project.PathOf("cases/gold.jsonl")).Select(line =>
        {
            var root = JsonDocument.Parse(line).RootElement;
            var intent = root.GetProperty("intent").GetString();
            var answer = wrongIntents.Contains(intent) ? "I cannot help." : root.GetProperty("references")[0].GetProperty("text").GetString();
            return JsonSerializer.Serialize(new Dictionary<string, string?> { ["case_id"] = root.GetProperty("id").GetString(), ["output"] = answer });
        });
        File.WriteAllLines(project.PathOf("candidate.jsonl"), results);
        File.AppendAllText(project.PathOf("recal.yaml"), "\n# added by the test\n");
        var yaml = File.ReadAllText(project.PathOf("recal.yaml")).Replace(
            "  production:",
            "  candidate:\n    type: replay\n    source: file\n    file: candidate.jsonl\n  production:",
            StringComparison.Ordinal);
        File.WriteAllText(project.PathOf("recal.yaml"), yaml);
    }

    [Fact]
    public async Task The_eval_change_table_shows_both_targets_on_both_suites_and_says_whether_the_verdict_changed()
    {
        // Given the old suite, and a new suite that retired the account_blocked cases the candidate gets wrong
        AddCandidate(_old, "account_blocked", "balance", "bill_due", "card_declined");
        AddCandidate(_new, "account_blocked", "balance", "bill_due", "card_declined");
        var gold = File.ReadAllLines(_new.PathOf("cases/gold.jsonl"));
        File.WriteAllLines(_new.PathOf("cases/gold.jsonl"), gold.Where(l => !l.Contains("\"intent\":\"account_blocked\"", StringComparison.Ordinal)));
        foreach (var project in new[] { _old, _new })
        {
            (await CliRunner.RunAsync("ingest", project.PathOf("traffic/traffic.jsonl.gz"), "-p", project.Folder)).Code.Should().Be(0);
            foreach (var target in new[] { "production", "candidate" })
            {
                var run = await CliRunner.RunAsync("run", "-t", target, "--no-judge", "-p", project.Folder);
                run.Code.Should().Be(0, run.Error);
            }
        }

        // When the suites are compared
        var markdown = _new.PathOf("compare.md");
        var compare = await CliRunner.RunAsync("compare-suites", "--old-project", _old.Folder, "--baseline", "production", "--candidate", "candidate", "--markdown", markdown, "-p", _new.Folder);

        // Then the table has both targets on both suites, the lead of each, and a verdict sentence
        compare.Code.Should().Be(0, compare.Error);
        var text = File.ReadAllText(markdown);
        text.Should().Contain("| target | old suite `").And.Contain("| production |").And.Contain("| candidate |").And.Contain("| **candidate − production** |");
        text.Should().MatchRegex(@"The eval change (keeps|reverses) the verdict");
        text.Should().Contain("n=498").And.Contain("n=" + gold.Count(l => !l.Contains("\"intent\":\"account_blocked\"", StringComparison.Ordinal)));

        // And the gate's pull-request block carries the gates, the diff and the same eval-change table
        var comment = _new.PathOf("pr.md");
        var gate = await CliRunner.RunAsync("gate", "--baseline", "production", "--candidate", "candidate", "--old-project", _old.Folder, "--markdown", comment, "-p", _new.Folder);
        gate.Code.Should().BeOneOf([0, 1], gate.Error);
        var block = File.ReadAllText(comment);
        block.Should().Contain("## Gate production → candidate").And.Contain("| gate | verdict | evidence |").And.Contain("### What changed, case by case")
            .And.Contain("### Eval change: baseline and candidate on the old and the new suite").And.Contain("| **candidate − production** |");
    }

    [Fact]
    public async Task A_missing_run_is_named_with_the_command_that_makes_it()
    {
        var compare = await CliRunner.RunAsync("compare-suites", "--old-project", _old.Folder, "--baseline", "production", "--candidate", "baseline", "-p", _new.Folder);

        compare.Code.Should().Be(2);
        compare.Error.Should().Contain($"recal run --project {_old.Folder} --target production");
    }
}
