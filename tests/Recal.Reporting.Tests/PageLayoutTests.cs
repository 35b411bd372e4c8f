using FluentAssertions;
using Recal.Drift;
using Recal.Reporting.Html;
using Recal.Testing;
using Xunit;

namespace Recal.Reporting.Tests;

/// <summary>
/// The report pages laid out in headless Chromium at a phone's width (390 px) and a laptop's (1280 px): nothing wider
/// than the window, no table behind a sideways scroll, no text spilling out of its cell, no chart label cut off.
/// </summary>
public sealed class PageLayoutTests
{
    private const string LongIntent = "cancel_subscription_and_request_a_refund_for_the_annual_plan";

    [Fact]
    public async Task A_drift_page_with_long_intent_names_and_many_alarms_fits_a_phone_and_a_laptop()
    {
        // Given a drift report whose intents have long names and whose alarms are long sentences
        var report = DriftReportFixture.Build(alarm: true);
        var strata = report.Current.Intent.Strata.Select((s, i) => i == 1 ? s with { Stratum = LongIntent } : s).ToList();
        var current = report.Current with
        {
            Intent = report.Current.Intent with { Strata = strata },
            Alarms = [.. Enumerable.Range(0, 6).Select(i => new DriftAlarm("cohort_js_distance", $"plan_{i}", 0.3, 0.02, $"plan mix has moved: {LongIntent}_{i} is 57.3% of traffic against 30.2% in the reference window and 29.5% of the set"))],
        };
        report = report with { Current = current, Series = [report.Series[0], current] };

        // When it is laid out at both widths
        var problems = await PageLayout.ProblemsAsync([("drift.html", DriftHtmlWriter.Render(report))], TestContext.Current.CancellationToken);

        // Then everything fits
        problems.Should().BeEmpty();
    }

    [Fact]
    public async Task The_check_finds_a_page_that_scrolls_sideways_a_wide_table_and_a_cut_chart_label()
    {
        // Given a page laid out the way reports were before they fitted the window: a fixed 720 px chart with a label
        // hanging off its left edge, and a table of unbreakable cells in a scroll box
        var cells = string.Concat(Enumerable.Range(0, 12).Select(i => $"<td>{new string('x', 30)}{i}</td>"));
        var page = $"""
            <!DOCTYPE html><html><head><style>.wide{"{"}overflow-x:auto{"}"}</style></head><body>
            <h2>Runs</h2><div class="wide"><table><tr>{cells}</tr></table></div>
            <figure><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 720 100" width="720" height="100"><title>bars</title>
            <text x="182" y="20" text-anchor="end">{LongIntent}_{LongIntent}</text></svg></figure>
            <table><tr><td style="max-width:50px;overflow:hidden;white-space:nowrap">a cell far too long for its column</td></tr></table>
            </body></html>
            """;

        // When it is laid out
        var problems = await PageLayout.ProblemsAsync([("old.html", page)], TestContext.Current.CancellationToken);

        // Then the check names each problem, at the width it shows at
        problems.Should().Contain(p => p.StartsWith("old.html at 390 px: the page is", StringComparison.Ordinal));
        problems.Should().Contain(p => p.StartsWith("old.html at 1280 px: a table under 'Runs' needs", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("of the chart 'bars' lies outside the chart", StringComparison.Ordinal));
        problems.Should().Contain(p => p.Contains("the cell 'a cell far too long for its column'", StringComparison.Ordinal) && p.Contains("spills out of its column", StringComparison.Ordinal));
    }
}
