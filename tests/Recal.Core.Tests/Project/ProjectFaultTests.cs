using System.Text;
using FluentAssertions;
using Recal.Diagnostics;
using Recal.Project;
using Xunit;

namespace Recal.Core.Tests.Project;

/// <summary>Project files that once crashed the loader or passed as valid: each is now a located error.</summary>
public sealed class ProjectFaultTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public ProjectFaultTests() => ProjectScaffolder.Scaffold(_folder.Path, "demo").Should().BeEmpty();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData("recal.yaml", true)]
    [InlineData("taxonomy.yaml", true)]
    [InlineData("recal.yaml", false)]
    [InlineData("policy.yaml", false)]
    public void Nesting_past_the_documented_depth_is_a_located_error_not_a_stack_overflow(string file, bool flow)
    {
        // Given 100,000 nested lists (flow style) or 200 nested mappings (block style) appended to a project file
        var nested = flow
            ? "deep: " + new string('[', 100_000) + new string(']', 100_000) + "\n"
            : string.Concat(Enumerable.Range(0, 200).Select(i => new string(' ', i) + $"k{i}:\n")) + new string(' ', 200) + "leaf: 1\n";
        File.AppendAllText(Path.Combine(_folder.Path, file), "\n" + nested);

        // When the project loads
        var error = Single("RC1012");

        // Then the depth error names the file, the line of the level past the limit and the limit
        error.Location!.File.Should().EndWith(file);
        error.Location.Line.Should().BeGreaterThan(1);
        error.Message.Should().Contain(EvalProjectLoader.MaxYamlDepth.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("recal.yaml", "  timeout: 30s", "  timeout: 20000000d", "at most 1d")]
    [InlineData("recal.yaml", "  timeout: 30s", "  timeout: 2d", "at most 1d")]
    [InlineData("recal.yaml", "  cache_ttl: 30d", "  cache_ttl: 2147483647w", "at most 36500d")]
    [InlineData("policy.yaml", "refresh: 7d ", "refresh: 2147483647w ", "at most 36500d")]
    [InlineData("policy.yaml", "rotation: 90d ", "rotation: 9999999999d ", "at most 36500d")]
    [InlineData("policy.yaml", "traffic_window: 28d ", "traffic_window: 2147483647w ", "at most 36500d")]
    public void A_huge_duration_is_an_error_with_the_allowed_range(string file, string from, string to, string range)
    {
        if (!File.ReadAllText(Path.Combine(_folder.Path, file)).Contains(from, StringComparison.Ordinal))
        {
            File.AppendAllText(Path.Combine(_folder.Path, file), "\nrun:\n  timeout: 30s\n  cache_ttl: 30d\n");
        }

        Replace(file, from, to);

        var error = Single("RC1006");

        error.Location!.File.Should().Be(file);
        error.Message.Should().Contain(range);
        error.Hint.Should().StartWith("the allowed range is 1s to");
    }

    [Fact]
    public void A_byte_that_is_not_utf8_in_recal_yaml_is_a_located_error()
    {
        var path = Path.Combine(_folder.Path, "recal.yaml");
        var bytes = File.ReadAllBytes(path).ToList();
        var at = bytes.LastIndexOf((byte)'\n');
        bytes.InsertRange(at, Encoding.ASCII.GetBytes("\n# caf").Append((byte)0xE9));
        File.WriteAllBytes(path, [.. bytes]);

        var error = Single("RC1011");

        error.Location!.Line.Should().Be(File.ReadAllBytes(path).Take(at + 1).Count(b => b == '\n') + 1);
        error.Location.Column.Should().Be(6);
    }

    [Fact]
    public void A_byte_that_is_not_utf8_in_a_case_file_is_a_located_error_and_the_other_cases_load()
    {
        var path = Path.Combine(_folder.Path, "cases", "gold.jsonl");
        var lines = File.ReadAllLines(path);
        var bad = Encoding.UTF8.GetBytes(lines[1].Replace("stop charging", "stop charg\u0001", StringComparison.Ordinal)).Select(b => b == 1 ? (byte)0xC3 : b).ToArray();
        File.WriteAllBytes(path, [.. Encoding.UTF8.GetBytes(lines[0] + "\n"), .. bad, (byte)'\n', .. Encoding.UTF8.GetBytes(lines[2] + "\n")]);

        var result = EvalProjectLoader.Load(_folder.Path);

        var error = result.Diagnostics.Should().ContainSingle(d => d.Code == "RC1210").Subject;
        error.Location!.Line.Should().Be(2);
        error.Location.Column.Should().Be(lines[1].IndexOf("stop charging", StringComparison.Ordinal) + "stop charg".Length + 1);
    }

    [Fact]
    public void A_lone_surrogate_in_a_case_line_is_a_located_error()
    {
        Replace("cases/gold.jsonl", "stop charging me every month", "stop charging me \\ud800");

        var error = Single("RC1201");

        error.Location!.Line.Should().Be(2);
        error.Message.Should().Contain("lone surrogate");
    }

    [Fact]
    public void An_invalid_regex_in_an_assertion_is_a_located_error()
    {
        Replace("cases/gold.jsonl", "{\"type\":\"contains\",\"value\":\"refund\"}", "{\"type\":\"regex\",\"value\":\"(a+)+$[\"}");

        var error = Single("RC1006");

        error.Location!.Line.Should().Be(1);
        error.Message.Should().Contain("(a+)+$[").And.Contain("not a valid");
    }

    private Diagnostic Single(string code) => _folder.SingleDiagnostic(code);

    private void Replace(string file, string from, string to) => _folder.Replace(file, from, to);
}
