using FluentAssertions;
using Recal.Samples.Bot;
using Xunit;

namespace Recal.SampleBot.Tests;

public sealed class BotOptionsTests
{
    [Fact]
    public void Reads_every_option()
    {
        // When a full command line is parsed
        var options = BotOptions.Parse(["--project", "p", "--port", "8080", "--port-file", "f", "--latency-ms", "25"], out var error);

        // Then every value is taken
        error.Should().BeNull();
        options.Should().Be(new BotOptions("p", 8080, "f", TimeSpan.FromMilliseconds(25)));
    }

    [Fact]
    public void Defaults_to_any_free_port_and_no_delay()
    {
        BotOptions.Parse(["--project", "p"], out _).Should().Be(new BotOptions("p"));
    }

    [Theory]
    [InlineData(new[] { "--port", "1" }, "--project DIR is required")]
    [InlineData(new[] { "--project", "p", "--port", "x" }, "--port needs a whole number, got 'x'")]
    [InlineData(new[] { "--project", "p", "--port", "70000" }, "--port needs a whole number, got '70000'")]
    [InlineData(new[] { "--project", "p", "--latency-ms", "-5" }, "--latency-ms needs a whole number, got '-5'")]
    [InlineData(new[] { "--project", "p", "--verbose", "1" }, "unknown option '--verbose'")]
    [InlineData(new[] { "--project" }, "--project needs a value")]
    public void Says_what_is_wrong_with_a_bad_command_line(string[] args, string expected)
    {
        BotOptions.Parse(args, out var error).Should().BeNull();
        error.Should().Be(expected);
    }
}
