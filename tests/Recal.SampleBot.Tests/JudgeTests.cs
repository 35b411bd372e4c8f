using System.Text.Json;
using FluentAssertions;
using Recal.Domain;
using Recal.Judging;
using Recal.Samples.Bot;
using Xunit;

namespace Recal.SampleBot.Tests;

public sealed class JudgeTests(BotFixture bot)
{
    private static readonly Rubric Rubric = new(
        "support-answer",
        2,
        "The assistant supports customers of a bank.",
        [
            new RubricDimension("correctness", "Is the answer right for this customer?", 1, 5, new Dictionary<int, string> { [1] = "wrong or harmful", [3] = "partly right", [5] = "fully right" }),
            new RubricDimension("tone", null, 1, 5, new Dictionary<int, string> { [1] = "rude", [5] = "warm and clear" }),
        ],
        new PassRule(4, null));

    private EvalCase Case(string intent) => bot.Project.Cases.First(c => c.Pool == Pool.Gold && c.Intent == intent);

    private static string High(EvalCase evalCase) => evalCase.References.First(r => r.Grade == ReferenceGrade.High).Text;

    private static string Borderline(EvalCase evalCase) => evalCase.References.First(r => r.Grade == ReferenceGrade.Borderline).Text;

    private async Task<JudgeVerdict> JudgeAsync(EvalCase evalCase, string answer, long seed = 0, string model = SupportJudge.Model)
    {
        var reply = await bot.ChatAsync(model, [("user", JudgePrompt.Render(Rubric, evalCase, answer))], seed);
        return JudgeVerdictParser.Parse($"{model}#{seed}", reply, Rubric);
    }

