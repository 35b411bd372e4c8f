using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Xunit;

namespace Recal.Testing;

/// <summary>
/// Lays report pages out in headless Chromium at a phone's and a laptop's width and lists what does not fit: a page
/// wider than its viewport, a table that needs a sideways scroll, a cell whose text spills out of it, a chart wider
/// than the page or a chart label outside its chart.
/// </summary>
/// <remarks>
/// Headless Chromium will not make a window narrower than about 500 px, so each page is laid out in an iframe of the
/// exact width (its <c>srcdoc</c>, which keeps the parent's origin so the measuring script can read it). The script
/// writes its findings as JSON into a <c>pre</c> that <c>--dump-dom</c> prints. Where Chromium is missing the check is
/// skipped, unless <c>CI</c> or <c>RECAL_REQUIRE_CHROMIUM=1</c> is set: then it fails, so CI never passes unchecked.
/// </remarks>
public static class PageLayout
{
    /// <summary>The widths every page is checked at: a phone and a laptop.</summary>
    public static readonly int[] Widths = [390, 1280];

    private const string Measure = """
        function describe(el) {
          let h = el; while (h && !/^H[1-3]$/.test(h.tagName)) { h = h.previousElementSibling || h.parentElement; }
          return h ? "under '" + h.textContent.slice(0, 60) + "'" : "";
        }
        function check(frame) {
          const d = frame.contentDocument, root = d.documentElement, w = root.clientWidth, out = [];
          if (root.scrollWidth > w + 1) out.push("the page is " + root.scrollWidth + " px wide in a " + w + " px viewport");
          d.querySelectorAll(".wide").forEach(el => {
            if (el.scrollWidth > el.clientWidth + 1) out.push("a table " + describe(el) + " needs " + el.scrollWidth + " px and shows " + el.clientWidth + " px (a sideways scroll)");
          });
          d.querySelectorAll("td,th").forEach(c => {
            if (c.scrollWidth > c.clientWidth + 1) out.push("the cell '" + c.textContent.slice(0, 60) + "' " + describe(c.closest("table") || c) + " spills out of its column");
          });
          d.querySelectorAll("svg").forEach(svg => {
            const r = svg.getBoundingClientRect(), title = (svg.querySelector("title") || {}).textContent || "chart";
            if (r.right > w + 1 || r.left < -1) out.push("the chart '" + title + "' spans " + Math.round(r.left) + " to " + Math.round(r.right) + " px in a " + w + " px viewport");
            const vb = svg.viewBox.baseVal;
            if (!vb || vb.width === 0) return;
            svg.querySelectorAll("text").forEach(t => {
              const b = t.getBBox();
              if (b.width > 0 && (b.x < vb.x - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y < vb.y - 0.5 || b.y + b.height > vb.y + vb.height + 0.5))
                out.push("the label '" + t.textContent.slice(0, 60) + "' of the chart '" + title + "' lies outside the chart (" + Math.round(b.x) + " to " + Math.round(b.x + b.width) + " of 0 to " + vb.width + ")");
            });
          });
          return out;
        }
        window.addEventListener("load", () => {
          const result = [];
          document.querySelectorAll("iframe").forEach(f => result.push({ page: f.dataset.page, width: +f.dataset.width, problems: check(f) }));
          document.getElementById("recal-check").textContent = JSON.stringify(result);
        });
        """;

