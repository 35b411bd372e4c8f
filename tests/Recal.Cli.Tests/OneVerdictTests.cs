using FluentAssertions;
using Recal.Project;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>recal status and recal check read one lifecycle clock: what one calls overdue the other calls drifting.</summary>
public sealed class OneVerdictTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-verdict-" + Guid.NewGuid().ToString("N")[..12]);

    public OneVerdictTests() => ProjectScaffolder.Scaffold(_folder, "demo").Should().BeEmpty();

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task An_overdue_refresh_is_overdue_in_status_and_drifting_in_check()
    {
        // Given a project whose last shadow refresh was long ago
        var gold = File.ReadAllLines(Path.Combine(_folder, "cases", "gold.jsonl"))[0];
        File.WriteAllText(Path.Combine(_folder, "cases", "shadow.jsonl"), gold.Replace("\"gold-0001\"", "\"shadow-0001\"").Replace("\"pool\":\"gold\"", "\"pool\":\"shadow\"").Replace("\"added\":\"2026-01-05\"", "\"added\":\"2020-01-01\"") + "\n");

        // When both commands look at it
        var status = await CliRunner.RunAsync("status", "-p", _folder);
        var check = await CliRunner.RunAsync("check", "-p", _folder);

        // Then both say so and both exit 1
        status.Code.Should().Be(1, status.Error);
        status.Out.Should().Contain("Shadow refresh: last 2020-01-01, next 2020-01-08 — overdue by");
        check.Code.Should().Be(1, check.Error);
        check.Out.Should().MatchRegex(@"drifting\s+lifecycle\s+shadow refresh overdue");
    }
}
