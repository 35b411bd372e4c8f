using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>No surprises in sampling: floors and sizes, the holdout, weights, and the labelling CSV say what they do.</summary>
public sealed class SamplingSurprisesTests : IDisposable
{
    private readonly SampleProject _sample = new();

    public void Dispose() => _sample.Dispose();

    private Task<(int Code, string Out, string Error)> Recal(params string[] args) => CliRunner.RunAsync([.. args, "--project", _sample.Folder]);

    [Fact]
    public async Task A_size_below_the_floors_is_said_before_the_draw_with_the_arithmetic_in_the_terminal_and_the_json()
    {
        // Given the sample's traffic (106 intents and unknown, floor 3, size 500)
        (await Recal("ingest", _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        // When a draw of 20 is asked for, as a dry run with a JSON report
        var json = _sample.PathOf("out/sample.json");
        var dryRun = await Recal("sample", "--size", "20", "--seed", "1", "--dry-run", "--json", json);

        // Then the notice comes first, with the policy's own rule and numbers
        dryRun.Code.Should().Be(0, dryRun.Error);
        dryRun.Error.Should().Contain("warning RC1106: a floor of 3 case(s) for each of 107 strata needs 321 cases, more than --size 20")
            .And.Contain("raise --size to at least 321");

        // And the arithmetic precedes the table: the size, the floors, the sum drawn and why
        dryRun.Out.Should().Contain("Size 20 (--size; the policy's size is 500), shared out by the target weights.")
            .And.Contain("Floor 3 per stratum: 107 strata × 3 = 321; all 107 have a smaller target and are raised to it: +301.")
            .And.Contain("To draw: 20 + 301 = 321 cases, 301 more than the size asked for: floors apply per stratum");
        dryRun.Out.IndexOf("To draw:", StringComparison.Ordinal).Should().BeLessThan(dryRun.Out.IndexOf("stratum ", StringComparison.Ordinal));
        dryRun.Out.Should().Contain("Dry run: 321 drafts would be written; nothing was.");

        // And the JSON report carries the same numbers, lines and notice, valid by its schema
        var text = await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken);
        var schema = await NJsonSchema.JsonSchema.FromFileAsync(Path.Combine(_sample.RepositoryRoot, "docs", "schemas", "sample-report.schema.json"), TestContext.Current.CancellationToken);
        schema.Validate(text).Should().BeEmpty();
        using var report = JsonDocument.Parse(text);
        var arithmetic = report.RootElement.GetProperty("arithmetic");
        arithmetic.GetProperty("floors_need").GetInt32().Should().Be(321);
        arithmetic.GetProperty("allocated").GetInt32().Should().Be(321);
        arithmetic.GetProperty("floors_exceed_size").GetBoolean().Should().BeTrue();
        arithmetic.GetProperty("explanation").EnumerateArray().Select(l => l.GetString()).Should().Contain(l => l!.StartsWith("To draw: 20 + 301 = 321 cases", StringComparison.Ordinal));
        report.RootElement.GetProperty("notices")[0].GetProperty("code").GetString().Should().Be("RC1106");
        report.RootElement.GetProperty("drawn").GetInt32().Should().Be(321);
        report.RootElement.GetProperty("dry_run").GetBoolean().Should().BeTrue();

        // And the real draw writes what the dry run announced, and names its draft file in the JSON
        var draw = await Recal("sample", "--size", "20", "--seed", "1", "--json", json);
        draw.Code.Should().Be(0, draw.Error);
        draw.Out.Should().Contain("321 drafts written to drafts/shadow-20260823-s1.jsonl");
        using var written = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        written.RootElement.GetProperty("drafts_file").GetString().Should().Be(Path.Combine("drafts", "shadow-20260823-s1.jsonl"));
    }

    [Fact]
    public async Task The_policy_and_the_draws_say_the_same_about_the_holdout_a_draw_of_its_own_sealed_once_labelled()
    {
        // Given the sample's traffic and its policy (holdout_fraction 0.2 of 500)
        (await Recal("ingest", _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);

        // When the policy is printed, and a gold and a holdout draw are shown
        var policy = await Recal("policy");
        var gold = await Recal("sample", "--pool", "gold", "--seed", "2", "--dry-run");
        var holdout = await Recal("sample", "--pool", "holdout", "--seed", "2", "--dry-run");

        // Then the policy states when the holdout is drawn and sealed, and that other draws seal nothing
        string.Join(' ', policy.Out.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Should()
            .Contain("The holdout is a draw of its own, 20% of the size (100 cases; floors apply per stratum, so the floor of 3 for each of 107 strata takes it to as many as 321)")
            .And.Contain("it is drawn at every rotation, every 12 weeks (recal rotate, or recal sample --pool holdout), labelled, and sealed once labelled (recal holdout seal)")
            .And.Contain("Draws for gold and shadow seal nothing.")
            .And.NotContain("of every draw is sealed");

        // And the gold draw says that nothing of it is sealed, and how the holdout is made
        gold.Code.Should().Be(0, gold.Error);
        string.Join(' ', gold.Out.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Should()
            .Contain("Nothing of this draw is sealed: the policy's holdout (20% of the size, 100 cases) is a draw of its own: recal sample --pool holdout (or recal rotate), label it, then recal holdout seal.");

        // And a holdout draw is the policy's holdout size by default, with the floors' notice and arithmetic
        holdout.Code.Should().Be(0, holdout.Error);
        holdout.Out.Should().Contain("Size 100 (the policy's holdout: 20% of its size 500), shared out by the target weights.")
            .And.NotContain("Nothing of this draw is sealed");
        holdout.Error.Should().Contain("warning RC1106: a floor of 3 case(s) for each of 107 strata needs 321 cases, more than the holdout's size (size × holdout_fraction) 100");
    }

    [Fact]
    public async Task A_size_below_the_floors_gets_one_rule_and_one_message_in_the_policy_and_on_the_command_line()
    {
        // Given the sample with a little traffic
        (await Recal("ingest", _sample.PathOf("traffic/broken-sample.jsonl"))).Code.Should().Be(0);

        // When --size 300 is asked for with the policy's floors, and then the policy itself says size: 300
        var command = await Recal("sample", "--size", "300", "--dry-run");
        File.WriteAllText(_sample.PathOf("policy.yaml"), File.ReadAllText(_sample.PathOf("policy.yaml")).Replace("size: 500", "size: 300", StringComparison.Ordinal));
        var validate = await Recal("validate");
        var policyDraw = await Recal("sample", "--dry-run");

        // Then neither is refused: both are the notice RC1106, with the same words but for the size's name
        command.Code.Should().Be(0, command.Error);
        validate.Code.Should().Be(0, validate.Out + validate.Error);
        policyDraw.Code.Should().Be(0, policyDraw.Error);
        validate.Out.Should().Contain("1 warning(s)");
        static string Notice(string output) => string.Join(' ', output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)) is var flat && flat.IndexOf("warning RC1106", StringComparison.Ordinal) is >= 0 and var at
            ? flat[at..(flat.IndexOf("321", flat.IndexOf("raise", at, StringComparison.Ordinal), StringComparison.Ordinal) + 3)]
            : string.Empty;
        var fromCommand = Notice(command.Error);
        fromCommand.Should().Be("warning RC1106: a floor of 3 case(s) for each of 107 strata needs 321 cases, more than --size 300: floors apply per stratum and win over the size, so a draw in which every stratum has 3 eligible trace(s) holds at least 321 cases, not 300 to draw about 300, lower strata.floor to at most 2 or stratify by fewer keys; or raise --size to at least 321");
        Notice(validate.Out + validate.Error).Should().Be(fromCommand.Replace("--size", "the size", StringComparison.Ordinal));
        Notice(policyDraw.Error).Should().Be(fromCommand.Replace("--size", "the size", StringComparison.Ordinal));
        validate.Out.Should().Contain("policy.yaml:11:10: warning RC1106");
    }

    [Fact]
    public async Task Weights_over_one_are_refused_by_validate_as_the_docs_say_with_the_values_they_would_have_divided()
    {
        // Given the sample's policy with fixed weights summing to 1.3
        File.WriteAllText(_sample.PathOf("policy.yaml"), File.ReadAllText(_sample.PathOf("policy.yaml"))
            .Replace("weights: {out_of_scope: 0.03}", "weights: {out_of_scope: 0.7, balance: 0.6}", StringComparison.Ordinal));

        // When it is validated
        var validate = await Recal("validate");

        // Then it is an error at the weights, naming each and what they would be divided by their sum
        validate.Code.Should().Be(1);
        var text = string.Join(' ', (validate.Out + validate.Error).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        text.Should().Contain("policy.yaml:10:12: error RC1105: strata weights sum to 1.3 (balance 0.6 + out_of_scope 0.7), more than 1: weights are shares of the set, and Recal never rescales them")
            .And.Contain("lower them so they sum to at most 1; divided by 1.3 they would be balance: 0.462, out_of_scope: 0.538");

        // And the lifecycle page says the same, no longer that weights over 1 are scaled
        var page = File.ReadAllText(Path.Combine(_sample.RepositoryRoot, "docs", "lifecycle.md"));
        page.Should().NotContain("scaled down to 1").And.Contain("are never rescaled");
    }

    [Fact]
    public async Task The_label_CSV_names_each_drafts_trace_and_a_row_moved_onto_another_id_is_refused_on_import()
    {
        // Given drafts from the sample's traffic
        (await Recal("ingest", _sample.PathOf("traffic/broken-sample.jsonl"), _sample.PathOf("traffic/traffic.jsonl.gz"))).Code.Should().Be(0);
        (await Recal("sample", "--size", "5", "--seed", "3")).Code.Should().Be(0);
        var drafts = File.ReadAllLines(_sample.PathOf("drafts/shadow-20260823-s3.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();

        // When they are exported for labelling
        var csv = _sample.PathOf("out/to-label.csv");
        (await Recal("label", "export", "--csv", csv)).Code.Should().Be(0);

        // Then every row carries the trace id of its draft, next to the draft id
        var rows = global::Recal.Text.Csv.Read(new StringReader(File.ReadAllText(csv))).Select(r => r.Fields.ToList()).ToList();
        rows[0].Take(3).Should().Equal("id", "trace_id", "pool");
        rows.Skip(1).Select(r => (r[0], r[1])).Should().Equal(drafts.Select(d => (d.GetProperty("id").GetString()!, d.GetProperty("trace_id").GetString()!)));

        // And on import, a row labelled with another row's trace id is refused at its line; the rest import
        var reference = rows[0].IndexOf("reference_high");
        rows[1][reference] = "First answer.";
        rows[2][reference] = "Second answer.";
        rows[2][1] = rows[3][1];
        var labelled = _sample.PathOf("out/labelled.csv");
        File.WriteAllLines(labelled, rows.Select(r => global::Recal.Text.Csv.Line(r)));
        var import = await Recal("label", "import", labelled);
        import.Code.Should().Be(1);
        string.Join(' ', (import.Out + import.Error).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)).Should()
            .Contain($"labelled.csv:3:1 (case {rows[2][0]}): error RC1603: the row's trace_id '{rows[3][1]}' is not the trace draft '{rows[2][0]}' was drawn from");
        File.ReadAllText(_sample.PathOf("cases/shadow.jsonl")).Should().Contain(rows[1][1]).And.NotContain("Second answer.");
    }
}
