using FluentAssertions;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Project;

public sealed class PolicyNarratorTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Narration_states_every_rule_of_the_policy_in_plain_words()
    {
        // Given the starter project with a fixed weight
        ProjectScaffolder.Scaffold(_folder.Path, "demo");
        var policyPath = Path.Combine(_folder.Path, "policy.yaml");
        File.WriteAllText(policyPath, File.ReadAllText(policyPath).Replace("weights: {}", "weights: {refund: 0.2}", StringComparison.Ordinal));
        var project = EvalProjectLoader.Load(_folder.Path).Project!;

        // When the policy is narrated
        var text = PolicyNarrator.Describe(project.Policy, project.Taxonomy);

        // Then each field shows up in words
        text.Should().StartWith("Sampling policy version 1.");
        text.Should().Contain("200 cases drawn from the last 4 weeks of traffic");
        text.Should().Contain("stratified by intent (3 in the taxonomy)");
        text.Should().Contain("Fixed weights apply to refund at 20%; every other stratum shares the remaining 80%");
        text.Should().Contain("at least 5 cases");
        text.Should().Contain("personal-data pattern");
        text.Should().Contain("user_type is internal or test");
        text.Should().Contain("95% similar");
        text.Should().Contain("shorter than 3 characters");
        text.Should().Contain("The holdout is a draw of its own, 20% of the size (40 cases) by the same strata and rules: it is drawn at every rotation, every 90 days (recal rotate, or recal sample --pool holdout), labelled, and sealed once labelled (recal holdout seal)");
        text.Should().Contain("Draws for gold and shadow seal nothing.");
        text.Should().Contain("every 90 days");
        text.Should().Contain("every week");
        text.Should().Contain("at least 1% of traffic for 3 consecutive cycles");
        text.Should().Contain("for 4 cycles");
        text.Should().Contain("valid_until");
        text.Should().Contain("newly pass after a model upgrade");
        text.Should().Contain("reference window").And.Contain("1% chance per window").And.Contain("Jensen–Shannon distance up 0.03").And.Contain("PSI up 0.1").And.Contain("lacks up 2%").And.Contain("p below 0.001");
    }

    [Fact]
    public void Narration_says_what_the_floors_make_of_a_size_they_exceed()
    {
        // Given the starter project (three intents and unknown, floor 5) with a size of 50: a holdout of 10
        ProjectScaffolder.Scaffold(_folder.Path, "demo");
        var policyPath = Path.Combine(_folder.Path, "policy.yaml");
        File.WriteAllText(policyPath, File.ReadAllText(policyPath).Replace("size: 200", "size: 50", StringComparison.Ordinal));
        var project = EvalProjectLoader.Load(_folder.Path).Project!;

        var text = PolicyNarrator.Describe(project.Policy, project.Taxonomy);

        // Then the set's size stands as written, and the holdout's says the floors take it to 20
        text.Should().Contain("The eval set holds 50 cases drawn from");
        text.Should().Contain("20% of the size (10 cases; floors apply per stratum, so the floor of 5 for each of 4 strata takes it to as many as 20)");
    }
}
