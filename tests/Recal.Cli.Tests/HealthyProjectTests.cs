using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>A healthy project reads healthy: no traffic is unknown, and unchanged traffic raises no alarm.</summary>
public sealed class HealthyProjectTests : IDisposable
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[][] Examples =
    [
        ["i want my money back", "how do i get a refund for my order", "can you refund the charge from last week", "please return the payment for the broken item", "refund my subscription"],
        ["cancel my subscription", "how do i stop my plan from renewing", "i don't want to be charged monthly anymore", "end my membership", "turn off auto renewal"],
        ["i forgot my password", "how do i reset my password", "can't log in to my account", "send me a password reset link", "my login isn't working"],
    ];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-healthy-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_fresh_project_reads_unknown_with_what_it_needs_and_exits_0()
    {
        // Given the project recal init writes, with no traffic
        (await CliRunner.RunAsync("init", _folder, "--name", "fresh")).Code.Should().Be(0);

        // When it is checked
        var check = await CliRunner.RunAsync("check", "-p", _folder);

        // Then nothing is drifting: the instruments say what they need
        check.Code.Should().Be(0, check.Out + check.Error);
        check.Out.Should().MatchRegex(@"unknown\s+intent mix\s+no traffic in the store").And.MatchRegex(@"unknown\s+lifecycle\s+no shadow refresh or rotation recorded yet");
        check.Out.Should().NotContain("drifting");
    }

    [Fact]
    public async Task Eight_weeks_of_unchanged_traffic_raise_no_alarm_in_drift_and_read_healthy_in_check()
    {
        // Given the starter project and eight weeks of traffic drawn alike: the starter intents 50/30/20, a third on the
        // free plan, four in five rated up
        (await CliRunner.RunAsync("init", _folder, "--name", "steady")).Code.Should().Be(0);
        var traffic = Path.Combine(_folder, "traffic.jsonl");
        WriteTraffic(traffic, weeks: 8, perWeek: 400, seed: 5);
        (await CliRunner.RunAsync("ingest", "-p", _folder, traffic)).Code.Should().Be(0);

        // When drift runs week by week and check runs every instrument
        var json = Path.Combine(_folder, "drift.json");
        var drift = await CliRunner.RunAsync("drift", "-p", _folder, "--over", "weekly", "--json", json);
        var check = await CliRunner.RunAsync("check", "-p", _folder);

        // Then no week alarms and drift exits 0
        drift.Code.Should().Be(0, drift.Out + drift.Error);
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        report.RootElement.GetProperty("series").EnumerateArray().Should().HaveCount(8).And.OnlyContain(w => w.GetProperty("alarms").GetArrayLength() == 0);
        report.RootElement.GetProperty("calibration").GetProperty("instruments").GetInt32().Should().Be(10);
        report.RootElement.GetProperty("series")[6].GetProperty("tests").EnumerateArray().Select(t => t.GetProperty("instrument").GetString())
            .Should().Contain(["js_distance", "psi", "missing_share", "unknown_share", "cohort_js_distance", "coverage_drop", "novelty", "thumbs_up_drop", "escalation_rise"]);

        // And check calls the mix, coverage, out of scope and online signals healthy, with exit code 0
        check.Code.Should().Be(0, check.Out + check.Error);
        check.Out.Should().MatchRegex(@"healthy\s+intent mix").And.MatchRegex(@"healthy\s+coverage").And.MatchRegex(@"healthy\s+out of scope").And.MatchRegex(@"healthy\s+online signals");
    }

    private static void WriteTraffic(string path, int weeks, int perWeek, int seed)
    {
        var random = new Random(seed);
        using var writer = new StreamWriter(path);
        var id = 0;
        for (var week = 0; week < weeks; week++)
        {
            for (var i = 0; i < perWeek; i++)
            {
                var u = random.NextDouble();
                var intent = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
                var text = Examples[intent][random.Next(Examples[intent].Length)];
                var time = Monday.AddDays(7 * week).AddSeconds(random.Next(7 * 24 * 3600));
                var line = JsonSerializer.Serialize(new
                {
                    id = $"t{id++}",
                    timestamp = time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                    input = text,
                    metadata = new { plan = random.NextDouble() < 1.0 / 3 ? "free" : "pro" },
                    feedback = new { thumbs = random.NextDouble() < 0.8 ? "up" : "down", escalated = random.NextDouble() < 0.05 },
                });
                writer.WriteLine(line);
            }
        }
    }
}
