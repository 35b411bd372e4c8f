using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

public sealed class JudgeAgreementCommandTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("recal-agreement-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Prints_accuracy_kappa_and_intervals_per_segment_and_locates_bad_lines()
    {
        // Given labelled judgments with a known kappa (0.6 overall) and one broken line
        var lines = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            lines.Add($$"""{"id":"p{{i}}","segment":"billing","human":"pass","judge":"pass"}""");
            lines.Add($$"""{"id":"f{{i}}","segment":"travel","human":"fail","judge":"fail"}""");
        }

        lines.Add("""{"id":"x1","segment":"billing","human":"pass","judge":"fail"}""");
        lines.Add("""{"id":"x2","segment":"travel","human":"fail","judge":"pass"}""");
        lines.Add("""{"id":"broken","human":"pass"}""");
        var file = Path.Combine(_folder, "labels.jsonl");
        await File.WriteAllLinesAsync(file, lines, TestContext.Current.CancellationToken);

        // When the command runs
        var result = await CliRunner.RunAsync("judge-agreement", file);

        // Then the table carries the figures with their intervals, small segments are marked, and the bad line is reported with its number
        result.Code.Should().Be(1);
        result.Out.Should().MatchRegex(@"\(all\)\s+10 \(small\)\s+0\.800\s+0\.490–0\.943\s+0\.600\s+");
        result.Out.Should().Contain("billing").And.Contain("travel").And.Contain("small samples (fewer than 30 items)");
        result.Error.Should().Contain(":11").And.Contain("RC1401");
    }

    [Fact]
    public async Task Several_pairwise_judges_are_reported_side_by_side_in_json_that_follows_its_schema_and_in_markdown()
    {
        // Given three judges of the same pairs, one biased towards the first-shown answer, as one JSON document
        var items = new List<object>();
        for (var i = 0; i < 40; i++)
        {
            var human = i % 3 == 0 ? "B" : "A";
            var other = human == "A" ? "B" : "A";
            items.Add(new { id = $"q{i}", segment = i < 20 ? "coding" : "writing", human, judges = new Dictionary<string, object?>
            {
                ["careful"] = new { judge = human, judge_swapped = other },
                ["first-lover"] = new { judge = "A", judge_swapped = "A" },
                ["sloppy"] = new { judge = i % 5 == 0 ? other : human, judge_swapped = i % 7 == 0 ? null : other },
            } });
        }

        var file = Path.Combine(_folder, "pairs.json");
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { items }, new JsonSerializerOptions { WriteIndented = true }), TestContext.Current.CancellationToken);
        var json = Path.Combine(_folder, "agreement.json");
        var markdown = Path.Combine(_folder, "agreement.md");

        // When the command runs
        var result = await CliRunner.RunAsync("judge-agreement", file, "--json", json, "--markdown", markdown);

        // Then every judge has its own rows, the biased one picks the first-shown answer every time, and the judges are compared
        result.Code.Should().Be(0, result.Error);
        result.Out.Should().Contain("Judge careful against human labels").And.Contain("Presentation order, judge first-lover").And.Contain("Fleiss' κ over the 40 items");
        var text = await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken);
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(SampleProject.FindRepositoryRoot(), "docs", "schemas", "judge-agreement.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(text).Should().BeEmpty();
        var root = JsonDocument.Parse(text).RootElement;
        root.GetProperty("judges").EnumerateArray().Select(j => j.GetString()).Should().Equal("careful", "first-lover", "sloppy");
        var rows = root.GetProperty("rows").EnumerateArray().ToList();
        rows.Should().HaveCount(9).And.OnlyContain(r => r.GetProperty("judge").GetString() != "(all)");
        var biased = rows.Single(r => r.GetProperty("judge").GetString() == "first-lover" && r.GetProperty("segment").GetString() == "(all)");
        biased.GetProperty("position_bias").GetProperty("share").GetDouble().Should().Be(1);
        biased.GetProperty("position_bias").GetProperty("first_both_times").GetInt64().Should().Be(40);
        biased.GetProperty("position_consistency").GetDouble().Should().Be(0);
        var careful = rows.Single(r => r.GetProperty("judge").GetString() == "careful" && r.GetProperty("segment").GetString() == "(all)");
        careful.GetProperty("correct_in_both_orders").GetInt64().Should().Be(40);
        root.GetProperty("between_judges").GetArrayLength().Should().Be(3);
        root.GetProperty("fleiss").GetProperty("items").GetInt64().Should().Be(40);
        (await File.ReadAllTextAsync(markdown, TestContext.Current.CancellationToken)).Should().Contain("## Judge sloppy against human labels").And.Contain("| (all) | 40 |");
    }

    [Fact]
    public async Task Labels_differing_only_in_case_fail_loudly_with_their_line_unless_folded()
    {
        // Given a judge that writes a/b where the humans wrote A/B
        var file = Path.Combine(_folder, "case.jsonl");
        await File.WriteAllLinesAsync(file, Enumerable.Range(0, 12).Select(i => $$"""{"id":"q{{i}}","human":"{{(i % 2 == 0 ? "A" : "B")}}","judge":"{{(i % 2 == 0 ? "a" : "b")}}"}"""), TestContext.Current.CancellationToken);

        // When the command runs as it is, and with --ignore-case
        var strict = await CliRunner.RunAsync("judge-agreement", file);
        var folded = await CliRunner.RunAsync("judge-agreement", file, "--ignore-case");

        // Then the first names the file, line, spelling and the fix, and counts the verdicts as unparsed; the second agrees fully
        strict.Code.Should().Be(1);
        strict.Error.Should().Contain("case.jsonl:1").And.Contain("RC1405").And.Contain("'a' (6 times)").And.Contain("--ignore-case");
        folded.Code.Should().Be(0, folded.Error);
        folded.Out.Should().MatchRegex(@"\(all\)\s+12 \(small\)\s+1\.000");
    }
}
