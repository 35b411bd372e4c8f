using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

public sealed class CommandLineTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-cmd-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task Help_lists_every_command()
    {
        var help = await CliRunner.RunAsync("--help");

        help.Code.Should().Be(0);
        help.Out.Should().Contain("init").And.Contain("validate").And.Contain("policy").And.Contain("ingest").And.Contain("drift");
    }

    [Fact]
    public async Task Mistyped_command_gets_the_nearest_spelling_and_exit_code_2()
    {
        var result = await CliRunner.RunAsync("drfit");

        result.Code.Should().Be(2);
        (result.Out + result.Error).Should().Contain("drift");
    }

    [Fact]
    public async Task Mistyped_option_gets_the_nearest_spelling()
    {
        var result = await CliRunner.RunAsync("drift", "--ovr", "weekly");

        result.Code.Should().Be(2);
        (result.Out + result.Error).Should().Contain("--over");
    }

    [Fact]
    public async Task Init_creates_a_project_that_validates_and_refuses_to_overwrite_it()
    {
        var init = await CliRunner.RunAsync("init", _folder, "--name", "demo");
        var validate = await CliRunner.RunAsync("validate", "--project", _folder);
        var again = await CliRunner.RunAsync("init", _folder);

        init.Code.Should().Be(0);
        File.ReadAllText(Path.Combine(_folder, ".gitignore")).Should().Contain(".recal/");
        validate.Code.Should().Be(0, validate.Out);
        again.Code.Should().Be(2);
        again.Error.Should().Contain("already exists");
    }

    [Fact]
    public async Task Validate_reports_located_errors_with_exit_code_1()
    {
        await CliRunner.RunAsync("init", _folder);
        var cases = Path.Combine(_folder, "cases", "gold.jsonl");
        File.WriteAllText(cases, File.ReadAllText(cases).Replace("\"pool\":\"gold\"", "\"pool\":\"gould\"", StringComparison.Ordinal));

        var validate = await CliRunner.RunAsync("validate", "--project", _folder);

        validate.Code.Should().Be(1);
        validate.Out.Should().MatchRegex(@"cases/gold\.jsonl:1:\d+.*error RC1007.*'gould'").And.Contain("did you mean 'gold'");
    }

    [Fact]
    public async Task Commands_on_a_folder_without_a_project_say_how_to_start()
    {
        Directory.CreateDirectory(_folder);

        var result = await CliRunner.RunAsync("policy", "--project", _folder);

        result.Code.Should().Be(2);
        result.Error.Should().Contain("recal init");
    }
}
