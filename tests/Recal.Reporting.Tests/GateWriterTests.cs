using System.Xml.Linq;
using System.Xml.Schema;
using FluentAssertions;
using Recal.Decisions;
using Recal.Domain;
using Recal.Reporting.Decisions;
using Recal.Running;
using Recal.Statistics;
using Xunit;

namespace Recal.Reporting.Tests;

public sealed class GateWriterTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private static GateReport Report(UnknownVerdict unknown)
    {
        RunInfo Run(string id, string target) => new(id, "demo", target, "{}", "s1", PoolSet.Parse("gold,shadow"), 10, null, Now, Now, RunStatus.Completed);
        var change = PairedProportion.Compare(3, 0, 2, 0);
        var policy = new GatePolicy { Unknown = unknown };
        GateResult[] gates =
        [
            new(GateEvaluator.Assertions, GateStatus.Skipped, "rule a", "no case has an assertion", "nothing to check"),
            new(GateEvaluator.GoldSegments, GateStatus.Unknown, "rule g", "gold 100% → 60%", "unknown: intent billing too few")
            {
                Segments = [new GateSegment("intent", "billing", GateStatus.Unknown, change, "too few cases to tell")],
            },
            new(GateEvaluator.Shadow, GateStatus.Fail, "rule s", "shadow 80% → 50%, 30 newly failing", "worse: 100%, a, b\nnext line"),
        ];
        return new GateReport(1, Run("r1", "base"), Run("r2", "cand"), 4, policy, gates, GateStatus.Fail, false);
    }

    [Theory]
    [InlineData(UnknownVerdict.Fail, 2, 1)]
    [InlineData(UnknownVerdict.Pass, 1, 3)]
    public void JUnit_output_matches_the_schema_ci_tools_read_and_follows_the_unknown_setting(UnknownVerdict unknown, int failures, int skipped)
    {
        var xml = GateWriters.ToJunit(Report(unknown));

        var schemas = new XmlSchemaSet();
        schemas.Add(null, Path.Combine(RepositoryRoot(), "docs", "schemas", "junit.xsd"));
        var document = XDocument.Parse(xml);
        var problems = new List<string>();
        document.Validate(schemas, (_, e) => problems.Add(e.Message));
        problems.Should().BeEmpty();

        // One test case per gate and one per segment not passing
        var cases = document.Descendants("testcase").ToList();
        cases.Select(c => c.Attribute("name")!.Value).Should().Equal("assertions", "gold segments", "intent billing", "shadow");
        cases.Count(c => c.Element("failure") is not null).Should().Be(failures + (unknown == UnknownVerdict.Fail ? 1 : 0));
        cases.Count(c => c.Element("skipped") is not null).Should().Be(skipped);
        document.Root!.Element("testsuite")!.Attribute("failures")!.Value.Should().Be(cases.Count(c => c.Element("failure") is not null).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void GitHub_annotations_escape_what_the_runner_reads_as_syntax()
    {
        var text = GateWriters.ToGitHubAnnotations(Report(UnknownVerdict.Pass));

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(2);
        lines[0].Should().StartWith("::warning title=recal gate%3A gold segments unknown::");
        lines[1].Should().StartWith("::error title=recal gate%3A shadow fail::").And.Contain("100%25").And.Contain("%0Anext line");
    }

    [Fact]
    public void The_markdown_names_the_decision_and_every_gate()
    {
        var markdown = GateWriters.ToMarkdown(Report(UnknownVerdict.Fail), explain: true);

        markdown.Should().StartWith("## Gate base → cand: fail").And.Contain("| shadow | fail |").And.Contain("| intent billing | unknown |").And.Contain("gold segments unknown (an unknown gate fails");
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Recal.slnx")) && !Directory.Exists(Path.Combine(directory.FullName, "docs", "schemas")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("no repository root above " + AppContext.BaseDirectory);
    }
}
