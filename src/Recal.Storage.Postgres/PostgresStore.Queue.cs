using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Recal.Running;

namespace Recal.Storage.Postgres;

/// <summary>
/// The queue of distributed runs (docs/running.md#distributed-runs). Every time is the server's (<c>clock_timestamp()</c>),
/// so workers on machines whose clocks disagree still agree on leases and call slots.
/// </summary>
public sealed partial class PostgresStore : IRunQueue
{
    public async ValueTask EnqueueRunAsync(RunInfo run, IReadOnlyList<string> caseIds, DistributedRunSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(caseIds);
        ArgumentNullException.ThrowIfNull(settings);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var insert = new NpgsqlCommand(InsertRunSql, connection, transaction))
        {
            insert.Parameters.AddRange(RunParameters(run));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var queue = new NpgsqlCommand("INSERT INTO run_queue_runs (run_id, settings_json, max_error_share, remaining, max_in_flight) VALUES ($1, $2, $3, $4, $5)", connection, transaction))
        {
            queue.Parameters.AddRange(new[]
            {
                Parameter(run.Id, NpgsqlDbType.Text),
                Parameter(JsonSerializer.Serialize(settings, RunJson), NpgsqlDbType.Text),
                Parameter(settings.MaxErrorShare, NpgsqlDbType.Double),
                Parameter(caseIds.Count, NpgsqlDbType.Integer),
                Parameter(settings.MaxInFlight, NpgsqlDbType.Integer),
            });
            await queue.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var copy = await connection.BeginBinaryImportAsync("COPY run_queue (run_id, case_id) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            foreach (var caseId in caseIds)
            {
                await copy.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await copy.WriteAsync(run.Id, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                await copy.WriteAsync(caseId, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
            }

            await copy.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        // Delivered to the listening workers when the transaction commits, not before.
        await using (var notify = new NpgsqlCommand($"SELECT pg_notify('{RunsQueuedChannel}', $1)", connection, transaction))
        {
            notify.Parameters.Add(Parameter(run.Id, NpgsqlDbType.Text));
            await notify.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The channel a queued run is announced on (<c>NOTIFY</c>); workers of every store in the database hear it, and look for work.</summary>
    internal const string RunsQueuedChannel = "recal_runs_queued";

    private readonly SemaphoreSlim _listening = new(1, 1);
    private NpgsqlConnection? _listener;

    /// <summary>
    /// On a connection of its own that <c>LISTEN</c>s for queued runs (opened at the first wait and kept): returns when
    /// a notification arrives, or after <paramref name="timeout"/>. A notification sent between two waits is kept by the
    /// connection and ends the next wait at once. A listener that fails is dropped (the next wait opens another) and this
    /// wait falls back to the timeout.
    /// </summary>
    public async ValueTask WaitForRunsAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await _listening.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_listener is null)
            {
                var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await using var listen = new NpgsqlCommand($"LISTEN {RunsQueuedChannel}", connection);
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                _listener = connection;
            }

            var left = timeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (left > TimeSpan.Zero)
            {
                await _listener.WaitAsync(left, cancellationToken).ConfigureAwait(false);
            }

            return;
        }
        catch (Exception e) when (e is NpgsqlException or IOException or System.Net.Sockets.SocketException)
        {
            await DropListenerAsync().ConfigureAwait(false);
        }
        finally
        {
            _listening.Release();
        }

        var rest = timeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask DropListenerAsync()
    {
        if (_listener is { } listener)
        {
            _listener = null;
            await listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask<IReadOnlyList<(RunInfo Run, DistributedRunSettings Settings)>> GetOpenRunsAsync(string project, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        var runs = new List<(RunInfo, DistributedRunSettings)>();
        await ReadAsync(
            $"""
            SELECT {string.Join(", ", RunColumns.Split(", ").Select(c => "r." + c))}, q.settings_json
            FROM runs r JOIN run_queue_runs q ON q.run_id = r.id
            WHERE r.project = $1 AND r.status = 'running' ORDER BY r.started, r.id
            """,
            r => runs.Add((RunFrom(r), JsonSerializer.Deserialize<DistributedRunSettings>(r.GetString(11), RunJson)!)),
            cancellationToken,
            Parameter(project, NpgsqlDbType.Text)).ConfigureAwait(false);
        return runs;
    }

    /// <summary>
    /// One round trip, one implicit transaction of three statements. The first locks the rows of the runs with a cap on
    /// cases in flight, so two claims of a capped run count its live leases one after the other; the second holds the
    /// runs still running against a cancel until the claim commits (a cancel then takes the claimed cases back); the third
    /// locks the oldest claimable cases of each running run, skipping those another claim has locked this instant, up to
    /// the run's room under its cap, and leases them. A case whose lease expired is claimable again; the row lock is
    /// re-checked, so two claims never share a case.
    /// </summary>
    public async ValueTask<IReadOnlyList<ClaimedCase>> ClaimCasesAsync(string worker, IReadOnlyCollection<string> runIds, int max, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(runIds);
        var claimed = new List<ClaimedCase>();
        if (runIds.Count == 0 || max <= 0)
        {
            return claimed;
        }

        var runs = runIds.Order(StringComparer.Ordinal).ToArray();
        await using var batch = _dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT run_id FROM run_queue_runs WHERE run_id = ANY($1) AND max_in_flight IS NOT NULL ORDER BY run_id FOR UPDATE")
        {
            Parameters = { Parameter(runs, NpgsqlDbType.Array | NpgsqlDbType.Text) },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT id FROM runs WHERE id = ANY($1) AND status = 'running' ORDER BY id FOR SHARE")
        {
            Parameters = { Parameter(runs, NpgsqlDbType.Array | NpgsqlDbType.Text) },
        });
        batch.BatchCommands.Add(new NpgsqlBatchCommand(
            """
            WITH room AS (
                SELECT q.run_id, CASE WHEN q.max_in_flight IS NULL THEN $3::bigint
                    ELSE greatest(0, q.max_in_flight - (SELECT count(*) FROM run_queue l WHERE l.run_id = q.run_id AND l.state = 1 AND l.lease_until >= clock_timestamp())) END AS n
                FROM run_queue_runs q JOIN runs r ON r.id = q.run_id
                WHERE q.run_id = ANY($2) AND r.status = 'running'),
            picked AS (
                SELECT c.run_id, c.case_id FROM room CROSS JOIN LATERAL (
                    SELECT run_id, case_id FROM run_queue
                    WHERE run_id = room.run_id AND state < 2 AND (state = 0 OR lease_until < clock_timestamp())
                    ORDER BY case_id
                    LIMIT least(room.n, $3)
                    FOR UPDATE SKIP LOCKED) c
                ORDER BY c.run_id, c.case_id
                LIMIT $3)
            UPDATE run_queue q SET state = 1, worker = $1, lease_until = clock_timestamp() + $4, claims = q.claims + 1
            FROM picked WHERE q.run_id = picked.run_id AND q.case_id = picked.case_id
            RETURNING q.run_id, q.case_id, q.claims
            """)
        {
            Parameters =
            {
                Parameter(worker, NpgsqlDbType.Text),
                Parameter(runs, NpgsqlDbType.Array | NpgsqlDbType.Text),
                Parameter(max, NpgsqlDbType.Integer),
                Parameter(lease, NpgsqlDbType.Interval),
            },
        });
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                claimed.Add(new ClaimedCase(reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
            }
        }

        claimed.Sort((a, b) => (string.CompareOrdinal(a.RunId, b.RunId), string.CompareOrdinal(a.CaseId, b.CaseId)) switch
        {
            (0, var byCase) => byCase,
            (var byRun, _) => byRun,
        });
        return claimed;
    }

    public async ValueTask HeartbeatAsync(string worker, int concurrency, TimeSpan lease, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        await RetryOnConflictAsync(
            async (connection, transaction) =>
            {
                await using var batch = new NpgsqlBatch(connection, transaction)
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand("""
                            INSERT INTO run_workers (worker, concurrency, lease_ms, started, heartbeat) VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp())
                            ON CONFLICT (worker) DO UPDATE SET concurrency = excluded.concurrency, lease_ms = excluded.lease_ms, heartbeat = excluded.heartbeat, stopped = NULL
                            """)
                        {
                            Parameters = { Parameter(worker, NpgsqlDbType.Text), Parameter(concurrency, NpgsqlDbType.Integer), Parameter((long)lease.TotalMilliseconds, NpgsqlDbType.Bigint) },
                        },
                        new NpgsqlBatchCommand("UPDATE run_queue SET lease_until = clock_timestamp() + $2 WHERE worker = $1 AND state = 1")
                        {
                            Parameters = { Parameter(worker, NpgsqlDbType.Text), Parameter(lease, NpgsqlDbType.Interval) },
                        },
                    },
                };
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The results go in sorted by case id with <c>ON CONFLICT DO NOTHING</c> (so two workers writing the same cases lock
    /// them in one order); the cases actually inserted are marked done and taken off the run's open count, whose row lock
    /// orders every completion of the run: exactly one transaction brings it to zero and finishes the run.
    /// </summary>
    public async ValueTask<CaseCompletion> CompleteCasesAsync(string runId, string worker, IReadOnlyList<RunCaseRecord> results, int retries = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentNullException.ThrowIfNull(results);
        var sorted = results.OrderBy(r => r.CaseId, StringComparer.Ordinal).ToList();
        return await RetryOnConflictAsync(
            async (connection, transaction) =>
            {
                var inserted = new List<string>();
                await using (var batch = RunCasesBatch(connection, transaction, runId, sorted, "ON CONFLICT (run_id, case_id) DO NOTHING RETURNING case_id"))
                await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                {
                    do
                    {
                        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                        {
                            inserted.Add(reader.GetString(0));
                        }
                    }
                    while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false));
                }

                var written = inserted.ToHashSet(StringComparer.Ordinal);
                var mine = sorted.Where(r => written.Contains(r.CaseId)).ToList();
                var calls = sorted.Count(r => r is { FromCache: false, Attempts: > 0, LatencyMs: not null });
                RunStatus? finished = null;
                await using (var command = new NpgsqlCommand(
                    """
                    WITH done AS (
                        UPDATE run_queue SET state = 2, worker = $2, lease_until = NULL WHERE run_id = $1 AND case_id = ANY($3) AND state < 2 RETURNING 1),
                    open AS (
                        UPDATE run_queue_runs SET remaining = remaining - (SELECT count(*) FROM done) WHERE run_id = $1 RETURNING remaining)
                    INSERT INTO run_worker_totals (run_id, worker, done, calls, cache_hits, errors, discarded, retries) VALUES ($1, $2, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT (run_id, worker) DO UPDATE SET done = run_worker_totals.done + excluded.done, calls = run_worker_totals.calls + excluded.calls,
                        cache_hits = run_worker_totals.cache_hits + excluded.cache_hits, errors = run_worker_totals.errors + excluded.errors,
                        discarded = run_worker_totals.discarded + excluded.discarded, retries = run_worker_totals.retries + excluded.retries
                    RETURNING (SELECT remaining FROM open)
                    """,
                    connection,
                    transaction))
                {
                    command.Parameters.AddRange(new[]
                    {
                        Parameter(runId, NpgsqlDbType.Text),
                        Parameter(worker, NpgsqlDbType.Text),
                        Parameter(inserted.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text),
                        Parameter(mine.Count, NpgsqlDbType.Integer),
                        Parameter(calls, NpgsqlDbType.Integer),
                        Parameter(mine.Count(r => r.FromCache), NpgsqlDbType.Integer),
                        Parameter(mine.Count(r => r.Error is not null), NpgsqlDbType.Integer),
                        Parameter(sorted.Count - mine.Count, NpgsqlDbType.Integer),
                        Parameter(Math.Max(0, retries), NpgsqlDbType.Integer),
                    });
                    var remaining = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                    if (mine.Count > 0 && remaining is int open && open == 0)
                    {
                        finished = await FinishQueuedRunAsync(connection, transaction, runId, cancellationToken).ConfigureAwait(false);
                    }
                }

                return new CaseCompletion(mine.Count, sorted.Count - mine.Count, finished);
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sets the run's status by its error share (degraded above the run's allowed share, as a local run) and its finish time.</summary>
    private static async Task<RunStatus?> FinishQueuedRunAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, CancellationToken cancellationToken)
    {
        await using var finish = new NpgsqlCommand(
            """
            UPDATE runs SET status = CASE WHEN s.cases > 0 AND s.errors::double precision / s.cases > q.max_error_share THEN 'degraded' ELSE 'completed' END,
                finished = date_trunc('milliseconds', clock_timestamp())
            FROM run_queue_runs q,
                (SELECT count(*) AS cases, count(*) FILTER (WHERE error IS NOT NULL) AS errors FROM run_cases WHERE run_id = $1) s
            WHERE runs.id = $1 AND q.run_id = $1 AND runs.status = 'running'
            RETURNING runs.status
            """,
            connection,
            transaction);
        finish.Parameters.Add(Parameter(runId, NpgsqlDbType.Text));
        return await finish.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string status ? Enum.Parse<RunStatus>(status, ignoreCase: true) : null;
    }

    public async ValueTask ReleaseWorkerAsync(string worker, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(worker);
        await RetryOnConflictAsync(
            async (connection, transaction) =>
            {
                await using var batch = new NpgsqlBatch(connection, transaction)
                {
                    BatchCommands =
                    {
                        new NpgsqlBatchCommand("UPDATE run_queue SET state = 0, worker = NULL, lease_until = NULL WHERE worker = $1 AND state = 1") { Parameters = { Parameter(worker, NpgsqlDbType.Text) } },
                        new NpgsqlBatchCommand("UPDATE run_workers SET stopped = clock_timestamp() WHERE worker = $1") { Parameters = { Parameter(worker, NpgsqlDbType.Text) } },
                    },
                };
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                return 0;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The run's row is updated first (waiting for claims that hold it, which then commit their cases), then every case
    /// still leased goes back to queued with no holder; a worker's result that arrives later is still stored once.
    /// </summary>
    public async ValueTask<CancelOutcome> CancelRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var (cancelled, released, stored) = await RetryOnConflictAsync(
            async (connection, transaction) =>
            {
                await using var cancel = new NpgsqlCommand(
                    """
                    UPDATE runs SET status = 'cancelled', finished = date_trunc('milliseconds', clock_timestamp())
                    WHERE id = $1 AND status = 'running' AND EXISTS (SELECT 1 FROM run_queue_runs WHERE run_id = $1)
                    """,
                    connection,
                    transaction);
                cancel.Parameters.Add(Parameter(runId, NpgsqlDbType.Text));
                if (await cancel.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return (false, 0, 0);
                }

                await using var release = new NpgsqlCommand(
                    """
                    WITH released AS (UPDATE run_queue SET state = 0, worker = NULL, lease_until = NULL WHERE run_id = $1 AND state = 1 RETURNING 1)
                    SELECT (SELECT count(*) FROM released), (SELECT count(*) FROM run_cases WHERE run_id = $1)
                    """,
                    connection,
                    transaction);
                release.Parameters.Add(Parameter(runId, NpgsqlDbType.Text));
                await using var reader = await release.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                return (true, (int)reader.GetInt64(0), (int)reader.GetInt64(1));
            },
            cancellationToken).ConfigureAwait(false);
        var state = await GetRunStateAsync(runId, cancellationToken).ConfigureAwait(false);
        return new CancelOutcome(state?.Run, cancelled, released, cancelled ? stored : state?.Done ?? 0);
    }

    public async ValueTask<DistributedRunState?> GetRunStateAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var run = await GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        DistributedRunSettings? settings = null;
        int queued = 0, leased = 0, done = 0, reclaimed = 0, passed = 0, errors = 0;
        await ReadAsync(
            """
            SELECT q.settings_json,
                (SELECT count(*) FROM run_queue WHERE run_id = $1 AND (state = 0 OR (state = 1 AND lease_until < clock_timestamp()))),
                (SELECT count(*) FROM run_queue WHERE run_id = $1 AND state = 1 AND lease_until >= clock_timestamp()),
                (SELECT count(*) FROM run_queue WHERE run_id = $1 AND state = 2),
                (SELECT count(*) FROM run_queue WHERE run_id = $1 AND claims > 1),
                (SELECT count(*) FROM run_cases WHERE run_id = $1 AND passed),
                (SELECT count(*) FROM run_cases WHERE run_id = $1 AND error IS NOT NULL)
            FROM run_queue_runs q WHERE q.run_id = $1
            """,
            r =>
            {
                settings = JsonSerializer.Deserialize<DistributedRunSettings>(r.GetString(0), RunJson);
                (queued, leased, done, reclaimed, passed, errors) = ((int)r.GetInt64(1), (int)r.GetInt64(2), (int)r.GetInt64(3), (int)r.GetInt64(4), (int)r.GetInt64(5), (int)r.GetInt64(6));
            },
            cancellationToken,
            Parameter(runId, NpgsqlDbType.Text)).ConfigureAwait(false);
        if (run is null || settings is null)
        {
            return null;
        }

        var workers = new List<WorkerState>();
        await ReadAsync(
            """
            SELECT w.worker, w.concurrency, extract(epoch FROM clock_timestamp() - w.heartbeat)::double precision, w.lease_ms, w.stopped IS NOT NULL,
                coalesce(t.done, 0), coalesce(t.calls, 0), coalesce(t.cache_hits, 0), coalesce(t.errors, 0), coalesce(t.discarded, 0), coalesce(t.retries, 0)
            FROM run_workers w LEFT JOIN run_worker_totals t ON t.worker = w.worker AND t.run_id = $1
            WHERE t.run_id IS NOT NULL OR EXISTS (SELECT 1 FROM run_queue q WHERE q.worker = w.worker AND q.state = 1 AND q.run_id = $1)
            ORDER BY w.worker
            """,
            r => workers.Add(new WorkerState(
                r.GetString(0), r.GetInt32(1), TimeSpan.FromSeconds(Math.Max(0, r.GetDouble(2))), TimeSpan.FromMilliseconds(r.GetInt64(3)), r.GetBoolean(4),
                r.GetInt32(5), r.GetInt32(6), r.GetInt32(7), r.GetInt32(8), r.GetInt32(9), r.GetInt32(10))),
            cancellationToken,
            Parameter(runId, NpgsqlDbType.Text)).ConfigureAwait(false);
        var recent = new List<(string, string)>();
        await ReadAsync(
            "SELECT case_id, error FROM run_cases WHERE run_id = $1 AND error IS NOT NULL ORDER BY finished DESC, case_id LIMIT 5",
            r => recent.Add((r.GetString(0), r.GetString(1))),
            cancellationToken,
            Parameter(runId, NpgsqlDbType.Text)).ConfigureAwait(false);
        return new DistributedRunState(run, settings, queued, leased, done, passed, errors, reclaimed, workers, recent);
    }

    /// <summary>One upsert under the limit's row lock: every worker's reservation takes the next slot after the last one handed out.</summary>
    public async ValueTask<TimeSpan> ReserveCallSlotAsync(string key, TimeSpan spacing, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var command = Command(
            """
            INSERT INTO call_slots AS s (key, next_slot) VALUES ($1, clock_timestamp() + $2)
            ON CONFLICT (key) DO UPDATE SET next_slot = greatest(s.next_slot, clock_timestamp()) + $2
            RETURNING extract(epoch FROM s.next_slot - $2 - clock_timestamp())::double precision
            """,
            Parameter(key, NpgsqlDbType.Text),
            Parameter(spacing, NpgsqlDbType.Interval));
        var wait = (double)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return wait > 0 ? TimeSpan.FromSeconds(wait) : TimeSpan.Zero;
    }

    /// <summary>Runs <paramref name="work"/> in a transaction, again when the server chose it as a deadlock's victim (rows of a case written by two workers at once).</summary>
    private async Task<T> RetryOnConflictAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var result = await work(connection, transaction).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                return result;
            }
            catch (PostgresException e) when (attempt < 5 && e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10 * attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
