using System.Text.Json;
using FluentAssertions;
using Recal.Testing;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// The sample ingested and measured against PostgreSQL reads as it does against SQLite: the same drift report, figure for
/// figure. Runs on the server <c>RECAL_TEST_POSTGRES</c> names, in a throwaway database (skipped without one, outside CI).
/// </summary>
public sealed class PostgresStoreEndToEndTests : IDisposable
{
    private readonly SampleProject _sqlite = new();
    private readonly SampleProject _postgres = new();

    public void Dispose()
    {
        _sqlite.Dispose();
        _postgres.Dispose();
    }

    [Fact]
    public async Task The_sample_ingested_into_postgres_gives_the_drift_report_it_gives_on_sqlite()
    {
        // Given the sample twice: once on its SQLite store, once with store: naming a fresh PostgreSQL database
        await using var database = await PostgresTestServer.CreateDatabaseAsync(TestContext.Current.CancellationToken);
        var variable = "RECAL_TEST_PG_PASSWORD_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        Environment.SetEnvironmentVariable(variable, database.Password);
        try
        {
            var url = $"postgres://{database.Username}@{database.Host}:{database.Port}/{database.Name}{(database.Password is null ? string.Empty : "?password_env=" + variable)}";
            var yaml = _postgres.PathOf("recal.yaml");
            var text = await File.ReadAllTextAsync(yaml, TestContext.Current.CancellationToken);
            text.Should().Contain("store: .recal/recal.db");
            await File.WriteAllTextAsync(yaml, text.Replace("store: .recal/recal.db", "store: " + url, StringComparison.Ordinal), TestContext.Current.CancellationToken);

            // When each validates, ingests the traffic and a broken file (twice: the second adds nothing), and measures drift week by week
            var reports = new List<string>();
            var sampledReports = new List<string>();
            foreach (var sample in new[] { _sqlite, _postgres })
            {
                var validate = await CliRunner.RunAsync("validate", "--project", sample.Folder);
                validate.Code.Should().Be(0, validate.Out + validate.Error);
                var ingest = await CliRunner.RunAsync("ingest", "--project", sample.Folder, sample.PathOf("traffic/traffic.jsonl.gz"), sample.PathOf("traffic/broken-sample.jsonl"));
                ingest.Code.Should().Be(0, ingest.Error);
                ingest.Out.Should().Contain("5 record(s) quarantined");
                var again = await CliRunner.RunAsync("ingest", "--project", sample.Folder, sample.PathOf("traffic/traffic.jsonl.gz"));
                again.Out.Should().MatchRegex(@"traffic\.jsonl\.gz\s+│?\s*[\d,]+\s+│?\s*0\s");
                var json = sample.PathOf("out/drift.json");
                var drift = await CliRunner.RunAsync("drift", "--project", sample.Folder, "--over", "weekly", "--json", json);
                drift.Code.Should().Be(1, drift.Out + drift.Error);
                var check = await CliRunner.RunAsync("store", "check", "--project", sample.Folder);
                check.Code.Should().Be(0, check.Out + check.Error);
                reports.Add(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));

                // A sampled window: PostgreSQL chooses each cell's lowest priorities from its index, SQLite from one pass over the heads
                var sampledJson = sample.PathOf("out/coverage-sampled.json");
                var sampled = await CliRunner.RunAsync("coverage", "--project", sample.Folder, "--max-traces", "700", "--no-blind-spots", "--json", sampledJson);
                sampled.Code.Should().BeOneOf([0, 1], sampled.Out + sampled.Error);
                sampledReports.Add(await File.ReadAllTextAsync(sampledJson, TestContext.Current.CancellationToken));
            }

            // Then the two reports are the same to the byte, and the PostgreSQL project has no SQLite file
            File.Exists(_postgres.PathOf(".recal/quarantine.jsonl")).Should().BeTrue("the quarantine stays in the project's .recal/");
            File.Exists(_postgres.PathOf(".recal/recal.db")).Should().BeFalse("the traces are in PostgreSQL");
            reports[1].Should().Be(reports[0]);
            sampledReports[1].Should().Be(sampledReports[0], "a sample chosen in the database is the one a pass over the heads chooses");
            var coverage = JsonDocument.Parse(sampledReports[0]).RootElement;
            coverage.GetProperty("overall").GetProperty("measured").GetInt32().Should().BeLessThan(coverage.GetProperty("traces").GetInt32(), "the window was sampled");
            JsonDocument.Parse(reports[0]).RootElement.GetProperty("series").GetArrayLength().Should().Be(12);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }
}
