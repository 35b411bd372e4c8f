using System.CommandLine;
using FluentAssertions;
using Spectre.Console;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// A process builds only the command its first argument names: that tree must parse every command line of that command
/// exactly as the whole tree does, and anything that needs the whole tree (help, a mistyped command) gets it.
/// </summary>
public sealed class CommandTreeTests
{
    private static readonly CliContext Quiet = new(
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }),
        AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) }));

    private static readonly string[] Names = [.. RecalCli.Build(Quiet).Subcommands.Select(c => c.Name)];

    [Fact]
    public void The_first_argument_naming_a_command_builds_that_command_alone()
    {
        Names.Should().OnlyHaveUniqueItems().And.Contain(["run", "ingest", "status", "judge-agreement"]);
        foreach (var name in Names)
        {
            RecalCli.Build(Quiet, [name, "--limit", "3"]).Subcommands.Select(c => c.Name).Should().Equal([name], "'{0}' names one command", name);
        }
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    [InlineData("--version")]
    [InlineData("@args.rsp")]
    public void Help_the_version_and_response_files_build_every_command(string token)
    {
        RecalCli.OnlyCommand(["run", token]).Should().BeNull();
        RecalCli.Build(Quiet, ["run", "-t", "bench", token]).Subcommands.Select(c => c.Name).Should().Equal(Names);
    }

    [Theory]
    [InlineData("drfit")]
    [InlineData("-p")]
    [InlineData("[diagram]")]
    [InlineData("Run")]
    public void A_first_argument_that_names_no_command_builds_every_command(string first)
    {
        RecalCli.OnlyCommand([first, "run"]).Should().BeNull();
        RecalCli.OnlyCommand([]).Should().BeNull();
        RecalCli.Build(Quiet, [first, "run"]).Subcommands.Should().HaveCount(Names.Length);
    }

    [Fact]
    public void Every_command_parses_alike_in_its_own_tree_and_in_the_whole_tree()
    {
        string[][] tails = [[], ["--bogus", "1"], ["-p", "somewhere", "--concurency", "4"], ["check"], ["extra", "words"], ["--pool", "gould"], ["--over", "fortnightly"], ["--limit", "x"]];
        foreach (var name in Names)
        {
            foreach (var tail in tails)
            {
                string[] args = [name, .. tail];
                var alone = RecalCli.Build(Quiet, args).Parse(args);
                var whole = RecalCli.Build(Quiet).Parse(args);

                RecalCli.UsageErrors(alone).Should().Equal(RecalCli.UsageErrors(whole), "'{0}' parses alike", string.Join(' ', args));
                alone.CommandResult.Command.Name.Should().Be(whole.CommandResult.Command.Name);
                Describe(alone).Should().Equal(Describe(whole), "'{0}' gives the same values", string.Join(' ', args));
            }
        }
    }

    /// <summary>Every option and argument the parse found, with its value as text.</summary>
    private static IEnumerable<string> Describe(ParseResult parse) =>
        parse.CommandResult.Children.Select(child => child switch
        {
            System.CommandLine.Parsing.OptionResult option => $"{option.Option.Name}={string.Join(',', option.Tokens.Select(t => t.Value))}",
            System.CommandLine.Parsing.ArgumentResult argument => $"{argument.Argument.Name}={string.Join(',', argument.Tokens.Select(t => t.Value))}",
            _ => child.ToString() ?? string.Empty,
        });
}
