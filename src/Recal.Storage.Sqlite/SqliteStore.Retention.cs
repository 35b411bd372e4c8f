using SQLitePCL;

namespace Recal.Storage.Sqlite;

/// <summary>
/// Retention of raw traces (docs/store.md#retention-of-raw-traces): the traces before a cutoff deleted in steps of
/// <see cref="PruneStep"/>, each its own <c>BEGIN IMMEDIATE</c> transaction, their key hashes kept in <c>pruned_keys</c>
/// and the daily rollup left as it is.
/// </summary>
public sealed partial class SqliteStore
{
    /// <summary>The traces one step of a prune deletes at most: the size of an ingest's batch, so a writer waits for one such transaction at most.</summary>
    public const int PruneStep = 4096;

    /// <summary>The bytes of a trace's text, JSON and key columns: what its row holds beyond a few numbers.</summary>
    private const string RowBytes =
        "length(CAST(key AS BLOB)) + length(CAST(input_text AS BLOB)) + coalesce(length(CAST(input_json AS BLOB)), 0) + coalesce(length(CAST(output AS BLOB)), 0) + coalesce(length(CAST(model AS BLOB)), 0) + coalesce(length(CAST(metadata_json AS BLOB)), 0) + coalesce(length(CAST(label AS BLOB)), 0)";

    public async ValueTask<PruneSummary> PlanPruneAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var cutoff = Retention.Cutoff(before);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var snapshot = _connection.BeginTransaction(deferred: true);
            var db = _connection.Handle!;
            var days = new SortedSet<long>();
            long traces = 0, bytes = 0;
            Check(raw.sqlite3_prepare_v2(db, $"SELECT ts, {RowBytes} FROM traces WHERE ts < ?1", out var scan), db);
            using (scan)
            {
                raw.sqlite3_bind_int64(scan, 1, cutoff.ToUnixTimeMilliseconds());
                int result;
                while ((result = raw.sqlite3_step(scan)) == raw.SQLITE_ROW)
                {
                    if (++traces % 4096 == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }

                    days.Add(TrafficDays.DayOf(raw.sqlite3_column_int64(scan, 0)));
                    bytes += raw.sqlite3_column_int64(scan, 1);
                }

                Check(result, db);
            }

            return Summary(cutoff, traces, days, bytes);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<PruneSummary> PruneTracesAsync(DateTimeOffset before, IProgress<PruneSummary>? progress = null, CancellationToken cancellationToken = default)
    {
        var cutoff = Retention.Cutoff(before);
        var days = new SortedSet<long>();
        long traces = 0, bytes = 0;
        var recorded = false;
        while (true)
        {
            // A stop is taken between steps only: each step is committed whole or not at all.
            cancellationToken.ThrowIfCancellationRequested();
            int deleted;
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                using var transaction = _connection.BeginTransaction(deferred: false);
                var db = _connection.Handle!;
                var step = new List<(long Row, long KeyHash)>(PruneStep);
                Check(raw.sqlite3_prepare_v2(db, $"SELECT id, key_hash, ts, {RowBytes} FROM traces WHERE ts < ?1 ORDER BY ts LIMIT ?2", out var select), db);
                using (select)
                {
                    raw.sqlite3_bind_int64(select, 1, cutoff.ToUnixTimeMilliseconds());
                    raw.sqlite3_bind_int(select, 2, PruneStep);
                    int result;
                    while ((result = raw.sqlite3_step(select)) == raw.SQLITE_ROW)
                    {
                        step.Add((raw.sqlite3_column_int64(select, 0), raw.sqlite3_column_int64(select, 1)));
                        days.Add(TrafficDays.DayOf(raw.sqlite3_column_int64(select, 2)));
                        bytes += raw.sqlite3_column_int64(select, 3);
                    }

                    Check(result, db);
                }

                if (step.Count > 0 && !recorded)
                {
                    // In the first step's transaction: from its commit on, readers know raw traces before the cutoff may be gone.
                    var at = Retention.Later(Retention.Decode(ReadBlob(db, Retention.PrunedBeforeBlob)), cutoff);
                    WriteBlob(Retention.PrunedBeforeBlob, Retention.Encode(at), transaction);
                    recorded = true;
                }

                Check(raw.sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO pruned_keys (trace_row, key_hash) VALUES (?1, ?2)", out var keep), db);
                Check(raw.sqlite3_prepare_v2(db, "DELETE FROM trace_parts WHERE trace_row = ?1", out var parts), db);
                Check(raw.sqlite3_prepare_v2(db, "DELETE FROM traces WHERE id = ?1", out var remove), db);
                using (keep)
                using (parts)
                using (remove)
                {
                    foreach (var (row, keyHash) in step)
                    {
                        raw.sqlite3_bind_int64(keep, 1, row);
                        raw.sqlite3_bind_int64(keep, 2, keyHash);
                        Step(keep, db);
                        raw.sqlite3_bind_int64(parts, 1, row);
                        Step(parts, db);
                        raw.sqlite3_bind_int64(remove, 1, row);
                        Step(remove, db);
                    }
                }

                transaction.Commit();
                deleted = step.Count;
                if (deleted > 0)
                {
                    // The map of part rows is read again on the next merge, without the rows this step removed.
                    _partRows = null;
                    _partRowsThrough = long.MinValue;
                }
            }
            catch (Microsoft.Data.Sqlite.SqliteException e)
            {
                throw Explain(e, Path);
            }
            finally
            {
                _gate.Release();
            }

            if (deleted == 0)
            {
                return Summary(cutoff, traces, days, bytes);
            }

            traces += deleted;
            progress?.Report(Summary(cutoff, traces, days, bytes));
        }
    }