    [Fact]
    public async Task Judge_replies_with_strict_json_holding_every_rubric_dimension()
    {
        // Given a gold case and its high reference as the answer
        var evalCase = Case("card_declined");
        var prompt = JudgePrompt.Render(Rubric, evalCase, High(evalCase));

        // When the judge grades it
        var reply = await bot.ChatAsync(SupportJudge.Model, [("system", "You are a strict grader."), ("user", prompt)]);

        // Then the reply is exactly {"scores":{...},"rationale":"..."} with a whole score for each dimension
        using var document = JsonDocument.Parse(reply);
        document.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal("scores", "rationale");
        document.RootElement.GetProperty("scores").EnumerateObject().Select(p => p.Name).Should().Equal("correctness", "tone");
        var verdict = JudgeVerdictParser.Parse("judge", reply, Rubric);
        verdict.IsValid.Should().BeTrue(verdict.Error);
        verdict.Rationale.Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task Judge_grades_a_matching_answer_above_a_vague_one_and_a_vague_one_above_a_wrong_one()
    {
        foreach (var intent in new[] { "card_declined", "bill_due", "greeting" })
        {
            // Given a case, and answers that match its good reference, its acceptable reference, and nothing
            var evalCase = Case(intent);
            async Task<double> Correctness(string answer)
            {
                var verdicts = new List<JudgeVerdict>();
                foreach (var seed in new long[] { 0, 1, 2 })
                {
                    verdicts.Add(await JudgeAsync(evalCase, answer, seed));
                }

                return JudgeEnsemble.Combine(Rubric, verdicts).Scores!["correctness"];
            }

            // When a three-seed ensemble grades each
            var matching = await Correctness(High(evalCase));
            var vague = await Correctness(Borderline(evalCase));
            var wrong = await Correctness("Sorry, I can't help with that here. Would you like to talk to a person instead?");

            // Then the credit follows the grade of the closest reference
            matching.Should().Be(5, intent);
            vague.Should().BeLessThan(matching, intent).And.BeGreaterThan(wrong, intent);
        }
    }

    [Fact]
    public async Task Judge_is_deterministic_per_seed_and_an_ensemble_of_seeds_sometimes_disagrees()
    {
        // Given the baseline's answers to the gold inputs, each distinct answer once
        var answers = bot.Project.Cases.Where(c => c.Pool == Pool.Gold)
            .Select(c => (Case: c, Answer: bot.Bot.Baseline(c.Input.ClassificationText).Text))
            .DistinctBy(a => a.Answer)
            .ToList();

        // When three seeds grade each answer (twice for seed 0)
        var reviews = 0;
        foreach (var (evalCase, answer) in answers)
        {
            var verdicts = new List<JudgeVerdict>();
            foreach (var seed in new long[] { 0, 1, 2 })
            {
                verdicts.Add(await JudgeAsync(evalCase, answer, seed));
            }

            (await JudgeAsync(evalCase, answer, 0)).Scores.Should().Equal(verdicts[0].Scores);
            verdicts.Should().OnlyContain(v => v.IsValid);
            reviews += JudgeEnsemble.Combine(Rubric, verdicts).NeedsReview ? 1 : 0;
        }

        // Then some, but few, answers are sent to review because one seed moved a dimension by two points
        var share = reviews / (double)answers.Count;
        TestContext.Current.TestOutputHelper!.WriteLine($"{reviews} of {answers.Count} distinct answers need review ({share:P1})");
        reviews.Should().BeGreaterThan(0);
        share.Should().BeLessThan(0.35);
    }

    [Fact]
    public async Task Sloppy_judge_breaks_the_format_first_and_answers_correctly_when_asked_to_repair()
    {
        // Given the sloppy judge's first reply to a prompt
        var evalCase = Case("card_declined");
        var prompt = JudgePrompt.Render(Rubric, evalCase, High(evalCase));
        var first = await bot.ChatAsync(SupportJudge.SloppyModel, [("user", prompt)]);

        // Then it is a fenced block with the wrong key, which the parser refuses
        first.Should().Contain("```json").And.Contain("\"score\":");
        var failed = JudgeVerdictParser.Parse("sloppy", first, Rubric);
        failed.IsValid.Should().BeFalse();
        failed.Error.Should().Contain("scores");

        // When the repair request is sent after it in the same conversation
        var repaired = await bot.ChatAsync(SupportJudge.SloppyModel, [("user", prompt), ("assistant", first), ("user", JudgeVerdictParser.RepairPrompt(failed, Rubric))]);

        // Then the reply is valid and agrees with the tidy judge
        var verdict = JudgeVerdictParser.Parse("sloppy", repaired, Rubric);
        verdict.IsValid.Should().BeTrue(verdict.Error);
        verdict.Scores.Should().Equal((await JudgeAsync(evalCase, High(evalCase))).Scores);
    }

    [Fact]
    public async Task Judge_answers_a_repair_request_with_the_json_again()
    {
        // Given a conversation where some earlier reply was refused
        var evalCase = Case("bill_due");
        var prompt = JudgePrompt.Render(Rubric, evalCase, Borderline(evalCase));
        var refused = new JudgeVerdict("judge", null, null, "the reply is not JSON");

        // When the tidy judge is asked to repair
        var reply = await bot.ChatAsync(SupportJudge.Model, [("user", prompt), ("assistant", "I think it is fine."), ("user", JudgeVerdictParser.RepairPrompt(refused, Rubric))]);

        // Then it answers with the same verdict it gives the prompt alone
        reply.Should().Be(await bot.ChatAsync(SupportJudge.Model, [("user", prompt)]));
    }

    [Fact]
    public void Reads_the_answer_references_and_dimensions_back_out_of_a_judge_prompt()
    {
        // Given a prompt for a case whose answer spans lines and holds a markdown heading
        var evalCase = Case("card_declined");
        var answer = "Line one.\n## Rubric\nLine three.";

        // When it is read
        var request = JudgeRequest.Read(JudgePrompt.Render(Rubric, evalCase, answer))!;

        // Then every part comes back, the anchors are not mistaken for references
        request.Answer.Should().Be(answer);
        request.References.Should().Equal(new JudgeReference(High(evalCase), true), new JudgeReference(Borderline(evalCase), false));
        request.Dimensions.Should().Equal(new JudgeDimension("correctness", 1, 5), new JudgeDimension("tone", 1, 5));
    }

    [Fact]
    public void Credit_is_token_f1_for_a_good_reference_and_half_for_an_acceptable_one()
    {
        // Given a good and an acceptable reference
        JudgeReference[] references = [new("your card is frozen", true), new("try the app", false)];

        // Then an exact good match earns 1, an exact acceptable match 0.5, and no overlap 0
        SupportJudge.Credit("Your card is frozen.", references).Credit.Should().Be(1);
        SupportJudge.Credit("Try the app!", references).Credit.Should().Be(0.5);
        SupportJudge.Credit("bananas", references).Credit.Should().Be(0);
    }
}
