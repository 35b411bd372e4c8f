using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

public sealed class JudgeAgreementCommandTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), "recal-agreement-" + Guid.NewGuid().ToString("N")[..12] + ".jsonl");

    public void Dispose() => File.Delete(_file);

    [Fact]
    public async Task Prints_accuracy_kappa_and_position_consistency_per_segment_and_locates_bad_lines()
    {
        // Given labelled judgments with a known kappa (0.6 overall) and one broken line
        var lines = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            lines.Add($$"""{"id":"p{{i}}","segment":"billing","human":"pass","judge":"pass"}""");
            lines.Add($$"""{"id":"f{{i}}","segment":"travel","human":"fail","judge":"fail"}""");
        }

        lines.Add("""{"id":"x1","segment":"billing","human":"pass","judge":"fail"}""");
        lines.Add("""{"id":"x2","segment":"travel","human":"fail","judge":"pass"}""");
        lines.Add("""{"id":"broken","human":"pass"}""");
        await File.WriteAllLinesAsync(_file, lines, TestContext.Current.CancellationToken);

        // When the command runs
        var result = await CliRunner.RunAsync("judge-agreement", _file);

        // Then the table carries the figures, and the bad line is reported with its number
        result.Code.Should().Be(1);
        result.Out.Should().MatchRegex(@"\(all\)\s+10\s+0\.800\s+0\.600");
        result.Out.Should().Contain("billing").And.Contain("travel");
        result.Error.Should().Contain(":11").And.Contain("RC1401");
    }
}
