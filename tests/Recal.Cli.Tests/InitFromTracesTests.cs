using System.Globalization;
using System.Text.Json;
using FluentAssertions;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary><c>recal init --from-traces</c>: a project proposed from traffic runs ingest, drift and check end to end.</summary>
public sealed class InitFromTracesTests : IDisposable
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[][] Topics =
    [
        ["i want a refund for my order", "refund my order please", "how do i get my order refunded", "order refund for the broken item", "can i get a refund on order 12", "refund the order i placed yesterday"],
        ["reset my password", "i forgot my password", "send a password reset link", "password reset is not working", "how do i reset the password", "change my forgotten password"],
        ["where is my parcel", "track my parcel", "parcel tracking number please", "my parcel has not arrived", "when will the parcel arrive", "parcel delivery status"],
        ["cancel my subscription", "stop my subscription renewing", "subscription cancel now", "end the monthly subscription", "i want to cancel the subscription", "how to cancel my subscription"],
    ];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "recal-init-traces-" + Guid.NewGuid().ToString("N")[..12]);

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_project_proposed_from_traces_validates_and_runs_ingest_drift_and_check()
    {
        // Given six weeks of traffic on four topics, with a plan and a user id in the metadata, and one bad line
        Directory.CreateDirectory(_folder);
        var traffic = Path.Combine(_folder, "traffic.jsonl");
        WriteTraffic(traffic, weeks: 6, perWeek: 200, seed: 3);
        File.AppendAllText(traffic, "{\"id\":\"broken\",\"input\":\n");
        var project = Path.Combine(_folder, "evals");

        // When a project is made from it
        var init = await CliRunner.RunAsync("init", project, "--from-traces", traffic);

        // Then the output says what was read, sampled and proposed, and what next
        init.Code.Should().Be(0, init.Out + init.Error);
        init.Out.Should().Contain("Read 1,200 traces and clustered a sample of 1,200").And.Contain("1 record(s) could not be read");
        init.Out.Should().MatchRegex(@"Proposed \d+ intent\(s\)").And.Contain("1 cohort dimension(s): plan (3 values)").And.Contain("Next:").And.Contain("1. edit taxonomy.yaml");
        var taxonomy = File.ReadAllText(Path.Combine(project, "taxonomy.yaml"));
        taxonomy.Should().Contain("# Distinctive words").And.Contain("field: \"plan\"").And.NotContain("user_id");
        foreach (var word in new[] { "refund", "password", "parcel", "subscription" })
        {
            taxonomy.Should().MatchRegex($@"- name: \w*{word}\w*", $"the {word} topic is an intent named from its words");
        }

        File.ReadAllLines(Path.Combine(project, "cases", "gold.jsonl")).Should().OnlyContain(l => l.Contains("\"tags\":[\"starter\"]"));

        // And the project validates, ingests the same traffic, and runs drift and check
        var validate = await CliRunner.RunAsync("validate", "-p", project);
        validate.Code.Should().Be(0, validate.Out + validate.Error);
        var ingest = await CliRunner.RunAsync("ingest", "-p", project, traffic);
        ingest.Code.Should().Be(0, ingest.Out + ingest.Error);
        ingest.Out.Should().Contain("1,200");
        var json = Path.Combine(_folder, "drift.json");
        var drift = await CliRunner.RunAsync("drift", "-p", project, "--over", "weekly", "--json", json);
        drift.Code.Should().BeOneOf([0, 1], drift.Out + drift.Error);
        using (var report = JsonDocument.Parse(File.ReadAllText(json)))
        {
            report.RootElement.GetProperty("series").GetArrayLength().Should().Be(6);
        }

        var check = await CliRunner.RunAsync("check", "-p", project);
        check.Code.Should().BeOneOf([0, 1], check.Out + check.Error);
        check.Out.Should().MatchRegex(@"(healthy|drifting|unknown)\s+intent mix");
    }

    [Fact]
    public async Task Starter_cases_that_no_longer_fit_the_taxonomy_say_what_to_do()
    {
        // Given the starter project whose taxonomy the user replaced with their own intents
        (await CliRunner.RunAsync("init", _folder)).Code.Should().Be(0);
        var taxonomy = Path.Combine(_folder, "taxonomy.yaml");
        File.WriteAllText(taxonomy, File.ReadAllText(taxonomy).Replace("name: refund\n", "name: money_back\n", StringComparison.Ordinal));

        // When it is validated
        var validate = await CliRunner.RunAsync("validate", "-p", _folder);

        // Then the error names the starter case and how to resolve it
        validate.Code.Should().NotBe(0);
        (validate.Out + validate.Error).Should().Contain("unknown intent 'refund' in a starter case written by recal init")
            .And.Contain("delete the starter cases you do not need (the lines tagged \"starter\" in gold.jsonl), or fix this one");
    }

    [Fact]
    public async Task Init_from_traces_refuses_a_folder_with_a_project_before_reading_anything()
    {
        (await CliRunner.RunAsync("init", _folder)).Code.Should().Be(0);

        var again = await CliRunner.RunAsync("init", _folder, "--from-traces", Path.Combine(_folder, "missing.jsonl"));

        again.Code.Should().Be(2);
        again.Error.Should().Contain("RC1010").And.Contain("init never overwrites a file");
    }

    private static void WriteTraffic(string path, int weeks, int perWeek, int seed)
    {
        var random = new Random(seed);
        using var writer = new StreamWriter(path);
        var id = 0;
        string[] plans = ["free", "pro", "team"];
        for (var week = 0; week < weeks; week++)
        {
            for (var i = 0; i < perWeek; i++)
            {
                var topic = Topics[random.Next(Topics.Length)];
                var time = Monday.AddDays(7 * week).AddSeconds(random.Next(7 * 24 * 3600));
                var line = JsonSerializer.Serialize(new
                {
                    id = $"t{id++}",
                    timestamp = time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                    input = topic[random.Next(topic.Length)],
                    output = "Happy to help with that.",
                    metadata = new { plan = plans[random.Next(3)], user_id = $"u{random.Next(400)}" },
                    feedback = new { thumbs = random.NextDouble() < 0.8 ? "up" : "down" },
                });
                writer.WriteLine(line);
            }
        }
    }
}
