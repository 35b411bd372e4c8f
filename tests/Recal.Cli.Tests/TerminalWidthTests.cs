using System.Text.RegularExpressions;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>Tables fit the terminal they are in: 80, 120 and 200 columns, numbers and names never split.</summary>
public sealed partial class TerminalWidthTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public async Task The_weekly_drift_table_fits_80_120_and_200_columns_without_splitting_a_number()
    {
        // Given the sample's twelve weeks of traffic
        var p = _sample.Folder;
        (await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        foreach (var width in new[] { 80, 120, 200 })
        {
            // When drift is shown week by week at that width
            var drift = await CliRunner.RunAtWidthAsync(width, "drift", "--project", p, "--over", "weekly");
            drift.Code.Should().Be(1, drift.Error);
            var lines = drift.Out.Split('\n').Select(l => l.TrimEnd('\r')).ToList();

            // Then no line is wider than the terminal
            lines.Should().OnlyContain(l => l.Length <= width, $"every line fits {width} columns:\n{drift.Out}");

            // And each week is one row (a row continues only with whole alarm codes, never a piece of a number)
            var rows = lines.Where(l => WeekRow().IsMatch(l)).ToList();
            rows.Should().HaveCount(12, drift.Out);
            var table = lines.SkipWhile(l => !l.StartsWith("╭", StringComparison.Ordinal)).TakeWhile(l => !l.StartsWith("╰", StringComparison.Ordinal)).ToList();
            var continuations = table.Where(l => l.StartsWith("│ ", StringComparison.Ordinal) && l[2] == ' ').ToList();
            continuations.Where(l => Regex.IsMatch(Regex.Replace(l, @"strata×\d+", string.Empty), @"\d")).Should().BeEmpty(drift.Out);
            foreach (var row in rows)
            {
                Numbers().Matches(row).Select(m => m.Value).Should().OnlyContain(n => WholeNumber().IsMatch(n), row);
            }

            // And what does not fit is listed under the table, every week of it
            if (width == 200)
            {
                drift.Out.Should().Contain("escalated").And.Contain("alarms").And.NotContain("Not shown above");
            }
            else
            {
                drift.Out.Should().Contain("Not shown above at this width");
                lines.Count(l => WeekDetail().IsMatch(l)).Should().Be(12, drift.Out);
            }
        }
    }

    [Fact]
    public async Task Check_and_status_fit_80_columns_and_wrap_between_words()
    {
        // Given the sample's traffic
        var p = _sample.Folder;
        (await CliRunner.RunAsync("ingest", "--project", p, _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        foreach (var command in new[] { "check", "status" })
        {
            // When the command runs on an 80-column terminal
            var result = await CliRunner.RunAtWidthAsync(80, command, "--project", p);

            // Then every line fits, and a finding's text continues under its own column
            result.Out.Split('\n').Should().OnlyContain(l => l.TrimEnd('\r').Length <= 80, result.Out);
            var wide = await CliRunner.RunAtWidthAsync(200, command, "--project", p);
            Words(result.Out).Should().Equal(Words(wide.Out), "the same words, only wrapped differently");
        }

        static string[] Words(string text) => text.Split([' ', '\n', '\r', '│', '─', '┼'], StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task The_run_list_keeps_every_id_whole_at_80_and_120_columns()
    {
        // Given a project with a stored run whose id is long enough to wrap in a plain table
        var p = _sample.Folder;
        var storePath = Path.Combine(p, ".recal", "recal.db");
        Directory.CreateDirectory(Path.GetDirectoryName(storePath)!);
        const string Id = "20261203-201308-gold-tuned-configuration";
        await using (var store = await Recal.Storage.Sqlite.SqliteStore.OpenAsync(storePath, TestContext.Current.CancellationToken))
        {
            await store.CreateRunAsync(new Recal.Running.RunInfo(Id, "clinc150-support", "gold-tuned", "{}", "ad93df21975c", Recal.Domain.PoolSet.Parse("gold,shadow,holdout"), 898, null, DateTimeOffset.UnixEpoch, null, Recal.Running.RunStatus.Completed), TestContext.Current.CancellationToken);
        }

        foreach (var width in new[] { 80, 120 })
        {
            var list = await CliRunner.RunAtWidthAsync(width, "report", "--project", p, "--list");
            list.Code.Should().Be(0);
            list.Out.Should().Contain(Id, $"a script reads the first column at {width} columns");
            list.Out.Split('\n').Should().OnlyContain(l => l.TrimEnd().Length <= width);
        }
    }

    [Fact]
    public async Task Redirected_output_has_a_fixed_width_unless_COLUMNS_asks_for_one()
    {
        CliContext.RequestedWidth(null).Should().BeNull();
        CliContext.RequestedWidth("80").Should().Be(80);
        CliContext.RequestedWidth("wide").Should().BeNull();
        CliContext.RequestedWidth("12").Should().BeNull();
        CliContext.RedirectedWidth.Should().Be(160);
        await Task.CompletedTask;
    }

    [GeneratedRegex(@"^│ \d{4}-\d{2}-\d{2} ")]
    private static partial Regex WeekRow();

    [GeneratedRegex(@"^  \d{4}-\d{2}-\d{2}  ")]
    private static partial Regex WeekDetail();

    [GeneratedRegex(@"[\d][\d,.]*%?")]
    private static partial Regex Numbers();

    [GeneratedRegex(@"^(\d{4}-\d{2}-\d{2}|\d{1,3}(,\d{3})*|\d+\.\d+%?|\d+%?|\d+e-?\d+|\d(\.\d+)?)$")]
    private static partial Regex WholeNumber();
}
