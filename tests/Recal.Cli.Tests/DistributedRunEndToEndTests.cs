using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FluentAssertions;
using Npgsql;
using Recal.Testing;
using Xunit;

namespace Recal.Cli.Tests;

/// <summary>
/// <c>recal run --distributed</c>, <c>recal worker</c> and <c>recal run --attach</c> end to end on a PostgreSQL store
/// (the server <c>RECAL_TEST_POSTGRES</c> names, a throwaway database): real worker processes, one killed outright.
/// </summary>
public sealed partial class DistributedRunEndToEndTests : IAsyncLifetime
{
    private readonly string _variable = "RECAL_TEST_PG_PASSWORD_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private ThrowawayDatabase? _database;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _database = await PostgresTestServer.CreateDatabaseAsync(Token);
        Environment.SetEnvironmentVariable(_variable, _database.Password);
    }

    public async ValueTask DisposeAsync()
    {
        Environment.SetEnvironmentVariable(_variable, null);
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Four_worker_processes_one_killed_mid_run_leave_every_case_with_one_result_and_repeat_only_its_calls_in_flight()
    {
        // Given a distributed run of 240 cases against a target answering in 200 ms
        await using var server = new FakeOpenAIServer { Latency = TimeSpan.FromMilliseconds(200) };
        using var project = OnPostgres(new RunProject(server.BaseUrl, 240));
        var submit = await CliRunner.RunAsync("run", "--project", project.Folder, "--distributed", "--no-cache");
        submit.Code.Should().Be(0, submit.Out + submit.Error);
        var runId = QueuedRun().Match(submit.Error).Groups[1].Value;
        string[] worker = ["worker", "--project", project.Folder, "--concurrency", "3", "--once", "--lease", "2", "--poll", "0.1"];

        // When one worker process has stored results and holds leases, three more start, and the first is killed (SIGKILL)
        using var victim = RecalProcess.Start(worker);
        var deadline = Stopwatch.StartNew();
        while (await ScalarAsync($"SELECT count(*) FROM recal.run_worker_totals WHERE worker LIKE '%:{victim.Process.Id}:%' AND done >= 6") == 0)
        {
            victim.Process.HasExited.Should().BeFalse($"the worker should be running; it printed:\n{victim.Output}");
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromMinutes(1), "the worker should store results");
            await Task.Delay(25, Token);
        }

        using var others = new Disposables([.. Enumerable.Range(0, 3).Select(_ => RecalProcess.Start(worker))]);
        while (await ScalarAsync("SELECT count(*) FROM recal.run_worker_totals") < 4)
        {
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromMinutes(1), "every worker should store results");
            await Task.Delay(25, Token);
        }

        victim.Process.Kill();
        await victim.Process.WaitForExitAsync(Token);
        var inFlight = await CaseIdsAsync($"SELECT case_id FROM recal.run_queue WHERE worker LIKE '%:{victim.Process.Id}:%' AND state = 1");
        foreach (var child in others.Children)
        {
            await child.Process.WaitForExitAsync(Token).WaitAsync(TimeSpan.FromMinutes(2), Token);
            child.Process.ExitCode.Should().Be(0, child.Output);
        }

        var attach = await CliRunner.RunAsync("run", "--project", project.Folder, "--attach", runId);

        // Then every case has exactly one result, and only the killed worker's cases in flight were called twice
        attach.Code.Should().Be(0, attach.Out + attach.Error);
        var stored = project.StoredResultsOnPostgres(_database!);
        stored.Should().OnlyHaveUniqueItems().And.HaveCount(240);
        inFlight.Should().NotBeEmpty("the killed worker held leased cases");
        var repeated = Enumerable.Range(0, 240).Where(i => server.CountFor(RunProject.Input(i)) > 1).Select(RunProject.CaseId).ToList();
        Enumerable.Range(0, 240).Should().OnlyContain(i => server.CountFor(RunProject.Input(i)) >= 1 && server.CountFor(RunProject.Input(i)) <= 2);
        repeated.Should().BeSubsetOf(inFlight);
        (await CaseIdsAsync("SELECT case_id FROM recal.run_queue WHERE claims > 1")).Should().BeEquivalentTo(inFlight, "exactly the killed worker's leased cases were claimed again");

        // And the attached view shows the finished run, its workers (the killed one silent) and the reclaimed cases
        attach.Out.Should().Contain($"Run {runId} completed");
        attach.Out.Should().Contain($"{inFlight.Count} case(s) were claimed again");
        attach.Out.Should().Contain($":{victim.Process.Id}:").And.Contain("stopped or killed");
        Regex.Matches(attach.Out, @"worker \S+ \(concurrency 3\)").Should().HaveCount(4);
    }

    [Fact]
    public async Task A_distributed_run_reports_what_a_local_run_of_the_same_cases_reports()
    {
        // Given a project on PostgreSQL with 30 cases, run once locally
        await using var server = new FakeOpenAIServer();
        using var project = OnPostgres(new RunProject(server.BaseUrl, 30));
        var local = await CliRunner.RunAsync("run", "--project", project.Folder, "--no-cache");
        local.Code.Should().Be(0, local.Out + local.Error);

        // When the same cases are run distributed, by a worker in this process, and watched to the end
        var submit = await CliRunner.RunAsync("run", "--project", project.Folder, "--distributed", "--no-cache");
        submit.Code.Should().Be(0, submit.Out + submit.Error);
        var runId = QueuedRun().Match(submit.Error).Groups[1].Value;
        var work = await CliRunner.RunAsync("worker", "--project", project.Folder, "--once", "--concurrency", "4", "--poll", "0.05");
        work.Code.Should().Be(0, work.Out + work.Error);
        work.Out.Should().Contain("30 case(s) stored, 30 call(s)");
        var attach = await CliRunner.RunAsync("run", "--project", project.Folder, "--attach", runId);
        attach.Code.Should().Be(0, attach.Out + attach.Error);

        // Then both reports say the same, figure for figure, but for the run's id and times
        var localId = Regex.Match(local.Out, @"Run (\S+) completed").Groups[1].Value;
        localId.Should().NotBeEmpty().And.NotBe(runId);
        var reports = new[] { await ReportAsync(project, localId), await ReportAsync(project, runId) };
        foreach (var report in reports)
        {
            Strip(report!);
        }

        reports[1]!.ToJsonString().Should().Be(reports[0]!.ToJsonString());
        attach.Out.Should().Contain("30 answered by a call");
    }

    [Fact]
    public async Task On_a_sqlite_store_distributed_runs_and_workers_are_refused_at_the_store_setting()
    {
        // Given a project on its SQLite file
        await using var server = new FakeOpenAIServer();
        using var project = new RunProject(server.BaseUrl, 3);

        // When a distributed run and a worker are asked for
        var run = await CliRunner.RunAsync("run", "--project", project.Folder, "--distributed");
        var worker = await CliRunner.RunAsync("worker", "--project", project.Folder, "--once");

        // Then both stop with RC1017 at recal.yaml's store line, saying what to write instead
        foreach (var result in new[] { run, worker })
        {
            result.Code.Should().Be(2);
            result.Error.Should().MatchRegex(@"recal\.yaml:\d+:\d+: error RC1017: distributed runs need a store every worker reaches").And.Contain("store: postgres://");
        }

        server.Requests.Should().BeEmpty();
    }

    [GeneratedRegex(@"Run (\S+) queued")]
    private static partial Regex QueuedRun();

    private RunProject OnPostgres(RunProject project)
    {
        var url = $"postgres://{_database!.Username}@{_database.Host}:{_database.Port}/{_database.Name}{(_database.Password is null ? string.Empty : "?password_env=" + _variable)}";
        var yaml = project.PathOf("recal.yaml");
        var text = File.ReadAllText(yaml);
        text.Should().Contain("store: .recal/recal.db");
        File.WriteAllText(yaml, text.Replace("store: .recal/recal.db", "store: " + url, StringComparison.Ordinal));
        return project;
    }

    private static async Task<JsonNode?> ReportAsync(RunProject project, string runId)
    {
        var file = project.PathOf($"out/report-{runId}.json");
        var report = await CliRunner.RunAsync("report", runId, "--project", project.Folder, "--json", file);
        report.Code.Should().Be(0, report.Out + report.Error);
        return JsonNode.Parse(await File.ReadAllTextAsync(file, Token));
    }

    /// <summary>Removes what differs between two runs of the same cases: ids, times, latency.</summary>
    private static void Strip(JsonNode node)
    {
        if (node is JsonObject obj)
        {
            foreach (var key in obj.Select(p => p.Key).ToList())
            {
                if (key is "id" or "started" or "finished" or "generated" || key.Contains("latency", StringComparison.OrdinalIgnoreCase) || key.Contains("duration", StringComparison.OrdinalIgnoreCase))
                {
                    obj.Remove(key);
                }
                else if (obj[key] is { } child)
                {
                    Strip(child);
                }
            }
        }
        else if (node is JsonArray array)
        {
            foreach (var item in array)
            {
                if (item is not null)
                {
                    Strip(item);
                }
            }
        }
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database!.ConnectionString);
        await connection.OpenAsync(Token);
        await using var command = new NpgsqlCommand($"SELECT to_regclass('recal.run_worker_totals') IS NOT NULL", connection);
        if (!(bool)(await command.ExecuteScalarAsync(Token))!)
        {
            return 0;
        }

        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(Token), CultureInfo.InvariantCulture);
    }

    private async Task<List<string>> CaseIdsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_database!.ConnectionString);
        await connection.OpenAsync(Token);
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(Token);
        var ids = new List<string>();
        while (await reader.ReadAsync(Token))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    private sealed class Disposables(IReadOnlyList<RecalProcess.ChildProcess> children) : IDisposable
    {
        public IReadOnlyList<RecalProcess.ChildProcess> Children { get; } = children;

        public void Dispose()
        {
            foreach (var child in Children)
            {
                child.Dispose();
            }
        }
    }
}

internal static class PostgresRunProject
{
    /// <summary>The stored case ids of every run in the project's PostgreSQL store.</summary>
    public static IReadOnlyList<(string RunId, string CaseId)> StoredResultsOnPostgres(this RunProject project, ThrowawayDatabase database)
    {
        _ = project;
        using var connection = new NpgsqlConnection(database.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT run_id, case_id FROM recal.run_cases ORDER BY run_id, case_id", connection);
        using var reader = command.ExecuteReader();
        var rows = new List<(string, string)>();
        while (reader.Read())
        {
            rows.Add((reader.GetString(0), reader.GetString(1)));
        }

        return rows;
    }
}
