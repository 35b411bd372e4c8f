using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>When offline and online disagree, check proposes drawing drafts from unhappy traffic, and sample --where does it.</summary>
public sealed class FixTheBenchTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    [Fact]
    public async Task Check_proposes_a_draw_from_unhappy_traffic_and_sample_where_draws_only_from_it()
    {
        // Given the sample's traffic and a run whose pass rate is flat while users' thumbs differ by stratum
        (await CliRunner.RunAsync("ingest", _sample.PathOf("traffic/traffic.jsonl.gz"), "-p", _sample.Folder)).Code.Should().Be(0);
        var run = await CliRunner.RunAsync("run", "-t", "production", "--no-judge", "--pool", "gold", "shadow", "-p", _sample.Folder);
        run.Code.Should().Be(0, run.Error);

        // When check runs
        var check = await CliRunner.RunAsync("check", "-p", _sample.Folder);

        // Then offline vs online drifts, and its next step is the draw from unhappy traffic
        check.Out.Should().MatchRegex(@"drifting\s+offline vs online");
        check.Out.Should().Contain("next: draw drafts from unhappy traffic: recal sample --pool shadow --where 'thumbs = down or escalated'");

        // And when the proposed draw is made, it says how many traces matched and every draft comes from an unhappy trace
        var sample = await CliRunner.RunAsync("sample", "--pool", "shadow", "--where", "thumbs = down or escalated", "-p", _sample.Folder);
        sample.Code.Should().Be(0, sample.Error);
        sample.Out.Should().MatchRegex(@"\d[\d,]* traces, [\d,]+ matching --where 'thumbs = down or escalated', [\d,]+ eligible").And.MatchRegex(@"stratum\s+matched\s+eligible");
        var file = Directory.EnumerateFiles(_sample.PathOf("drafts"), "shadow-where-*.jsonl").Should().ContainSingle().Subject;
        var drafts = File.ReadLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        drafts.Should().HaveCountGreaterThan(100);
        drafts.Where(d => !Unhappy(d.GetProperty("context"))).Should().BeEmpty();
        drafts.Should().OnlyContain(d => d.GetProperty("note").GetString() == "drawn where thumbs = down or escalated");

        // And the plain draw of the same window is still possible beside it
        (await CliRunner.RunAsync("sample", "--pool", "shadow", "--dry-run", "-p", _sample.Folder)).Out.Should().NotContain("matching --where");
    }

    private static bool Unhappy(JsonElement context) =>
        (context.TryGetProperty("thumbs", out var thumbs) && thumbs.GetInt32() == -1) || (context.TryGetProperty("escalated", out var escalated) && escalated.GetBoolean());

    [Fact]
    public async Task A_malformed_where_is_refused_at_its_column_before_anything_is_read()
    {
        // When sample is given an expression with a typo in a field name
        var result = await CliRunner.RunAsync("sample", "--where", "thumbs = down or escalatd", "-p", _sample.Folder);

        // Then it stops with the column, the nearest field, and a caret under the place
        result.Code.Should().Be(2);
        result.Error.Should().Contain("--where, column 18: unknown field 'escalatd'").And.Contain("did you mean 'escalated'?");
        result.Error.Should().Contain("  thumbs = down or escalatd\n" + new string(' ', 19) + "^");
    }
}
