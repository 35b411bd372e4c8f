using System.Security.Cryptography;
using Recal.Domain;
using Recal.Ingest;
using SQLitePCL;

namespace Recal.Storage.Sqlite;

/// <summary>Merging trace parts (spans of one trace in several batches or files, feedback that comes later) into stored traces.</summary>
public sealed partial class SqliteStore
{
    private Dictionary<long, long>? _partRows;
    private long _partRowsThrough = long.MinValue;
    private HashSet<long>? _pendingKeys;
    private long _pendingThrough = long.MinValue;

    public async ValueTask<MergeBatchResult> MergeTracesAsync(IReadOnlyList<TraceUpdate> batch, Func<ClassifiedTrace, TraceUpdate, ClassifiedTrace?> merge, IngestSession? ingest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(merge);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            int added = 0, merged = 0, unchanged = 0;
            var missing = new List<int>();
            var json = new ArrayBufferWriterPool();
            var db = _connection.Handle!;
            var keys = StoredKeys(db);
            var pending = PendingKeys(db);
            var lastRow = _storedKeysThroughRow;
            var nextRow = RowFloor(db);
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var storedSeed = SamplePriority.SeedPrefix(SamplePriority.StoredSeed);
            Check(raw.sqlite3_prepare_v2(db, InsertSql, out var insert), db);
            Check(raw.sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO trace_parts (trace_row, key_hash) VALUES (?1, ?2)", out var remember), db);
            // The map of part rows is read only when a part meets a stored trace: a first ingest never needs it.
            Dictionary<long, long>? partRows = _partRows is null ? null : PartRows(db);
            var rollup = _rollup;
            rollup.Clear();
            try
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    var update = batch[i];
                    var keyHash = KeyHash(update.Key);
                    if (!keys.Contains(keyHash))
                    {
                        if (update.Trace is not { } fresh)
                        {
                            // Metadata or a model for a trace that comes later (a root span before its chat span) waits for it.
                            KeepPending(db, pending, keyHash, update, json);
                            missing.Add(i);
                            continue;
                        }

                        if (pending.Contains(keyHash))
                        {
                            fresh = ApplyPending(db, pending, keyHash, fresh, merge);
                        }

                        BindInsert(insert, keyHash, fresh, ingest, json, transaction, sha256, storedSeed, nextRow);
                        nextRow = null;
                        Step(insert, db);
                        lastRow = raw.sqlite3_last_insert_rowid(db);
                        keys.Add(keyHash);
                        Remember(remember, db, partRows, keyHash, lastRow);
                        rollup.Add(fresh);
                        added++;
                        continue;
                    }

                    partRows ??= PartRows(db);
                    // No row: a pruned trace's key (its parts are not merged into a trace that is gone), or another key with
                    // the same 63-bit hash (as AddTracesAsync does, the part is taken as stored).
                    if (FindRow(db, partRows, keyHash, update.Key) is not { } row || ReadRow(row) is not { } stored)
                    {
                        unchanged++;
                        continue;
                    }

                    if (stored.Key != update.Key || merge(stored, update) is not { } result)
                    {
                        unchanged++;
                        continue;
                    }

                    UpdateRow(db, row, result, json, transaction);
                    Remember(remember, db, partRows, keyHash, row);
                    rollup.Remove(stored);
                    rollup.Add(result);
                    merged++;
                }

                ApplyRollup(db, rollup, transaction);
                transaction.Commit();
            }
            catch
            {
                _storedKeys = null;
                _partRows = null;
                _pendingKeys = null;
                throw;
            }
            finally
            {
                insert.Dispose();
                remember.Dispose();
            }

            _storedKeysThroughRow = lastRow;
            return new MergeBatchResult(added, merged, unchanged, missing);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The key hashes of pending parts, read once and kept current by reading only rows added since.</summary>
    private HashSet<long> PendingKeys(sqlite3 db)
    {
        if (_pendingKeys is null)
        {
            _pendingKeys = [];
            _pendingThrough = long.MinValue;
        }

        var keys = _pendingKeys;
        ScanAfter(db, "SELECT id, key_hash FROM pending_parts WHERE id > ?1 ORDER BY id", _pendingThrough, (id, keyHash) =>
        {
            _pendingThrough = id;
            keys.Add(keyHash);
        });
        return keys;
    }

