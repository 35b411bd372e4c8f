using FluentAssertions;
using Recal.Samples.Bot;
using Xunit;

namespace Recal.SampleBot.Tests;

/// <summary>
/// The gold-tuned model's lead is an artefact of the gold set: it wins on gold phrasings and loses on fresh ones
/// (measured: gold 82.5% v1, 100% v2; CLINC150 test 78.3% v1, 40.1% v2).
/// </summary>
public sealed class AccuracyTests(BotFixture bot)
{
    private IReadOnlyList<AccuracyFigure> Report()
    {
        var figures = IntentAccuracy.Report(bot.Bot, bot.Project, RepositoryPaths.Clinc150);
        foreach (var figure in figures)
        {
            TestContext.Current.TestOutputHelper!.WriteLine(figure.ToString());
        }

        return figures;
    }

    private static double Accuracy(IReadOnlyList<AccuracyFigure> figures, string model, string set) =>
        figures.Single(f => f.Model == model && f.Set == set).Accuracy;

    [Fact]
    public void Gold_tuned_model_beats_the_baseline_on_gold_inputs()
    {
        // When both models answer the gold inputs
        var figures = Report();

        // Then the tuned model is near perfect and clearly ahead
        var v1 = Accuracy(figures, SupportBot.BaselineModel, "gold inputs");
        var v2 = Accuracy(figures, SupportBot.GoldTunedModel, "gold inputs");
        v2.Should().BeGreaterThanOrEqualTo(0.98);
        v1.Should().BeInRange(0.70, 0.92);
        (v2 - v1).Should().BeGreaterThan(0.08);
    }

    [Fact]
    public void Baseline_beats_the_gold_tuned_model_on_the_clinc150_test_split()
    {
        // When both models answer CLINC150's test queries of the taxonomy's intents
        var figures = Report();

        // Then the baseline is well ahead overall, in scope and out of scope
        var v1 = Accuracy(figures, SupportBot.BaselineModel, "clinc150 test");
        var v2 = Accuracy(figures, SupportBot.GoldTunedModel, "clinc150 test");
        v1.Should().BeGreaterThan(0.72);
        v2.Should().BeLessThan(0.50);
        (v1 - v2).Should().BeGreaterThan(0.25);
        (Accuracy(figures, SupportBot.BaselineModel, "clinc150 test, in scope") - Accuracy(figures, SupportBot.GoldTunedModel, "clinc150 test, in scope"))
            .Should().BeGreaterThan(0.15);
        (Accuracy(figures, SupportBot.BaselineModel, "clinc150 test, out of scope") - Accuracy(figures, SupportBot.GoldTunedModel, "clinc150 test, out of scope"))
            .Should().BeGreaterThan(0.4);
    }

    [Fact]
    public void Gold_tuned_model_has_never_heard_of_intents_missing_from_gold()
    {
        // Then the tuned model knows no travel or auto intents and no out-of-scope class
        var domains = bot.Project.Taxonomy.Intents.ToDictionary(i => i.Name, i => i.Group);
        bot.Bot.GoldTunedIntents.Select(i => domains[i]).Should().NotContain(["travel", "auto_and_commute", "out_of_scope"]);
        bot.Bot.GoldTunedIntents.Should().OnlyContain(i => bot.Project.Cases.Any(c => c.Intent == i));
    }
}
