using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>Usage mistakes get one line each with the nearest valid spelling, never the .NET type or the whole help.</summary>
public sealed class UsageErrorTests
{
    [Fact]
    public async Task A_mistyped_command_names_the_command_meant_and_nothing_else()
    {
        var (code, output, error) = await CliRunner.RunAsync("drfit");

        code.Should().Be(2);
        error.Trim().Split('\n').Select(l => l.Trim()).Should().Equal(
            "error: 'drfit' is not a command of 'recal'; did you mean 'drift'?",
            "Run recal --help for the commands and options.");
        (output + error).Should().NotContain("Required command").And.NotContain("Description:");
    }

    [Fact]
    public async Task A_mistyped_pool_lists_the_pools_in_lower_case_without_the_type_name()
    {
        var (code, _, error) = await CliRunner.RunAsync("sample", "--pool", "gould");

        code.Should().Be(2);
        error.Should().Contain("error: --pool: 'gould' is not one of gold, holdout, shadow, retired; did you mean 'gold'?");
        error.Should().NotContain("Recal.Domain").And.NotContain("Description:");
    }

    [Fact]
    public async Task A_mistyped_option_and_a_bad_choice_are_each_named()
    {
        var (code, _, error) = await CliRunner.RunAsync("drift", "--ovr", "weekly");
        var choice = await CliRunner.RunAsync("drift", "--over", "fortnightly");

        code.Should().Be(2);
        error.Should().Contain("'--ovr' is not an option of 'recal drift'; did you mean '--over'?");
        choice.Error.Should().Contain("Argument 'fortnightly' not recognized. Must be one of: 'daily', 'weekly', 'monthly'");
    }

    [Fact]
    public async Task A_command_group_without_its_command_lists_them()
    {
        var (code, _, error) = await CliRunner.RunAsync("store");

        code.Should().Be(2);
        error.Should().Contain("'recal store' needs a command: check");
    }

    [Fact]
    public async Task Help_states_each_default_once_in_lower_case()
    {
        var (_, output, _) = await CliRunner.RunAtWidthAsync(200, "sample", "--help");

        output.Should().Contain("--pool <gold|holdout|shadow|retired>").And.Contain("(default: shadow)");
        output.Should().NotContain("[default: Shadow]");
    }
}