    /// <summary>Keeps a part's metadata and model for its trace, once (a rerun finds the same row).</summary>
    private void KeepPending(sqlite3 db, HashSet<long> pending, long keyHash, TraceUpdate update, ArrayBufferWriterPool json)
    {
        if (update.Metadata is not { Count: > 0 } && update.Model is null)
        {
            return;
        }

        var metadata = update.Metadata is { Count: > 0 } m ? System.Text.Encoding.UTF8.GetString(json.Metadata(m).Span) : null;
        Check(raw.sqlite3_prepare_v2(db, """
            INSERT INTO pending_parts (key_hash, key, metadata_json, model) SELECT ?1, ?2, ?3, ?4
            WHERE NOT EXISTS (SELECT 1 FROM pending_parts WHERE key_hash = ?1 AND key = ?2 AND metadata_json IS ?3 AND model IS ?4)
            """, out var keep), db);
        using (keep)
        {
            raw.sqlite3_bind_int64(keep, 1, keyHash);
            raw.sqlite3_bind_text16(keep, 2, update.Key.AsSpan());
            BindText(keep, 3, metadata);
            BindText(keep, 4, update.Model);
            Step(keep, db);
        }

        if (raw.sqlite3_changes(db) == 0)
        {
            return;
        }

        pending.Add(keyHash);
        _pendingThrough = Math.Max(_pendingThrough, raw.sqlite3_last_insert_rowid(db));
    }

    /// <summary>A new trace with the parts kept for it merged in (in the order they came), which are then removed.</summary>
    private static ClassifiedTrace ApplyPending(sqlite3 db, HashSet<long> pending, long keyHash, ClassifiedTrace fresh, Func<ClassifiedTrace, TraceUpdate, ClassifiedTrace?> merge)
    {
        var parts = new List<TraceUpdate>();
        Check(raw.sqlite3_prepare_v2(db, "SELECT metadata_json, model FROM pending_parts WHERE key_hash = ?1 AND key = ?2 ORDER BY id", out var read), db);
        using (read)
        {
            raw.sqlite3_bind_int64(read, 1, keyHash);
            raw.sqlite3_bind_text16(read, 2, fresh.Key.AsSpan());
            int result;
            while ((result = raw.sqlite3_step(read)) == raw.SQLITE_ROW)
            {
                var metadata = raw.sqlite3_column_type(read, 0) == raw.SQLITE_NULL ? null : ReadMetadata(raw.sqlite3_column_text(read, 0).utf8_to_string());
                var model = raw.sqlite3_column_type(read, 1) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(read, 1).utf8_to_string();
                parts.Add(new TraceUpdate(fresh.Key, null, Feedback.None, metadata, model));
            }

            Check(result, db);
        }

        if (parts.Count == 0)
        {
            return fresh;
        }

        foreach (var part in parts)
        {
            fresh = merge(fresh, part) ?? fresh;
        }

        Check(raw.sqlite3_prepare_v2(db, "DELETE FROM pending_parts WHERE key_hash = ?1 AND key = ?2", out var remove), db);
        using (remove)
        {
            raw.sqlite3_bind_int64(remove, 1, keyHash);
            raw.sqlite3_bind_text16(remove, 2, fresh.Key.AsSpan());
            Step(remove, db);
        }

        pending.Remove(keyHash);
        return fresh;
    }

    private static void Step(sqlite3_stmt statement, sqlite3 db)
    {
        var result = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (result != raw.SQLITE_DONE)
        {
            Check(result, db);
        }
    }

    /// <summary>
    /// The rows of traces made of parts by key hash, read from <c>trace_parts</c> on the first merge and kept current by
    /// reading only rows added since (by this or another writer). The table is appended in row order, so writing it
    /// costs no random page; the map takes about 40 bytes per such trace.
    /// </summary>
    private Dictionary<long, long> PartRows(sqlite3 db)
    {
        var rows = _partRows ??= [];
        ScanAfter(db, "SELECT trace_row, key_hash FROM trace_parts WHERE trace_row > ?1 ORDER BY trace_row", _partRowsThrough, (row, keyHash) =>
        {
            _partRowsThrough = row;
            rows.TryAdd(keyHash, row);
        });
        return rows;
    }

    /// <summary>Visits the (row, key hash) pairs a query returns for rows after <paramref name="after"/> (its one parameter).</summary>
    private static void ScanAfter(sqlite3 db, string sql, long after, Action<long, long> visit)
    {
        Check(raw.sqlite3_prepare_v2(db, sql, out var scan), db);
        using (scan)
        {
            raw.sqlite3_bind_int64(scan, 1, after);
            int result;
            while ((result = raw.sqlite3_step(scan)) == raw.SQLITE_ROW)
            {
                visit(raw.sqlite3_column_int64(scan, 0), raw.sqlite3_column_int64(scan, 1));
            }

            Check(result, db);
        }
    }

