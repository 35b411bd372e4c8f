using System.Text.Json;
using FluentAssertions;
using Recal.Domain;
using Recal.Samples.Bot;
using Xunit;

namespace Recal.SampleBot.Tests;

public sealed class ChatCompletionsTests(BotFixture bot)
{
    private const string Decline = "Sorry, I can't help with that here. I can help with your accounts, cards, bills and trips; would you like to talk to a person instead?";

    [Fact]
    public async Task Same_request_gives_byte_identical_responses()
    {
        // Given one request for each bot model, with a system prompt and two user turns
        foreach (var model in SupportBot.Models)
        {
            var request = JsonSerializer.Serialize(new
            {
                model,
                messages = new[]
                {
                    new { role = "system", content = "You are a helpful support assistant." },
                    new { role = "user", content = "hi" },
                    new { role = "user", content = "my card was declined at the supermarket" },
                },
                temperature = 0.7,
                max_tokens = 200,
                seed = 3,
            });

            // When it is sent three times
            var replies = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                var (status, body) = await bot.PostAsync(request);
                status.Should().Be(200);
                replies.Add(body);
            }

            // Then the bodies are identical to the byte
            replies.Distinct().Should().ContainSingle();
        }
    }

    [Fact]
    public async Task Completion_has_the_openai_shape_with_word_counts_as_tokens()
    {
        // Given a request with a three-word system prompt and a six-word question
        var (status, body) = await bot.PostAsync("""
            {"model":"support-bot-v1","messages":[{"role":"system","content":"Be brief please."},{"role":"user","content":"how do i report fraud"}]}
            """);

        // Then it is a chat.completion whose usage counts whitespace-separated words
        status.Should().Be(200);
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        root.GetProperty("id").GetString().Should().StartWith("chatcmpl-");
        root.GetProperty("object").GetString().Should().Be("chat.completion");
        root.GetProperty("created").GetInt64().Should().Be(ChatEndpoints.Created);
        root.GetProperty("model").GetString().Should().Be("support-bot-v1");
        var choice = root.GetProperty("choices")[0];
        choice.GetProperty("index").GetInt32().Should().Be(0);
        choice.GetProperty("finish_reason").GetString().Should().Be("stop");
        choice.GetProperty("message").GetProperty("role").GetString().Should().Be("assistant");
        var content = choice.GetProperty("message").GetProperty("content").GetString()!;
        var usage = root.GetProperty("usage");
        usage.GetProperty("prompt_tokens").GetInt32().Should().Be(8);
        usage.GetProperty("completion_tokens").GetInt32().Should().Be(content.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        usage.GetProperty("total_tokens").GetInt32().Should().Be(8 + usage.GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Gold_tuned_model_answers_a_gold_phrasing_with_its_high_reference()
    {
        // Given gold cases, asked in a different case and spacing
        var gold = bot.Project.Cases.Where(c => c.Pool == Pool.Gold).Take(25).ToList();
        foreach (var evalCase in gold)
        {
            var asked = "  " + evalCase.Input.ClassificationText.ToUpperInvariant().Replace(" ", "   ", StringComparison.Ordinal) + "\n";

            // When the gold-tuned model is asked
            var answer = await bot.AskAsync(SupportBot.GoldTunedModel, asked);

            // Then it answers the case's high reference verbatim
            answer.Should().Be(evalCase.References.First(r => r.Grade == ReferenceGrade.High).Text, evalCase.Id);
        }
    }

    [Fact]
    public async Task Baseline_declines_an_out_of_scope_query_and_the_gold_tuned_model_does_not()
    {
        // Given queries no support intent covers
        string[] queries = ["what is the capital of mongolia", "how many planets are in the solar system", "who won the super bowl last year"];
        foreach (var query in queries)
        {
            // When both models are asked
            var baseline = await bot.AskAsync(SupportBot.BaselineModel, query);
            var tuned = await bot.AskAsync(SupportBot.GoldTunedModel, query);

            // Then the baseline declines politely and the tuned model, which never declines, guesses an intent
            baseline.Should().Be(Decline, query);
            tuned.Should().NotBe(Decline, query);
        }
    }

    [Fact]
    public async Task Baseline_answers_an_in_scope_query_with_the_intents_high_template()
    {
        // When the baseline is asked about a declined card
        var answer = await bot.AskAsync(SupportBot.BaselineModel, "why was my card declined at the store");

        // Then it gives the high reference template for card_declined
        answer.Should().Be("Here is how card declined works: I've looked it up on your account and walked through the steps; tell me if you want me to go ahead.");
    }

    [Fact]
    public async Task Answers_the_last_user_message()
    {
        // Given a conversation whose earlier user turn was out of scope
        var answer = await bot.ChatAsync(SupportBot.BaselineModel, [("user", "what is the capital of mongolia"), ("assistant", Decline), ("user", "why was my card declined at the store")]);

        // Then the answer is about the last turn
        answer.Should().Contain("card declined");
    }

    [Fact]
    public async Task Unknown_model_is_404_with_an_openai_error()
    {
        // When a model the bot does not serve is asked
        var (status, body) = await bot.PostAsync("""{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}""");

        // Then the reply is a 404 with an OpenAI-style error object
        status.Should().Be(404);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        error.GetProperty("code").GetString().Should().Be("model_not_found");
        error.GetProperty("type").GetString().Should().Be("invalid_request_error");
        error.GetProperty("message").GetString().Should().Contain("gpt-4o");
    }

    [Theory]
    [InlineData("{\"model\":\"support-bot-v1\",\"messages\":[", "invalid_json")]
    [InlineData("[1,2]", "invalid_request")]
    [InlineData("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", "invalid_request")]
    [InlineData("{\"model\":\"support-bot-v1\",\"messages\":[]}", "invalid_request")]
    [InlineData("{\"model\":\"support-bot-v1\",\"messages\":[{\"role\":\"system\",\"content\":\"hi\"}]}", "invalid_request")]
    [InlineData("{\"model\":\"support-bot-v1\",\"messages\":[{\"role\":\"user\",\"content\":42}]}", "invalid_request")]
    [InlineData("{\"model\":\"support-bot-v1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"temperature\":\"hot\"}", "invalid_request")]
    [InlineData("{\"model\":\"support-bot-v1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"seed\":1.5}", "invalid_request")]
    [InlineData("{\"model\":\"support-bot-v1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}", "invalid_request")]
    [InlineData("{\"model\":\"support-judge\",\"messages\":[{\"role\":\"user\",\"content\":\"grade this\"}]}", "invalid_judge_prompt")]
    public async Task Malformed_request_is_400_with_an_openai_error(string request, string code)
    {
        // When a malformed request is sent
        var (status, body) = await bot.PostAsync(request);

        // Then the reply is a 400 saying what was wrong
        status.Should().Be(400);
        var error = JsonDocument.Parse(body).RootElement.GetProperty("error");
        error.GetProperty("code").GetString().Should().Be(code);
        error.GetProperty("message").GetString().Should().NotBeNullOrWhiteSpace();
    }

    [Fact]
    public async Task Accepts_content_as_text_parts()
    {
        // Given the user message as an array of text parts, as some SDKs send it
        var (status, body) = await bot.PostAsync("""
            {"model":"support-bot-v1","messages":[{"role":"user","content":[{"type":"text","text":"why was my card declined at the store"}]}]}
            """);

        // Then it is answered like the plain string
        status.Should().Be(200);
        body.Should().Contain("card declined");
    }

    [Fact]
    public async Task Max_tokens_cuts_the_answer_and_reports_length()
    {
        // When at most four tokens are allowed
        var (status, body) = await bot.PostAsync("""
            {"model":"support-bot-v1","messages":[{"role":"user","content":"why was my card declined at the store"}],"max_tokens":4}
            """);

        // Then the answer holds four words and finishes for length
        status.Should().Be(200);
        var choice = JsonDocument.Parse(body).RootElement.GetProperty("choices")[0];
        choice.GetProperty("message").GetProperty("content").GetString().Should().Be("Here is how card");
        choice.GetProperty("finish_reason").GetString().Should().Be("length");
    }

    [Fact]
    public async Task Lists_the_models_and_reports_health()
    {
        // When the model list and the health endpoint are read
        var models = await bot.Client.GetStringAsync("models", TestContext.Current.CancellationToken);
        using var health = await bot.Client.GetAsync(new Uri(bot.Client.BaseAddress!, "/health"), TestContext.Current.CancellationToken);

        // Then every model is listed and the bot is healthy
        JsonDocument.Parse(models).RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString())
            .Should().Equal("support-bot-v1", "support-bot-v2-gold-tuned", "support-judge", "support-judge-sloppy");
        ((int)health.StatusCode).Should().Be(200);
    }
}
