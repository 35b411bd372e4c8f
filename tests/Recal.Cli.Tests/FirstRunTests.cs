using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>A new project's first run: <c>recal init</c>, then check and drift end with what to do next, not a red verdict on starter cases.</summary>
public sealed class FirstRunTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-first-run-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static string Flat(string output) => System.Text.RegularExpressions.Regex.Replace(output, @"\s+", " ");

    [Fact]
    public async Task Init_lists_its_next_steps_and_check_without_traffic_says_nothing_is_measured_yet_and_what_next()
    {
        var init = await CliRunner.RunAsync("init", _folder, "--name", "first");
        init.Code.Should().Be(0);
        init.Out.Should().Contain("Next:").And.Contain("2. recal validate").And.Contain("3. recal ingest traces.jsonl");

        var (code, output, _) = await CliRunner.RunAsync("check", "-p", _folder);

        code.Should().Be(0);
        output.Should().NotContain("The instrument is calibrated");
        output.Should().Contain("No instrument drifts; 4 instrument(s) have nothing to measure yet.");
        Flat(output).Should().Contain("What next: 1. recal ingest FILE 2. recal sample --pool gold (drafts drawn from your traffic by the policy)");
    }

    [Fact]
    public async Task Drift_and_check_on_the_starter_cases_call_the_sets_gaps_expected_and_name_the_first_draw()
    {
        // Eight weeks of traffic in the starter intents: the plan mix is even for four weeks, then nine in ten are free.
        (await CliRunner.RunAsync("init", _folder, "--name", "first")).Code.Should().Be(0);
        string[] texts = ["i want my money back", "cancel my subscription", "i forgot my password", "refund my subscription", "end my membership", "reset my password please"];
        var traffic = Path.Combine(_folder, "traffic.jsonl");
        var start = new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
        File.WriteAllLines(traffic, Enumerable.Range(0, 8 * 7 * 60).Select(i =>
        {
            var at = start.AddMinutes(i * 24);
            var free = at < start.AddDays(28) ? i % 2 == 0 : i % 10 != 0;
            var plan = free ? "free" : "pro";
            return "{\"id\":\"t" + i + "\",\"timestamp\":\"" + at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture) +
                "\",\"input\":\"" + texts[i % texts.Length] + "\",\"metadata\":{\"plan\":\"" + plan + "\"}}";
        }));

        (await CliRunner.RunAsync("ingest", "-p", _folder, traffic)).Code.Should().Be(0);

        var drift = await CliRunner.RunAsync("drift", "-p", _folder, "--intent-only");
        drift.Out.Should().Contain("ALARM", "the starter set is far from this traffic once it moves");
        drift.Code.Should().Be(0);
        Flat(drift.Out).Should().Contain("The gold set is the 3 starter case(s) recal init wrote, not a set drawn from this traffic, so its alarms against traffic are expected and do not fail the command (exit code 0). What next: 1. recal sample --pool gold");

        var check = await CliRunner.RunAsync("check", "-p", _folder);
        check.Out.Should().NotContain("drifting  intent mix").And.NotContain("drifting  coverage");
        Flat(check.Out).Should().Contain("unknown eval set the gold set is the 3 starter case(s) recal init wrote");
        Flat(check.Out).Should().Contain("What next:").And.Contain("recal label export --csv labels.csv --pool gold");
    }
}
