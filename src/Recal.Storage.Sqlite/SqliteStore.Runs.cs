using System.Text.Json;
using Microsoft.Data.Sqlite;
using Recal.Domain;
using Recal.Running;
using Recal.Scoring;

namespace Recal.Storage.Sqlite;

/// <summary>Runs and their per-case results.</summary>
public sealed partial class SqliteStore
{
    private static readonly JsonSerializerOptions RunJson = new(JsonSerializerDefaults.Web);

    public async ValueTask CreateRunAsync(RunInfo run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        await WithCommandAsync(
            command =>
            {
                command.CommandText = """
                    INSERT INTO runs (id, project, target, target_json, suite_version, pools, total, judges, started, finished, status)
                    VALUES ($id, $project, $target, $target_json, $suite, $pools, $total, $judges, $started, NULL, $status)
                    """;
                command.Parameters.AddWithValue("$id", run.Id);
                command.Parameters.AddWithValue("$project", run.Project);
                command.Parameters.AddWithValue("$target", run.Target);
                command.Parameters.AddWithValue("$target_json", run.TargetJson);
                command.Parameters.AddWithValue("$suite", run.SuiteVersion);
                command.Parameters.AddWithValue("$pools", run.Pools.ToString());
                command.Parameters.AddWithValue("$total", run.Total);
                command.Parameters.AddWithValue("$judges", (object?)run.Judges ?? DBNull.Value);
                command.Parameters.AddWithValue("$started", run.Started.ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$status", StatusName(run.Status));
                return command.ExecuteNonQueryAsync(cancellationToken);
            },
            cancellationToken).ConfigureAwait(false);
    }

    public ValueTask AddRunCaseAsync(string runId, RunCaseRecord result, CancellationToken cancellationToken = default) =>
        AddRunCasesAsync(runId, [result], cancellationToken);

    /// <summary>Stores the results in one transaction with one prepared statement: a commit per batch, not per case.</summary>
    public async ValueTask AddRunCasesAsync(string runId, IReadOnlyList<RunCaseRecord> results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            return;
        }

        var rows = results.Select(r => (Result: r ?? throw new ArgumentException("a result is null", nameof(results)), Scores: JsonSerializer.Serialize(r.Scores, RunJson), Judge: r.Judge is null ? null : JsonSerializer.Serialize(r.Judge, RunJson))).ToList();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = results.Count > 1 ? _connection.BeginTransaction() : null;
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = """
                INSERT OR REPLACE INTO run_cases (run_id, case_id, intent, cohort, difficulty, pool, output, error, passed, scores_json, judge_json,
                    latency_ms, input_tokens, output_tokens, cost, attempts, from_cache, finished)
                VALUES ($run, $case, $intent, $cohort, $difficulty, $pool, $output, $error, $passed, $scores, $judge,
                    $latency, $input_tokens, $output_tokens, $cost, $attempts, $from_cache, $finished)
                """;
            var p = command.Parameters;
            foreach (var name in (string[])["$run", "$case", "$intent", "$cohort", "$difficulty", "$pool", "$output", "$error", "$passed", "$scores", "$judge",
                "$latency", "$input_tokens", "$output_tokens", "$cost", "$attempts", "$from_cache", "$finished"])
            {
                p.Add(new SqliteParameter { ParameterName = name });
            }

            command.Prepare();
            foreach (var (result, scores, judge) in rows)
            {
                p["$run"].Value = runId;
                p["$case"].Value = result.CaseId;
                p["$intent"].Value = result.Intent;
                p["$cohort"].Value = result.CohortKey;
                p["$difficulty"].Value = (object?)result.Difficulty ?? DBNull.Value;
                p["$pool"].Value = result.Pool;
                p["$output"].Value = (object?)result.Output ?? DBNull.Value;
                p["$error"].Value = (object?)result.Error ?? DBNull.Value;
                p["$passed"].Value = result.Passed ? 1 : 0;
                p["$scores"].Value = scores;
                p["$judge"].Value = (object?)judge ?? DBNull.Value;
                p["$latency"].Value = (object?)result.LatencyMs ?? DBNull.Value;
                p["$input_tokens"].Value = (object?)result.InputTokens ?? DBNull.Value;
                p["$output_tokens"].Value = (object?)result.OutputTokens ?? DBNull.Value;
                p["$cost"].Value = (object?)result.Cost ?? DBNull.Value;
                p["$attempts"].Value = result.Attempts;
                p["$from_cache"].Value = result.FromCache ? 1 : 0;
                p["$finished"].Value = result.Finished.ToUnixTimeMilliseconds();
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction?.Commit();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask FinishRunAsync(string runId, RunStatus status, DateTimeOffset? finished, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        await WithCommandAsync(
            command =>
            {
                command.CommandText = "UPDATE runs SET status = $status, finished = $finished WHERE id = $id";
                command.Parameters.AddWithValue("$id", runId);
                command.Parameters.AddWithValue("$status", StatusName(status));
                command.Parameters.AddWithValue("$finished", (object?)finished?.ToUnixTimeMilliseconds() ?? DBNull.Value);
                return command.ExecuteNonQueryAsync(cancellationToken);
            },
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var runs = await ReadRunsAsync("WHERE id = $id", 1, command => command.Parameters.AddWithValue("$id", runId), cancellationToken).ConfigureAwait(false);
        return runs.Count == 0 ? null : runs[0];
    }

    public ValueTask<IReadOnlyList<RunInfo>> ListRunsAsync(int limit = 50, CancellationToken cancellationToken = default) =>
        QueryRunsAsync(new RunQuery(Limit: limit), cancellationToken);

    /// <summary>The conditions become one WHERE clause: the runs table is small, and a scan of it in start order is the plan.</summary>
    public ValueTask<IReadOnlyList<RunInfo>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var conditions = new List<string>();
        if (query.Target is not null)
        {
            conditions.Add("target = $target");
        }

        var pools = query.Pools?.Names ?? [];
        for (var i = 0; i < pools.Count; i++)
        {
            // Pools are stored as names joined by commas: a pool is among them when ',name,' is in ',pools,'.
            conditions.Add($"instr(',' || pools || ',', $pool{i}) > 0");
        }

        if (query.Since is not null)
        {
            conditions.Add("started >= $since");
        }

        var statuses = query.Statuses?.Distinct().ToList() ?? [];
        if (statuses.Count > 0)
        {
            conditions.Add($"status IN ({string.Join(", ", statuses.Select((_, i) => $"$status{i}"))})");
        }

        if (query.SuiteVersion is not null)
        {
            conditions.Add("suite_version = $suite");
        }

        return ReadRunsAsync(
            conditions.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", conditions),
            query.Limit ?? -1,
            command =>
            {
                var p = command.Parameters;
                if (query.Target is not null)
                {
                    p.AddWithValue("$target", query.Target);
                }

                for (var i = 0; i < pools.Count; i++)
                {
                    p.AddWithValue($"$pool{i}", "," + pools[i] + ",");
                }

                if (query.Since is { } since)
                {
                    p.AddWithValue("$since", since.ToUnixTimeMilliseconds());
                }

                for (var i = 0; i < statuses.Count; i++)
                {
                    p.AddWithValue($"$status{i}", StatusName(statuses[i]));
                }

                if (query.SuiteVersion is not null)
                {
                    p.AddWithValue("$suite", query.SuiteVersion);
                }
            },
            cancellationToken);
    }

    public async ValueTask<IReadOnlyList<RunCaseRecord>> GetRunCasesAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var results = new List<RunCaseRecord>();
        await WithCommandAsync(
            async command =>
            {
                command.CommandText = """
                    SELECT case_id, intent, cohort, difficulty, pool, output, error, passed, scores_json, judge_json,
                        latency_ms, input_tokens, output_tokens, cost, attempts, from_cache, finished
                    FROM run_cases WHERE run_id = $run ORDER BY case_id
                    """;
                command.Parameters.AddWithValue("$run", runId);
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    results.Add(new RunCaseRecord(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        NullableString(reader, 3),
                        reader.GetString(4),
                        NullableString(reader, 5),
                        NullableString(reader, 6),
                        reader.GetInt64(7) != 0,
                        JsonSerializer.Deserialize<List<ScoreResult>>(reader.GetString(8), RunJson) ?? [],
                        reader.IsDBNull(9) ? null : JsonSerializer.Deserialize<JudgeOutcome>(reader.GetString(9), RunJson),
                        reader.IsDBNull(10) ? null : reader.GetDouble(10),
                        reader.IsDBNull(11) ? null : reader.GetInt64(11),
                        reader.IsDBNull(12) ? null : reader.GetInt64(12),
                        reader.IsDBNull(13) ? null : reader.GetDouble(13),
                        (int)reader.GetInt64(14),
                        reader.GetInt64(15) != 0,
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(16))));
                }

                return 0;
            },
            cancellationToken).ConfigureAwait(false);
        return results;
    }

    public async ValueTask<IReadOnlyList<(string RunId, string CaseId)>> GetPoolResultIdsAsync(string pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var ids = new List<(string, string)>();
        await WithCommandAsync(
            async command =>
            {
                command.CommandText = "SELECT run_id, case_id FROM run_cases WHERE pool = $pool";
                command.Parameters.AddWithValue("$pool", pool);
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    ids.Add((reader.GetString(0), reader.GetString(1)));
                }

                return 0;
            },
            cancellationToken).ConfigureAwait(false);
        return ids;
    }

    public async ValueTask<IReadOnlyDictionary<string, string>> GetTraceOutputsAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traceIds);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (traceIds.Count == 0)
        {
            return outputs;
        }

        var wanted = traceIds.Select(id => "id:" + id).ToHashSet(StringComparer.Ordinal);
        await WithCommandAsync(
            async command =>
            {
                // One pass over the traces: cheaper than an index the ingest path would have to maintain.
                command.CommandText = "SELECT key, output FROM traces WHERE output IS NOT NULL AND key LIKE 'id:%'";
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var key = reader.GetString(0);
                    if (wanted.Contains(key))
                    {
                        outputs[key[3..]] = reader.GetString(1);
                    }
                }

                return 0;
            },
            cancellationToken).ConfigureAwait(false);
        return outputs;
    }

    /// <summary>The runs a WHERE clause selects, newest first; a negative <paramref name="limit"/> is none (as SQLite reads it).</summary>
    private async ValueTask<IReadOnlyList<RunInfo>> ReadRunsAsync(string where, int limit, Action<SqliteCommand> bind, CancellationToken cancellationToken)
    {
        var runs = new List<RunInfo>();
        await WithCommandAsync(
            async command =>
            {
                command.CommandText = $"SELECT id, project, target, target_json, suite_version, pools, total, judges, started, finished, status FROM runs {where} ORDER BY started DESC, id DESC LIMIT $limit";
                command.Parameters.AddWithValue("$limit", limit);
                bind(command);

                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    runs.Add(new RunInfo(
                        reader.GetString(0),
                        reader.GetString(1),
                        reader.GetString(2),
                        reader.GetString(3),
                        reader.GetString(4),
                        PoolSet.Parse(reader.GetString(5)),
                        (int)reader.GetInt64(6),
                        NullableString(reader, 7),
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                        reader.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                        Enum.Parse<RunStatus>(reader.GetString(10), ignoreCase: true)));
                }

                return 0;
            },
            cancellationToken).ConfigureAwait(false);
        return runs;
    }

    public async ValueTask<RunLeaseHolder?> ClaimRunAsync(string runId, string owner, DateTimeOffset now, DateTimeOffset until, string? takeOverFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(owner);
        RunLeaseHolder? holder = null;
        await WithCommandAsync(
            async command =>
            {
                // One statement, so two processes claiming at once cannot both win: the second sees the first's row.
                command.CommandText = """
                    UPDATE runs SET lease_owner = $owner, lease_until = $until
                    WHERE id = $id AND (lease_owner IS NULL OR lease_owner = $owner OR lease_until < $now OR lease_owner = $stale)
                    """;
                command.Parameters.AddWithValue("$owner", owner);
                command.Parameters.AddWithValue("$until", until.ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$id", runId);
                command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
                command.Parameters.AddWithValue("$stale", (object?)takeOverFrom ?? DBNull.Value);
                if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0)
                {
                    return 1;
                }

                command.Parameters.Clear();
                command.CommandText = "SELECT lease_owner, lease_until FROM runs WHERE id = $id";
                command.Parameters.AddWithValue("$id", runId);
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                holder = await reader.ReadAsync(cancellationToken).ConfigureAwait(false) && !reader.IsDBNull(0)
                    ? new RunLeaseHolder(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)))
                    : new RunLeaseHolder("nobody (the run is not in the store)", now);
                return 0;
            },
            cancellationToken).ConfigureAwait(false);
        return holder;
    }

    public async ValueTask ReleaseRunAsync(string runId, string owner, CancellationToken cancellationToken = default)
    {
        await WithCommandAsync(
            command =>
            {
                command.CommandText = "UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = $id AND lease_owner = $owner";
                command.Parameters.AddWithValue("$id", runId);
                command.Parameters.AddWithValue("$owner", owner);
                return command.ExecuteNonQueryAsync(cancellationToken);
            },
            cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask WithCommandAsync(Func<SqliteCommand, Task<int>> action, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            await action(command).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static string StatusName(RunStatus status) => status.ToString().ToLowerInvariant();
}