    private void Remember(sqlite3_stmt remember, sqlite3 db, Dictionary<long, long>? partRows, long keyHash, long row)
    {
        if (partRows is not null && !partRows.TryAdd(keyHash, row))
        {
            return;
        }

        raw.sqlite3_bind_int64(remember, 1, row);
        raw.sqlite3_bind_int64(remember, 2, keyHash);
        Step(remember, db);
        if (partRows is not null)
        {
            _partRowsThrough = Math.Max(_partRowsThrough, row);
        }
    }

    /// <summary>
    /// The row of a stored key: from the rows of traces made of parts, else (a trace first stored from JSONL) by a scan
    /// of the key hashes, which the traces table has no index for: that happens once per such trace.
    /// </summary>
    private static long? FindRow(sqlite3 db, Dictionary<long, long> partRows, long keyHash, string key)
    {
        if (partRows.TryGetValue(keyHash, out var known))
        {
            return known;
        }

        Check(raw.sqlite3_prepare_v2(db, "SELECT id FROM traces WHERE key_hash = ?1 AND key = ?2", out var byScan), db);
        using (byScan)
        {
            raw.sqlite3_bind_int64(byScan, 1, keyHash);
            raw.sqlite3_bind_text16(byScan, 2, key.AsSpan());
            return raw.sqlite3_step(byScan) == raw.SQLITE_ROW ? raw.sqlite3_column_int64(byScan, 0) : null;
        }
    }

    /// <summary>The trace of a row; null when the row is gone (pruned by this or another process since its row was remembered).</summary>
    private ClassifiedTrace? ReadRow(long row)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            SELECT key, ts, input_text, input_json, output, model, metadata_json, thumbs, csat, escalated, continued, completed, follow_up,
                label, intent_id, intent_source, confidence, cohort_id
            FROM traces WHERE id = $id
            """;
        command.Parameters.AddWithValue("$id", row);
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadTrace(reader) : null;
    }

    private void UpdateRow(sqlite3 db, long row, ClassifiedTrace item, ArrayBufferWriterPool json, Microsoft.Data.Sqlite.SqliteTransaction transaction)
    {
        Check(raw.sqlite3_prepare_v2(db, """
            UPDATE traces SET ts = ?1, input_text = ?2, input_json = ?3, output = ?4, model = ?5, metadata_json = ?6, thumbs = ?7, csat = ?8,
                escalated = ?9, continued = ?10, completed = ?11, follow_up = ?12, label = ?13, intent_id = ?14, intent_source = ?15,
                confidence = ?16, cohort_id = ?17
            WHERE id = ?18
            """, out var update), db);
        using (update)
        {
            var trace = item.Trace;
            raw.sqlite3_bind_int64(update, 1, trace.Timestamp.ToUnixTimeMilliseconds());
            raw.sqlite3_bind_text16(update, 2, trace.Input.ClassificationText.AsSpan());
            BindUtf8(update, 3, trace.Input.Messages is null ? (ReadOnlyMemory<byte>?)null : json.Messages(trace.Input.Messages));
            BindText(update, 4, trace.Output);
            BindText(update, 5, trace.Model);
            BindUtf8(update, 6, trace.Metadata.Count == 0 ? (ReadOnlyMemory<byte>?)null : trace.MetadataUtf8 ?? json.Metadata(trace.Metadata));
            BindInt(update, 7, trace.Feedback.Thumbs);
            if (trace.Feedback.Csat is { } csat)
            {
                raw.sqlite3_bind_double(update, 8, csat);
            }
            else
            {
                raw.sqlite3_bind_null(update, 8);
            }

            BindInt(update, 9, Flag(trace.Feedback.Escalated));
            BindInt(update, 10, Flag(trace.Feedback.Continued));
            BindInt(update, 11, Flag(trace.Feedback.Completed));
            BindInt(update, 12, Flag(trace.Feedback.FollowUp));
            BindText(update, 13, trace.Intent);
            raw.sqlite3_bind_int64(update, 14, NameId("intents", "name", item.Intent, _intentIds, _intentNames, transaction));
            raw.sqlite3_bind_int(update, 15, (int)item.IntentSource);
            raw.sqlite3_bind_double(update, 16, item.Confidence);
            raw.sqlite3_bind_int64(update, 17, NameId("cohorts", "key", item.CohortKey, _cohortIds, _cohortKeys, transaction));
            raw.sqlite3_bind_int64(update, 18, row);
            Step(update, db);
        }
    }
}
