using System.Text.RegularExpressions;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>Excerpts are whole sections: <c>--rows N</c> shows a table's header, N rows and a count of the rest, and the sample script cuts nothing.</summary>
public sealed class WholeSectionsTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public async Task Status_and_a_dry_run_draw_with_rows_show_the_header_that_many_rows_and_count_the_rest()
    {
        var status = await CliRunner.RunAsync("status", "-p", _sample.Folder, "--rows", "5");
        status.Out.Should().Contain("stratum").And.Contain("gold").And.Contain("drafts");
        var lines = status.Out.Split('\n');
        var header = Array.FindIndex(lines, l => l.Contains("stratum", StringComparison.Ordinal));
        var footer = Array.FindIndex(lines, l => l.Contains("more strata", StringComparison.Ordinal));
        footer.Should().BeGreaterThan(header);
        lines[(header + 2)..footer].Count(l => l.Trim().Length > 0).Should().Be(5, "the rule under the header, then five strata");
        lines[footer].Should().MatchRegex(@"… \d+ more strata \(--rows \d+ shows them all\)");
        status.Out.Should().Contain("Shadow refresh:", "the lines under the table are still there");

        (await CliRunner.RunAsync("ingest", "-p", _sample.Folder, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);
        var draw = await CliRunner.RunAsync("sample", "-p", _sample.Folder, "--pool", "shadow", "--size", "200", "--seed", "1", "--dry-run", "--rows", "3");
        draw.Code.Should().Be(0);
        draw.Out.Should().Contain("allocated").And.MatchRegex(@"… \d+ more strata \(--rows \d+ shows them all\)").And.Contain("Drawn:");

        var all = await CliRunner.RunAsync("sample", "-p", _sample.Folder, "--pool", "shadow", "--size", "200", "--seed", "1", "--dry-run", "--rows", "0");
        all.Out.Should().NotContain("more strata");

        var coverage = await CliRunner.RunAsync("coverage", "-p", _sample.Folder, "--rows", "2");
        coverage.Code.Should().Be(0);
        coverage.Out.Should().Contain("Strata, worst covered first: 2 of").And.MatchRegex(@"… \d+ more strata").And.MatchRegex(@"… \d+ more blind spot\(s\) \(--rows \d+ shows them all\)");
        Regex.Matches(coverage.Out, @"^#\d+ ", RegexOptions.Multiline).Count.Should().Be(2);

        var bad = await CliRunner.RunAsync("status", "-p", _sample.Folder, "--rows", "-1");
        bad.Code.Should().Be(2);
        bad.Error.Should().Contain("--rows: must be 0 (all) or more");
    }

    [Fact]
    public void The_sample_script_shows_whole_outputs_or_whole_sections_never_a_count_of_lines()
    {
        var script = File.ReadAllText(Path.Combine(_sample.RepositoryRoot, "samples", "run-sample.sh"));

        // head/tail/grep -A/cut by line or column counts are what cut a table mid-way or a number mid-line.
        Regex.Matches(script, @"\b(head|tail)\s+-n|\bgrep\s+-[ABC]\b|\bcut\s+-c|printed\+\+").Should().BeEmpty();
        script.Should().Contain("--rows", "long tables are shortened by the commands themselves, with a count of the rest");
    }
}