    public async ValueTask<DateTimeOffset?> GetPrunedBeforeAsync(CancellationToken cancellationToken = default) =>
        Retention.Decode(await GetBlobAsync(Retention.PrunedBeforeBlob, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// The row id the next inserted trace must take, or null to let SQLite choose: SQLite gives the highest row id plus one,
    /// which after a prune of the newest rows would give a pruned trace's id again (and a writer that read keys through
    /// that row would never read the new trace's key). Read under the writer's lock, at the start of its batch.
    /// </summary>
    private static long? RowFloor(sqlite3 db)
    {
        Check(raw.sqlite3_prepare_v2(db, "SELECT (SELECT MAX(trace_row) FROM pruned_keys), (SELECT MAX(id) FROM traces)", out var read), db);
        using (read)
        {
            if (raw.sqlite3_step(read) != raw.SQLITE_ROW || raw.sqlite3_column_type(read, 0) == raw.SQLITE_NULL)
            {
                return null;
            }

            var pruned = raw.sqlite3_column_int64(read, 0);
            return raw.sqlite3_column_type(read, 1) == raw.SQLITE_NULL || raw.sqlite3_column_int64(read, 1) < pruned ? pruned + 1 : null;
        }
    }

    /// <summary>
    /// The first and last midnights (Unix milliseconds) of the pruned days with traffic in the rollup that
    /// [<paramref name="daysFrom"/>, <paramref name="daysTo"/>) holds; null when none (or nothing was pruned).
    /// </summary>
    private static (long First, long Last)? PrunedDays(sqlite3 db, long daysFrom, long daysTo)
    {
        if (Retention.Decode(ReadBlob(db, Retention.PrunedBeforeBlob)) is not { } prunedBefore)
        {
            return null;
        }

        Check(raw.sqlite3_prepare_v2(db, "SELECT MIN(day), MAX(day) FROM traffic_days WHERE traces > 0 AND day >= ?1 AND day < ?2", out var read), db);
        using (read)
        {
            raw.sqlite3_bind_int64(read, 1, daysFrom);
            raw.sqlite3_bind_int64(read, 2, Math.Min(daysTo, prunedBefore.ToUnixTimeMilliseconds()));
            return raw.sqlite3_step(read) == raw.SQLITE_ROW && raw.sqlite3_column_type(read, 0) != raw.SQLITE_NULL
                ? (raw.sqlite3_column_int64(read, 0), raw.sqlite3_column_int64(read, 1))
                : null;
        }
    }

    private static byte[]? ReadBlob(sqlite3 db, string key)
    {
        Check(raw.sqlite3_prepare_v2(db, "SELECT value FROM blobs WHERE key = ?1", out var read), db);
        using (read)
        {
            raw.sqlite3_bind_text16(read, 1, key.AsSpan());
            return raw.sqlite3_step(read) == raw.SQLITE_ROW ? raw.sqlite3_column_blob(read, 0).ToArray() : null;
        }
    }

    private void WriteBlob(string key, byte[] value, Microsoft.Data.Sqlite.SqliteTransaction transaction)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO blobs (key, value, updated) VALUES ($key, $value, $updated) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated";
        command.Parameters.AddWithValue("$key", key);
        command.Parameters.AddWithValue("$value", value);
        command.Parameters.AddWithValue("$updated", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        command.ExecuteNonQuery();
    }

    private static PruneSummary Summary(DateTimeOffset cutoff, long traces, SortedSet<long> days, long bytes) =>
        new(cutoff, traces, days.Count, [.. days.Select(Retention.MonthOf).Distinct()], [], bytes);
}
