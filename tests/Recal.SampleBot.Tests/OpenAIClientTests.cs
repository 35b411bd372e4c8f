using FluentAssertions;
using Microsoft.Extensions.AI;
using Recal.Domain;
using Recal.Judging;
using Recal.Providers.OpenAI;
using Recal.Running;
using Recal.Samples.Bot;
using Xunit;
using AIChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace Recal.SampleBot.Tests;

/// <summary>The bot through Recal's own OpenAI-compatible client (the OpenAI .NET SDK), as a run would call it.</summary>
public sealed class OpenAIClientTests(BotFixture bot)
{
    private OpenAICompatibleChatClient Client(string model) =>
        OpenAICompatibleChatClient.Create(new OpenAICompatibleSettings(new Uri(bot.Client.BaseAddress!.ToString().TrimEnd('/')), model)).Client!;

    [Fact]
    public async Task Sdk_reads_the_bots_completion_with_its_usage()
    {
        // When the baseline is asked through the SDK
        using var client = Client(SupportBot.BaselineModel);
        var response = await client.GetResponseAsync(
            [new AIChatMessage(ChatRole.User, "why was my card declined at the store")],
            new ChatOptions { Temperature = 0, MaxOutputTokens = 100, Seed = 1 },
            TestContext.Current.CancellationToken);

        // Then the answer, model and word-count usage come through
        response.Text.Should().StartWith("Here is how card declined works");
        response.ModelId.Should().Be(SupportBot.BaselineModel);
        response.FinishReason.Should().Be(ChatFinishReason.Stop);
        response.Usage!.InputTokenCount.Should().Be(8);
        response.Usage.OutputTokenCount.Should().Be(response.Text.Split(' ').Length);
    }

    [Fact]
    public async Task Sdk_gets_a_judge_verdict_the_parser_accepts()
    {
        // Given a judge prompt for a gold case
        var evalCase = bot.Project.Cases.First(c => c.Pool == Pool.Gold);
        var rubric = new Rubric("r", 1, null, [new RubricDimension("correctness", null, 0, 10, new Dictionary<int, string> { [0] = "wrong", [10] = "right" })], new PassRule(null, 5));

        // When the judge is asked through the SDK with a seed
        using var client = Client(SupportJudge.Model);
        var response = await client.GetResponseAsync(
            [new AIChatMessage(ChatRole.User, JudgePrompt.Render(rubric, evalCase, evalCase.References[0].Text))],
            new ChatOptions { Temperature = 0, Seed = 7 },
            TestContext.Current.CancellationToken);

        // Then the verdict is valid on the rubric's 0–10 scale
        var verdict = JudgeVerdictParser.Parse("judge", response.Text, rubric);
        verdict.IsValid.Should().BeTrue(verdict.Error);
        verdict.Scores!["correctness"].Should().BeInRange(8, 10);
    }

    [Fact]
    public async Task Sdk_sees_an_unknown_model_as_a_non_transient_404()
    {
        // When a model the bot does not serve is asked
        using var client = Client("gpt-4o");
        var call = () => client.GetResponseAsync([new AIChatMessage(ChatRole.User, "hi")], cancellationToken: TestContext.Current.CancellationToken);

        // Then the client reports a 404 that is not worth retrying
        var error = (await call.Should().ThrowAsync<TargetCallException>()).Which;
        error.Status.Should().Be(404);
        error.Transient.Should().BeFalse();
    }
}
