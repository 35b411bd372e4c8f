using FluentAssertions;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Judging;
using Xunit;

namespace Recal.Core.Tests.Judging;

public sealed class JudgingTests : IDisposable
{
    private const string RubricYaml = """
        name: support-answer
        version: 2
        instructions: The assistant supports customers of a bank.
        dimensions:
          - name: correctness
            description: Is the answer right for this customer?
            scale: [1, 5]
            anchors:
              1: wrong or harmful
              3: partly right, missing a needed step
              5: fully right and complete
          - name: tone
            scale: [1, 5]
            anchors: {1: rude or dismissive, 5: warm and clear}
        pass:
          all_at_least: 4
        """;

    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Rubric_loads_with_its_scales_anchors_and_version()
    {
        var rubric = Load(RubricYaml);

        rubric.Id.Should().Be("support-answer@v2");
        rubric.Dimensions.Select(d => (d.Name, d.Min, d.Max)).Should().Equal(("correctness", 1, 5), ("tone", 1, 5));
        rubric.Dimensions[0].Anchors[3].Should().Be("partly right, missing a needed step");
    }

    [Fact]
    public void Rubric_errors_are_located_and_all_reported()
    {
        var (rubric, diagnostics) = RubricLoader.Load(_folder.Write("bad.yaml", RubricYaml
            .Replace("scale: [1, 5]\n    anchors:\n      1: wrong", "scale: [5, 1]\n    anchors:\n      1: wrong", StringComparison.Ordinal)
            .Replace("anchors: {1: rude or dismissive, 5: warm and clear}", "anchors: {1: rude or dismissive, 7: too high}", StringComparison.Ordinal)
            .Replace("all_at_least: 4", "al_at_least: 4", StringComparison.Ordinal)), "rubrics/bad.yaml");

        rubric.Should().BeNull();
        diagnostics.Select(d => d.Code).Should().Contain(["RC1303", "RC1304", "RC1003"]);
        diagnostics.Should().OnlyContain(d => d.Location!.File == "rubrics/bad.yaml" && d.Location.Line > 0);
        diagnostics.Single(d => d.Code == "RC1003").Hint.Should().Contain("all_at_least");
    }

    [Fact]
    public void Prompt_carries_the_case_the_references_the_output_and_every_anchor()
    {
        var rubric = Load(RubricYaml);

        var prompt = JudgePrompt.Render(rubric, Case(), "Your card is frozen.");

        prompt.Should().Contain("freeze my card").And.Contain("(good) I've frozen your card").And.Contain("Your card is frozen.");
        prompt.Should().Contain("- 3: partly right, missing a needed step").And.Contain("- 5: warm and clear");
        prompt.Should().Contain("\"correctness\": <1-5>").And.Contain("The assistant supports customers of a bank.");
    }

    [Fact]
    public void Strict_verdict_parsing_accepts_fenced_json_and_rejects_broken_replies()
    {
        var rubric = Load(RubricYaml);

        var ok = JudgeVerdictParser.Parse("j1", "```json\n{\"scores\": {\"correctness\": 4, \"tone\": 5}, \"rationale\": \"fine\"}\n```", rubric);
        var missing = JudgeVerdictParser.Parse("j2", "{\"scores\": {\"correctness\": 4}}", rubric);
        var outOfScale = JudgeVerdictParser.Parse("j3", "{\"scores\": {\"correctness\": 9, \"tone\": 4.5}}", rubric);
        var prose = JudgeVerdictParser.Parse("j4", "I think it is a 4.", rubric);

        ok.IsValid.Should().BeTrue();
        ok.Scores.Should().Equal(new Dictionary<string, int> { ["correctness"] = 4, ["tone"] = 5 });
        ok.Rationale.Should().Be("fine");
        missing.Error.Should().Contain("no score for 'tone'");
        outOfScale.Error.Should().Contain("outside 1–5").And.Contain("'tone' must be a whole number");
        prose.Error.Should().Contain("not JSON");
        JudgeVerdictParser.RepairPrompt(missing, rubric).Should().Contain("no score for 'tone'").And.Contain("\"tone\": <1-5>");
    }

    [Fact]
    public void Ensemble_takes_the_median_per_dimension_and_flags_judges_more_than_a_point_apart()
    {
        var rubric = Load(RubricYaml);
        var verdicts = new[]
        {
            Verdict("a", 5, 4), Verdict("b", 4, 4), Verdict("c", 2, 5),
        };

        var combined = JudgeEnsemble.Combine(rubric, verdicts);

        combined.Scores.Should().Equal(new Dictionary<string, double> { ["correctness"] = 4, ["tone"] = 4 });
        combined.Passed.Should().BeTrue();
        combined.NeedsReview.Should().BeTrue();
        combined.Disagreements.Should().Equal("correctness");
    }

    [Fact]
    public void Failed_judges_are_counted_and_an_ensemble_without_a_valid_verdict_never_passes()
    {
        var rubric = Load(RubricYaml);
        var broken = new JudgeVerdict("x", null, null, "the reply is not JSON");

        var oneGood = JudgeEnsemble.Combine(rubric, [broken, Verdict("a", 5, 3), Verdict("b", 4, 4)]);
        var noneGood = JudgeEnsemble.Combine(rubric, [broken, broken with { Judge = "y" }]);

        oneGood.Failures.Should().Be(1);
        oneGood.Scores!["correctness"].Should().Be(4.5);
        oneGood.Passed.Should().BeFalse("tone's median 3.5 is below all_at_least 4");
        noneGood.Passed.Should().BeFalse();
        noneGood.Scores.Should().BeNull();
        noneGood.Failures.Should().Be(2);
    }

    private Rubric Load(string yaml)
    {
        var (rubric, diagnostics) = RubricLoader.Load(_folder.Write("rubric.yaml", yaml));
        diagnostics.Should().BeEmpty();
        return rubric!;
    }

    private static JudgeVerdict Verdict(string judge, int correctness, int tone) =>
        new(judge, new Dictionary<string, int> { ["correctness"] = correctness, ["tone"] = tone }, null, null);

    private static EvalCase Case() =>
        new("c-1", TraceInput.FromText("freeze my card"), [new Reference("I've frozen your card.", ReferenceGrade.High)], [], "freeze_account",
            new Dictionary<string, string>(), null, new Provenance(ProvenanceKind.Manual), new DateOnly(2026, 1, 1), null, Pool.Gold, [], new SourceLocation("cases.jsonl", 1));
}
