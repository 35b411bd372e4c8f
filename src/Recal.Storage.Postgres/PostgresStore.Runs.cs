using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Recal.Domain;
using Recal.Running;
using Recal.Scoring;

namespace Recal.Storage.Postgres;

/// <summary>Runs, their per-case results and leases.</summary>
public sealed partial class PostgresStore
{
    private static readonly JsonSerializerOptions RunJson = new(JsonSerializerDefaults.Web);

    private const string RunColumns = "id, project, target, target_json, suite_version, pools, total, judges, started, finished, status";

    public async ValueTask CreateRunAsync(RunInfo run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        await using var command = Command(InsertRunSql, RunParameters(run));
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private const string InsertRunSql = $"INSERT INTO runs ({RunColumns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10)";

    private static NpgsqlParameter[] RunParameters(RunInfo run) =>
    [
        Parameter(run.Id, NpgsqlDbType.Text),
        Parameter(run.Project, NpgsqlDbType.Text),
        Parameter(run.Target, NpgsqlDbType.Text),
        Parameter(run.TargetJson, NpgsqlDbType.Text),
        Parameter(run.SuiteVersion, NpgsqlDbType.Text),
        Parameter(run.Pools.Names.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text),
        Parameter(run.Total, NpgsqlDbType.Integer),
        Parameter(run.Judges, NpgsqlDbType.Text),
        Parameter(Milliseconds(run.Started), NpgsqlDbType.TimestampTz),
        Parameter(StatusName(run.Status), NpgsqlDbType.Text),
    ];

    public ValueTask AddRunCaseAsync(string runId, RunCaseRecord result, CancellationToken cancellationToken = default) =>
        AddRunCasesAsync(runId, [result], cancellationToken);

    /// <summary>One round trip and one transaction: a batch of upserts, each replacing an earlier result of its case.</summary>
    public async ValueTask AddRunCasesAsync(string runId, IReadOnlyList<RunCaseRecord> results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(results);
        if (results.Count == 0)
        {
            return;
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = RunCasesBatch(connection, transaction, runId, results, """
            ON CONFLICT (run_id, case_id) DO UPDATE SET intent = excluded.intent, cohort = excluded.cohort, difficulty = excluded.difficulty,
                pool = excluded.pool, output = excluded.output, error = excluded.error, passed = excluded.passed, scores_json = excluded.scores_json,
                judge_json = excluded.judge_json, latency_ms = excluded.latency_ms, input_tokens = excluded.input_tokens,
                output_tokens = excluded.output_tokens, cost = excluded.cost, attempts = excluded.attempts, from_cache = excluded.from_cache,
                finished = excluded.finished
            """);
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One insert of a case result per record, each ending with <paramref name="onConflict"/>.</summary>
    private static NpgsqlBatch RunCasesBatch(NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, IReadOnlyList<RunCaseRecord> results, string onConflict)
    {
        var batch = new NpgsqlBatch(connection, transaction);
        foreach (var result in results)
        {
            ArgumentNullException.ThrowIfNull(result, nameof(results));
            var command = new NpgsqlBatchCommand($"""
                INSERT INTO run_cases (run_id, case_id, intent, cohort, difficulty, pool, output, error, passed, scores_json, judge_json,
                    latency_ms, input_tokens, output_tokens, cost, attempts, from_cache, finished)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
                {onConflict}
                """);
            command.Parameters.AddRange(new[]
            {
                Parameter(runId, NpgsqlDbType.Text),
                Parameter(result.CaseId, NpgsqlDbType.Text),
                Parameter(result.Intent, NpgsqlDbType.Text),
                Parameter(result.CohortKey, NpgsqlDbType.Text),
                Parameter(result.Difficulty, NpgsqlDbType.Text),
                Parameter(result.Pool, NpgsqlDbType.Text),
                Parameter(Text(result.Output), NpgsqlDbType.Text),
                Parameter(Text(result.Error), NpgsqlDbType.Text),
                Parameter(result.Passed, NpgsqlDbType.Boolean),
                Parameter(JsonSerializer.Serialize(result.Scores, RunJson), NpgsqlDbType.Text),
                Parameter(result.Judge is null ? null : JsonSerializer.Serialize(result.Judge, RunJson), NpgsqlDbType.Text),
                Parameter(result.LatencyMs, NpgsqlDbType.Double),
                Parameter(result.InputTokens, NpgsqlDbType.Bigint),
                Parameter(result.OutputTokens, NpgsqlDbType.Bigint),
                Parameter(result.Cost, NpgsqlDbType.Double),
                Parameter(result.Attempts, NpgsqlDbType.Integer),
                Parameter(result.FromCache, NpgsqlDbType.Boolean),
                Parameter(Milliseconds(result.Finished), NpgsqlDbType.TimestampTz),
            });
            batch.BatchCommands.Add(command);
        }

        return batch;
    }

    public async ValueTask FinishRunAsync(string runId, RunStatus status, DateTimeOffset? finished, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        await ExecuteAsync(
            "UPDATE runs SET status = $1, finished = $2 WHERE id = $3",
            cancellationToken,
            Parameter(StatusName(status), NpgsqlDbType.Text),
            Parameter(finished is { } f ? Milliseconds(f) : null, NpgsqlDbType.TimestampTz),
            Parameter(runId, NpgsqlDbType.Text)).ConfigureAwait(false);
    }

    public async ValueTask<RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var runs = await ReadRunsAsync("WHERE id = $1", [Parameter(runId, NpgsqlDbType.Text)], 1, cancellationToken).ConfigureAwait(false);
        return runs.Count == 0 ? null : runs[0];
    }

    public ValueTask<IReadOnlyList<RunInfo>> ListRunsAsync(int limit = 50, CancellationToken cancellationToken = default) =>
        QueryRunsAsync(new RunQuery(Limit: limit), cancellationToken);

    /// <summary>The conditions become one WHERE clause; the pools condition is array containment (<c>@&gt;</c>).</summary>
    public ValueTask<IReadOnlyList<RunInfo>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var conditions = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        void Condition(string sql, object value, NpgsqlDbType type)
        {
            parameters.Add(Parameter(value, type));
            conditions.Add(sql.Replace("$?", "$" + parameters.Count, StringComparison.Ordinal));
        }

        if (query.Target is not null)
        {
            Condition("target = $?", query.Target, NpgsqlDbType.Text);
        }

        if (query.Pools is { Count: > 0 } pools)
        {
            Condition("pools @> $?", pools.Names.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        }

        if (query.Since is { } since)
        {
            Condition("started >= $?", Milliseconds(since), NpgsqlDbType.TimestampTz);
        }

        if (query.Statuses is { Count: > 0 } statuses)
        {
            Condition("status = ANY($?)", statuses.Distinct().Select(StatusName).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text);
        }

        if (query.SuiteVersion is not null)
        {
            Condition("suite_version = $?", query.SuiteVersion, NpgsqlDbType.Text);
        }

        return ReadRunsAsync(conditions.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", conditions), parameters, query.Limit, cancellationToken);
    }

    public async ValueTask<IReadOnlyList<RunCaseRecord>> GetRunCasesAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var results = new List<RunCaseRecord>();
        await ReadAsync(
            """
            SELECT case_id, intent, cohort, difficulty, pool, output, error, passed, scores_json, judge_json,
                latency_ms, input_tokens, output_tokens, cost, attempts, from_cache, finished
            FROM run_cases WHERE run_id = $1 ORDER BY case_id
            """,
            r => results.Add(new RunCaseRecord(
                r.GetString(0),
                r.GetString(1),
                r.GetString(2),
                NullableString(r, 3),
                r.GetString(4),
                NullableString(r, 5),
                NullableString(r, 6),
                r.GetBoolean(7),
                JsonSerializer.Deserialize<List<ScoreResult>>(r.GetString(8), RunJson) ?? [],
                r.IsDBNull(9) ? null : JsonSerializer.Deserialize<JudgeOutcome>(r.GetString(9), RunJson),
                r.IsDBNull(10) ? null : r.GetDouble(10),
                r.IsDBNull(11) ? null : r.GetInt64(11),
                r.IsDBNull(12) ? null : r.GetInt64(12),
                r.IsDBNull(13) ? null : r.GetDouble(13),
                r.GetInt32(14),
                r.GetBoolean(15),
                r.GetFieldValue<DateTimeOffset>(16))),
            cancellationToken,
            Parameter(runId, NpgsqlDbType.Text)).ConfigureAwait(false);
        return results;
    }

    public async ValueTask<IReadOnlyList<(string RunId, string CaseId)>> GetPoolResultIdsAsync(string pool, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var ids = new List<(string, string)>();
        await ReadAsync("SELECT run_id, case_id FROM run_cases WHERE pool = $1", r => ids.Add((r.GetString(0), r.GetString(1))), cancellationToken, Parameter(pool, NpgsqlDbType.Text)).ConfigureAwait(false);
        return ids;
    }

    /// <summary>One statement, so two processes claiming at once cannot both win: the second sees the first's row.</summary>
    public async ValueTask<RunLeaseHolder?> ClaimRunAsync(string runId, string owner, DateTimeOffset now, DateTimeOffset until, string? takeOverFrom = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(owner);
        var granted = await ExecuteAsync(
            """
            UPDATE runs SET lease_owner = $1, lease_until = $2
            WHERE id = $3 AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until < $4 OR lease_owner = $5)
            """,
            cancellationToken,
            Parameter(owner, NpgsqlDbType.Text),
            Parameter(Milliseconds(until), NpgsqlDbType.TimestampTz),
            Parameter(runId, NpgsqlDbType.Text),
            Parameter(Milliseconds(now), NpgsqlDbType.TimestampTz),
            Parameter(takeOverFrom, NpgsqlDbType.Text)).ConfigureAwait(false);
        if (granted > 0)
        {
            return null;
        }

        RunLeaseHolder? holder = null;
        await ReadAsync(
            "SELECT lease_owner, lease_until FROM runs WHERE id = $1 AND lease_owner IS NOT NULL",
            r => holder = new RunLeaseHolder(r.GetString(0), r.GetFieldValue<DateTimeOffset>(1)),
            cancellationToken,
            Parameter(runId, NpgsqlDbType.Text)).ConfigureAwait(false);
        return holder ?? new RunLeaseHolder("nobody (the run is not in the store)", now);
    }

    public async ValueTask ReleaseRunAsync(string runId, string owner, CancellationToken cancellationToken = default)
    {
        await ExecuteAsync(
            "UPDATE runs SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
            cancellationToken,
            Parameter(runId, NpgsqlDbType.Text),
            Parameter(owner, NpgsqlDbType.Text)).ConfigureAwait(false);
    }

    /// <summary>The runs a WHERE clause selects, newest first; a null <paramref name="limit"/> is none.</summary>
    private async ValueTask<IReadOnlyList<RunInfo>> ReadRunsAsync(string where, IReadOnlyList<NpgsqlParameter> parameters, int? limit, CancellationToken cancellationToken)
    {
        var runs = new List<RunInfo>();
        await ReadAsync(
            $"SELECT {RunColumns} FROM runs {where} ORDER BY started DESC, id DESC LIMIT ${parameters.Count + 1}",
            r => runs.Add(RunFrom(r)),
            cancellationToken,
            [.. parameters, Parameter(limit is { } l ? Math.Max(0, l) : null, NpgsqlDbType.Integer)]).ConfigureAwait(false);
        return runs;
    }

    /// <summary>A run from a row whose first columns are <see cref="RunColumns"/>.</summary>
    private static RunInfo RunFrom(NpgsqlDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        r.GetString(2),
        r.GetString(3),
        r.GetString(4),
        PoolSet.Parse(string.Join(',', r.GetFieldValue<string[]>(5))),
        r.GetInt32(6),
        NullableString(r, 7),
        r.GetFieldValue<DateTimeOffset>(8),
        r.IsDBNull(9) ? null : r.GetFieldValue<DateTimeOffset>(9),
        Enum.Parse<RunStatus>(r.GetString(10), ignoreCase: true));

    private static string StatusName(RunStatus status) => status.ToString().ToLowerInvariant();
}
