using System.Text.Json;
using System.Text.RegularExpressions;
using FluentAssertions;
using Recal.Reporting.Html;
using Recal.Reporting.Json;
using Xunit;

namespace Recal.Reporting.Tests;

public sealed class DriftWriterTests
{
    [Fact]
    public void Json_report_carries_its_format_version_and_snake_case_names()
    {
        // Given a report with an alarm
        var report = DriftReportFixture.Build(alarm: true);

        // When it is written as JSON
        using var json = JsonDocument.Parse(DriftJsonWriter.ToJson(report));

        // Then it is versioned, snake_case, and enums are lower-case strings
        var root = json.RootElement;
        root.GetProperty("format_version").GetInt32().Should().Be(3);
        root.GetProperty("period").GetString().Should().Be("week");
        root.GetProperty("has_alarm").GetBoolean().Should().BeTrue();
        var intent = root.GetProperty("current").GetProperty("intent");
        intent.GetProperty("measures").GetProperty("js_distance").GetDouble().Should().Be(0.45);
        intent.GetProperty("strata")[1].GetProperty("status").GetString().Should().Be("missing");
        root.GetProperty("series").GetArrayLength().Should().Be(2);
    }

    [Fact]
    public void Json_report_writes_a_p_value_that_does_not_apply_as_null()
    {
        // Given a report whose test was not applicable
        var report = DriftReportFixture.Build(alarm: false);

        // When it is written as JSON
        using var json = JsonDocument.Parse(DriftJsonWriter.ToJson(report));

        // Then the p-value is null, not NaN (which JSON cannot carry)
        var test = json.RootElement.GetProperty("current").GetProperty("intent").GetProperty("measures").GetProperty("test");
        test.GetProperty("p_value").ValueKind.Should().Be(JsonValueKind.Null);
        json.RootElement.GetProperty("current").GetProperty("cohorts")[0].GetProperty("measures").ValueKind.Should().Be(JsonValueKind.Null);
    }

    [Fact]
    public void Json_report_is_byte_identical_for_the_same_report()
    {
        DriftJsonWriter.ToJson(DriftReportFixture.Build(true)).Should().Be(DriftJsonWriter.ToJson(DriftReportFixture.Build(true)));
    }

    [Fact]
    public void Html_report_is_self_contained_and_escapes_names()
    {
        // Given a report naming a stratum with markup in it
        var report = DriftReportFixture.Build(alarm: true);

        // When it renders as HTML
        var html = DriftHtmlWriter.Render(report);

        // Then there is no script, no external resource, and the name is escaped
        html.Should().NotContain("<script");
        Regex.IsMatch(html, "(src|href)=").Should().BeFalse();
        Regex.Matches(html, "https?://").Select(m => html.Substring(m.Index, 30)).Should().OnlyContain(s => s.StartsWith("http://www.w3.org/2000/svg", StringComparison.Ordinal));
        html.Should().Contain("book_flight &lt;script&gt;");
        html.Should().Contain("<svg");
        html.Should().Contain("ALARM missing_share");
    }

    [Fact]
    public void Html_report_says_plainly_when_no_alarm_fired()
    {
        var html = DriftHtmlWriter.Render(DriftReportFixture.Build(alarm: false));

        html.Should().Contain("No alarm");
        html.Should().NotContain("ALARM ");
    }
}