    /// <summary>The Chromium executable: <c>RECAL_CHROMIUM</c>, else the first of the usual names on PATH; null when none.</summary>
    public static string? FindChromium()
    {
        if (Environment.GetEnvironmentVariable("RECAL_CHROMIUM") is { Length: > 0 } configured)
        {
            return configured;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return (from name in new[] { "chromium", "chromium-browser", "google-chrome", "google-chrome-stable" }
                from folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                let candidate = Path.Combine(folder, name)
                where File.Exists(candidate)
                select candidate).FirstOrDefault();
    }

    /// <summary>Whether a missing Chromium fails the check instead of skipping it.</summary>
    public static bool Required =>
        Environment.GetEnvironmentVariable("RECAL_REQUIRE_CHROMIUM") == "1" || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));

    /// <summary>
    /// Lays out every page at every width of <see cref="Widths"/> and returns what does not fit, one line per problem
    /// naming the page and the width. Skips the calling test when Chromium is missing and not required.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ProblemsAsync(IReadOnlyList<(string Name, string Html)> pages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pages);
        var chromium = FindChromium();
        if (chromium is null)
        {
            if (Required)
            {
                throw new InvalidOperationException("Chromium is needed to check the report pages' layout and none was found (set RECAL_CHROMIUM, or install the 'chromium' package); CI or RECAL_REQUIRE_CHROMIUM=1 requires it");
            }

            Assert.Skip("Chromium is not installed (RECAL_CHROMIUM or 'chromium' on PATH); the pages' layout is not checked");
        }

        var folder = Directory.CreateTempSubdirectory("recal-pages-");
        try
        {
            var wrapper = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body style=\"margin:0\">");
            foreach (var (name, html) in pages)
            {
                foreach (var width in Widths)
                {
                    wrapper.Append(System.Globalization.CultureInfo.InvariantCulture, $"<iframe data-page=\"{WebUtility.HtmlEncode(name)}\" data-width=\"{width}\" style=\"display:block;border:0;width:{width}px;height:900px\" srcdoc=\"{WebUtility.HtmlEncode(html)}\"></iframe>");
                }
            }

            wrapper.Append("<pre id=\"recal-check\">not measured</pre><script>").Append(Measure).Append("</script></body></html>");
            var file = Path.Combine(folder.FullName, "pages.html");
            await File.WriteAllTextAsync(file, wrapper.ToString(), cancellationToken).ConfigureAwait(false);
            var dom = await RunAsync(chromium!, folder.FullName, file, cancellationToken).ConfigureAwait(false);
            var start = dom.IndexOf("<pre id=\"recal-check\">", StringComparison.Ordinal);
            var end = start < 0 ? -1 : dom.IndexOf("</pre>", start, StringComparison.Ordinal);
            if (end < 0)
            {
                throw new InvalidOperationException($"Chromium printed no measurement: {dom[..Math.Min(dom.Length, 500)]}");
            }

            var json = WebUtility.HtmlDecode(dom[(start + "<pre id=\"recal-check\">".Length)..end]);
            using var result = JsonDocument.Parse(json);
            var problems = new List<string>();
            var measured = 0;
            foreach (var frame in result.RootElement.EnumerateArray())
            {
                measured++;
                foreach (var problem in frame.GetProperty("problems").EnumerateArray())
                {
                    problems.Add($"{frame.GetProperty("page").GetString()} at {frame.GetProperty("width").GetInt32()} px: {problem.GetString()}");
                }
            }

            if (measured != pages.Count * Widths.Length)
            {
                throw new InvalidOperationException($"Chromium measured {measured} layouts of the {pages.Count * Widths.Length} asked for");
            }

            return problems;
        }
        finally
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException)
            {
                // Chromium may still be releasing its profile; the temporary folder is left behind.
            }
        }
    }

    private static async Task<string> RunAsync(string chromium, string profile, string file, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(chromium)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--hide-scrollbars",
            $"--user-data-dir={Path.Combine(profile, "profile")}", "--window-size=1400,1000", "--virtual-time-budget=5000",
            "--dump-dom", new Uri(file).AbsoluteUri,
        })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {chromium}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var dom = await output.ConfigureAwait(false);
        return process.ExitCode == 0 || dom.Contains("recal-check", StringComparison.Ordinal)
            ? dom
            : throw new InvalidOperationException($"{chromium} exited with {process.ExitCode}: {await error.ConfigureAwait(false)}");
    }
}
