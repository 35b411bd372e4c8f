using FluentAssertions;
using Microsoft.Playwright;
using Recal.Project;
using Recal.Reporting.Dashboard;
using Recal.Testing;
using Recal.Testing.Shared;
using Xunit;

namespace Recal.Server.Tests;

/// <summary>
/// The dashboard in a real browser (Playwright driving Debian's Chromium, never a downloaded one) on a copy of the
/// sample: log in, every view, a click on a timeline window, a draft labelled in the review form. Screenshots of each
/// step go to artifacts/screenshots. Skipped without Chromium unless CI or RECAL_REQUIRE_CHROMIUM=1 is set.
/// </summary>
public sealed class BrowserTests : IClassFixture<DashboardTests.Sample>
{
    private static readonly string[] LaunchFlags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
    private readonly DashboardTests.Sample _sample;

    public BrowserTests(DashboardTests.Sample sample) => _sample = sample;

    private static string Screenshots { get; } = Directory.CreateDirectory(Path.Combine(RepositoryRoot.Path, "artifacts", "screenshots")).FullName;

    [Fact]
    public async Task A_reviewer_logs_in_sees_every_view_drills_into_a_week_and_labels_a_draft()
    {
        var chromium = PageLayout.FindChromium();
        if (chromium is null)
        {
            Assert.SkipWhen(!PageLayout.Required, "Chromium is not installed; the dashboard is not tried in a browser");
            throw new InvalidOperationException("the browser tests need Chromium ('chromium' on PATH or RECAL_CHROMIUM); CI or RECAL_REQUIRE_CHROMIUM=1 requires it");
        }

        var server = await _sample.ServerAsync();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true, Args = LaunchFlags });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } });
        // The views compute drift and coverage over twelve weeks on first sight: generous limits on a loaded machine.
        page.SetDefaultTimeout(180_000);
        page.SetDefaultNavigationTimeout(180_000);
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        var root = server.Url.ToString().TrimEnd('/');
        // Each step's time goes to the test's output: a step that runs into the limit shows which view was slow.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        void Step(string what) => TestContext.Current.TestOutputHelper?.WriteLine($"{clock.Elapsed.TotalSeconds,7:F1} s  {what}");

        // Logging in: the dashboard sends a browser without a session to the login form, and back after it.
        await page.GotoAsync(root + "/lifecycle");
        page.Url.Should().StartWith(root + "/login");
        await page.FillAsync("input[name=token]", Harness.Token);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(root + "/lifecycle");
        (await page.TextContentAsync("h1")).Should().StartWith("Lifecycle");

        // Every view renders, each with the navigation.
        foreach (var view in DashboardPages.Views)
        {
            var response = await page.GotoAsync(root + view.Path);
            response!.Status.Should().Be(200, view.Path);
            Step(view.Path);
            (await page.Locator("nav.dash a[aria-current=page]").TextContentAsync()).Should().Be(view.Label);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, $"view{(view.Path == "/" ? "-health" : view.Path.Replace('/', '-'))}.png"), FullPage = true });
        }

        // A click on a week of the timeline's first chart opens that week's strata mix.
        // On the current view, not one shown stale while it is computed again (that page reloads itself when it is ready).
        await page.GotoAsync(root + "/timeline");
        await page.Locator("meta[name=recal-view]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Detached });
        Step("/timeline, current");
        var band = page.Locator("figure svg a.window").Nth(4);
        var href = await band.GetAttributeAsync("href");
        await band.Locator("rect").ClickAsync(new LocatorClickOptions { Force = true });
        await page.WaitForURLAsync(root + href);
        Step(href!);
        (await page.TextContentAsync("h1")).Should().StartWith("Strata mix, " + href!.Split("from=")[1][..10]);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "timeline-drill-in.png"), FullPage = true });

        // A draft labelled in the review form becomes a case.
        await page.GotoAsync(root + "/review");
        var first = page.Locator("table a").First;
        var draft = await first.TextContentAsync();
        await first.ClickAsync();
        await page.FillAsync("textarea[name=reference_high]", "You can see it on the app's home screen.");
        await page.SelectOptionAsync("select[name=difficulty]", "easy");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, "review-form.png"), FullPage = true });
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync($"{root}/review?labelled={draft}");
        (await page.TextContentAsync("p.ok")).Should().Contain($"Draft {draft} is a case now.");
        EvalProjectLoader.Load(_sample.Folder).Project!.Cases.Should().Contain(c => c.Id == draft && c.References[0].Text == "You can see it on the app's home screen.");

        errors.Should().BeEmpty("no page has a script error or a blocked resource");
    }
}
