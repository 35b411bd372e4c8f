using System.Collections.Concurrent;
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

    [Fact]
    public async Task A_cancelled_run_stops_its_worker_keeps_every_result_it_called_for_and_reports_a_partial_run()
    {
        // Given a distributed run of 60 cases at 300 ms a call, and a worker process that has stored some of them
        await using var server = new FakeOpenAIServer { Latency = TimeSpan.FromMilliseconds(300) };
        using var project = OnPostgres(new RunProject(server.BaseUrl, 60));
        var runId = await SubmitAsync(project);
        using var worker = RecalProcess.Start("worker", "--project", project.Folder, "--concurrency", "2", "--once", "--poll", "0.1");
        var deadline = Stopwatch.StartNew();
        while (await ScalarAsync("SELECT count(*) FROM recal.run_cases") < 4)
        {
            worker.Process.HasExited.Should().BeFalse(worker.Output);
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromMinutes(1), "the worker should store results");
            await Task.Delay(25, Token);
        }

        // When the run is cancelled, then cancelled again
        var cancel = await CliRunner.RunAsync("run", "--project", project.Folder, "--cancel", runId);
        await worker.Process.WaitForExitAsync(Token).WaitAsync(TimeSpan.FromMinutes(1), Token);
        var again = await CliRunner.RunAsync("run", "--project", project.Folder, "--cancel", runId);

        // Then the worker left the run and exited, every call it made has its result kept, and the rest were never called
        cancel.Code.Should().Be(0, cancel.Out + cancel.Error);
        Flat(cancel.Error).Should().MatchRegex($@"Run {runId} cancelled at [0-9: -]+Z: \d+ of 60 case result\(s\) are stored and kept \(a partial run\)");
        worker.Process.ExitCode.Should().Be(0, worker.Output);
        worker.Output.Should().Contain($"Left run {runId} (cancelled)");
        var stored = project.StoredResultsOnPostgres(_database!);
        stored.Should().HaveCountLessThan(60).And.OnlyHaveUniqueItems();
        server.Requests.Count.Should().Be(stored.Count, "a call of a cancelled run is either kept or never made");
        (await ScalarAsync("SELECT count(*) FROM recal.run_queue WHERE state = 1")).Should().Be(0, "no lease is left held");
        again.Code.Should().Be(0, again.Out + again.Error);
        Flat(again.Error).Should().Contain($"Run {runId} was already cancelled").And.Contain($"{stored.Count} of 60 case result(s) are stored");

        // And the run reads as cancelled and partial in --attach and the report
        var attach = await CliRunner.RunAsync("run", "--project", project.Folder, "--attach", runId);
        attach.Code.Should().Be(130, attach.Out + attach.Error);
        attach.Out.Should().Contain($"Run {runId} cancelled (a partial run: {stored.Count} of 60 case(s) have results)");
        var report = await CliRunner.RunAsync("report", runId, "--project", project.Folder);
        report.Code.Should().Be(0, report.Out + report.Error);
        Flat(report.Error).Should().Contain($"the run was cancelled: a partial run, {stored.Count} of 60 cases have results");
        (await ReportAsync(project, runId))!["run"]!["status"]!.GetValue<string>().Should().Be("cancelled");

        // And it is not resumed: it stays the partial run it is
        var resume = await CliRunner.RunAsync("run", "--project", project.Folder, "--resume", runId);
        resume.Code.Should().Be(2);
        Flat(resume.Error).Should().Contain($"run {runId} was cancelled (a partial run, kept as it is)");
    }

    [Fact]
    public async Task Cancelling_a_finished_run_or_an_unknown_one_is_a_located_error()
    {
        // Given a distributed run of three cases that a worker finished
        await using var server = new FakeOpenAIServer();
        using var project = OnPostgres(new RunProject(server.BaseUrl, 3));
        var runId = await SubmitAsync(project);
        (await CliRunner.RunAsync("worker", "--project", project.Folder, "--once", "--poll", "0.05")).Code.Should().Be(0);

        // When it is cancelled, and so is a run id the store does not have
        var finished = await CliRunner.RunAsync("run", "--project", project.Folder, "--cancel", runId);
        var unknown = await CliRunner.RunAsync("run", "--project", project.Folder, "--cancel", "20260101-000000-nobody");

        // Then both are refused with the store and run as the place, and the finished run keeps its status
        finished.Code.Should().Be(2);
        Flat(finished.Error).Should().MatchRegex($@"postgres://\S+ \(run {runId}\): error RC1901: run {runId} already finished \(completed at [0-9: -]+Z\) with all 3 case\(s\)");
        unknown.Code.Should().Be(2);
        Flat(unknown.Error).Should().Contain("(run 20260101-000000-nobody): error RC1902: no distributed run '20260101-000000-nobody' in the store");
        (await ScalarAsync($"SELECT count(*) FROM recal.runs WHERE id = '{runId}' AND status = 'completed'")).Should().Be(1);
    }

    [Fact]
    public async Task Ctrl_c_on_a_waiting_submitter_cancels_the_run_it_queued()
    {
        // Given a project on PostgreSQL and no worker
        await using var server = new FakeOpenAIServer();
        using var project = OnPostgres(new RunProject(server.BaseUrl, 5));

        // When a distributed run is queued with --wait and Ctrl-C comes while it waits
        using var ctrlC = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var watching = CliRunner.RunAsync(ctrlC.Token, "run", "--project", project.Folder, "--distributed", "--wait");
        while (await ScalarAsync("SELECT count(*) FROM recal.run_queue_runs") == 0)
        {
            await Task.Delay(25, Token);
        }

        await ctrlC.CancelAsync();
        var result = await watching;

        // Then the submitter cancelled the run before exiting with 130, and no worker will take its cases
        result.Code.Should().Be(130, result.Out + result.Error);
        Flat(result.Error).Should().Contain("Cancelling the run").And.MatchRegex(@"Run \S+ cancelled at .*: 0 of 5 case result\(s\) are stored");
        (await ScalarAsync("SELECT count(*) FROM recal.runs WHERE status = 'cancelled'")).Should().Be(1);
        var work = await CliRunner.RunAsync("worker", "--project", project.Folder, "--once", "--poll", "0.05");
        work.Out.Should().Contain("0 case(s) stored");
        server.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task Concurrency_given_to_a_distributed_run_caps_its_calls_in_flight_across_all_workers()
    {
        // Given a run of 24 cases queued with --concurrency 3, against an endpoint answering in 150 ms
        var arrivals = new ConcurrentQueue<long>();
        var latency = TimeSpan.FromMilliseconds(150);
        await using var server = new FakeOpenAIServer { Latency = latency, Respond = _ => { arrivals.Enqueue(Stopwatch.GetTimestamp()); return null; } };
        using var project = OnPostgres(new RunProject(server.BaseUrl, 24));
        var submit = await CliRunner.RunAsync("run", "--project", project.Folder, "--distributed", "--no-cache", "--concurrency", "3");
        submit.Code.Should().Be(0, submit.Out + submit.Error);
        submit.Error.Should().Contain("at most 3 case(s) in flight across its workers");

        // When two workers of concurrency 4 each (8 together) run it
        var workers = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => CliRunner.RunAsync("worker", "--project", project.Folder, "--once", "--concurrency", "4", "--poll", "0.02")));

        // Then every case was called once, and no more than three requests were ever at the endpoint together
        workers.Should().OnlyContain(w => w.Code == 0);
        arrivals.Should().HaveCount(24);
        var starts = arrivals.Order().ToList();
        var most = starts.Max(start => starts.Count(other => other <= start && Stopwatch.GetElapsedTime(other, start) < latency));
        most.Should().BeLessThanOrEqualTo(3).And.BeGreaterThan(1, "the cap, not one worker, bounds the run");
        (await ScalarAsync("SELECT max_in_flight FROM recal.run_queue_runs")).Should().Be(3);
    }

    [Fact]
    public async Task Attach_reports_the_retries_a_local_run_of_the_same_cases_reports()
    {
        // Given an endpoint that fails the first of every two calls for four of ten cases, and a local run of them
        var calls = new ConcurrentDictionary<string, int>();
        await using var server = new FakeOpenAIServer
        {
            Respond = request => request.LastContent is { } input && Enumerable.Range(0, 4).Select(RunProject.Input).Contains(input)
                && calls.AddOrUpdate(input, 1, (_, n) => n + 1) % 2 == 1 ? FakeReply.ServerError() : null,
        };
        using var project = OnPostgres(new RunProject(server.BaseUrl, 10));
        var local = await CliRunner.RunAsync("run", "--project", project.Folder, "--no-cache");
        local.Code.Should().Be(0, local.Out + local.Error);

        // When the same cases run distributed and are attached to
        var runId = await SubmitAsync(project);
        (await CliRunner.RunAsync("worker", "--project", project.Folder, "--once", "--poll", "0.05")).Code.Should().Be(0);
        var attach = await CliRunner.RunAsync("run", "--project", project.Folder, "--attach", runId);

        // Then both count the same four retries
        local.Out.Should().Contain("10 answered by a call, 0 from the cache, 4 retries");
        attach.Code.Should().Be(0, attach.Out + attach.Error);
        attach.Out.Should().Contain("10 answered by a call, 0 from the cache, 4 retries");
    }

    [Fact]
    public async Task A_distributed_run_over_the_sealed_holdout_is_refused_where_a_local_one_is_and_its_workers_open_it_with_their_own_keys()
    {
        // Given a project whose holdout of five cases is sealed until 2030
        await using var server = new FakeOpenAIServer();
        using var project = OnPostgres(new RunProject(server.BaseUrl, 3));
        var holdoutInputs = WriteHoldout(project, 5);
        var key = project.PathOf("../" + Path.GetFileName(project.Folder) + ".key");
        (await CliRunner.RunAsync("holdout", "new-key", key)).Code.Should().Be(0);
        var seal = await CliRunner.RunAsync("holdout", "seal", "--project", project.Folder, "--key-file", key, "--until", "2030-01-01");
        seal.Code.Should().Be(0, seal.Out + seal.Error);

        // When it is run distributed without the key, and before its date without --unseal, as a local run is
        var noKeyLocal = await CliRunner.RunAsync("run", "--project", project.Folder, "--pool", "holdout");
        var noKey = await CliRunner.RunAsync("run", "--project", project.Folder, "--pool", "holdout", "--distributed");
        var earlyLocal = await CliRunner.RunAsync("run", "--project", project.Folder, "--pool", "holdout", "--key-file", key);
        var early = await CliRunner.RunAsync("run", "--project", project.Folder, "--pool", "holdout", "--key-file", key, "--distributed");

        // Then the distributed run is refused with the local run's words, and nothing is queued
        foreach (var (distributed, localRun) in new[] { (noKey, noKeyLocal), (early, earlyLocal) })
        {
            distributed.Code.Should().Be(2);
            localRun.Code.Should().Be(2);
            ErrorLine(distributed.Error).Should().Be(ErrorLine(localRun.Error)).And.Contain("the holdout is sealed");
        }

        (await ScalarAsync("SELECT count(*) FROM recal.run_queue_runs")).Should().Be(0);

        // When it is queued with the key and --unseal, a worker without the key looks, and one with it works
        var submit = await CliRunner.RunAsync("run", "--project", project.Folder, "--pool", "holdout", "--key-file", key, "--unseal", "--distributed", "--no-cache");
        submit.Code.Should().Be(0, submit.Out + submit.Error);
        var runId = QueuedRun().Match(submit.Error).Groups[1].Value;
        var keyless = await CliRunner.RunAsync("worker", "--project", project.Folder, "--once", "--poll", "0.05");
        var keyed = await CliRunner.RunAsync("worker", "--project", project.Folder, "--once", "--poll", "0.05", "--key-file", key);

        // Then the keyless worker left the run alone, saying why, and the keyed one scored all five cases
        keyless.Code.Should().Be(0, keyless.Out + keyless.Error);
        Flat(keyless.Error).Should().Contain($"skipping run {runId}: the holdout is sealed: no key").And.Contain("this worker leaves the run to workers that have the key");
        keyed.Code.Should().Be(0, keyed.Out + keyed.Error);
        keyed.Out.Should().Contain("5 case(s) stored, 5 call(s)");
        (await ScalarAsync($"SELECT count(*) FROM recal.runs WHERE id = '{runId}' AND status = 'completed'")).Should().Be(1);

        // And no holdout input was written anywhere but the run's results (as a local run writes them), nor back to the case files
        foreach (var input in holdoutInputs)
        {
            (await TablesHoldingAsync(input)).Should().BeEquivalentTo(["run_cases"], $"'{input}' is sealed");
        }

        File.ReadAllText(project.PathOf("cases/holdout.jsonl")).Should().BeEmpty();
    }

    private async Task<string> SubmitAsync(RunProject project)
    {
        var submit = await CliRunner.RunAsync("run", "--project", project.Folder, "--distributed", "--no-cache");
        submit.Code.Should().Be(0, submit.Out + submit.Error);
        return QueuedRun().Match(submit.Error).Groups[1].Value;
    }

    /// <summary>The text as one line: the console wraps long lines at its width, at a space it drops.</summary>
    private static string Flat(string text) => WrappedLine().Replace(text, m => m.Value.StartsWith(' ') ? " " : string.Empty);

    [GeneratedRegex(@" ?\r?\n(?=\S)")]
    private static partial Regex WrappedLine();

    private static string ErrorLine(string error) => error.Split('\n').First(l => l.Contains("error", StringComparison.Ordinal)).Trim();

    /// <summary>Adds <paramref name="count"/> holdout cases shaped like the project's gold cases; returns their inputs.</summary>
    private static IReadOnlyList<string> WriteHoldout(RunProject project, int count)
    {
        var template = File.ReadLines(project.PathOf("cases/gold.jsonl")).First();
        var inputs = Enumerable.Range(0, count).Select(i => $"holdout question {i:00}").ToList();
        File.WriteAllLines(project.PathOf("cases/holdout.jsonl"), inputs.Select((input, i) =>
        {
            var node = JsonNode.Parse(template)!.AsObject();
            node["id"] = $"holdout-{i:00}";
            node["input"] = input;
            node["pool"] = "holdout";
            node["references"] = new JsonArray(new JsonObject { ["text"] = "echo: " + input, ["grade"] = "high" });
            node["assertions"] = new JsonArray(new JsonObject { ["type"] = "contains", ["value"] = input });
            return node.ToJsonString();
        }));
        return inputs;
    }

    /// <summary>The tables of the store with a text column holding <paramref name="text"/>.</summary>
    private async Task<IReadOnlyList<string>> TablesHoldingAsync(string text)
    {
        await using var connection = new NpgsqlConnection(_database!.ConnectionString);
        await connection.OpenAsync(Token);
        var columns = new List<(string Table, string Column, bool Binary)>();
        await using (var list = new NpgsqlCommand("SELECT table_name, column_name, data_type = 'bytea' FROM information_schema.columns WHERE table_schema = 'recal' AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'bytea')", connection))
        await using (var reader = await list.ExecuteReaderAsync(Token))
        {
            while (await reader.ReadAsync(Token))
            {
                columns.Add((reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
            }
        }

        var holding = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (table, column, binary) in columns)
        {
            var holds = binary ? $"position(convert_to($1, 'UTF8') in \"{column}\")" : $"position($1 in \"{column}\"::text)";
            await using var find = new NpgsqlCommand($"SELECT count(*) FROM recal.\"{table}\" WHERE {holds} > 0", connection);
            find.Parameters.AddWithValue(text);
            if ((long)(await find.ExecuteScalarAsync(Token))! > 0)
            {
                holding.Add(table);
            }
        }

        return [.. holding];
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
