using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Recal.Domain;
using Recal.Ingest;

namespace Recal.Storage.Postgres;

/// <summary>Writing traces: batches checked against the stored keys in one query and written by binary COPY; parts merged in memory first.</summary>
public sealed partial class PostgresStore
{
    /// <summary>The columns <see cref="WriteContent"/> writes, in its order, with their types: what a merge may change.</summary>
    private static readonly (string Name, NpgsqlDbType Type)[] ContentColumns =
    [
        ("ts", NpgsqlDbType.TimestampTz), ("input_text", NpgsqlDbType.Text), ("input_json", NpgsqlDbType.Text), ("output", NpgsqlDbType.Text),
        ("model", NpgsqlDbType.Text), ("metadata_json", NpgsqlDbType.Text), ("thumbs", NpgsqlDbType.Integer), ("csat", NpgsqlDbType.Double),
        ("escalated", NpgsqlDbType.Boolean), ("continued", NpgsqlDbType.Boolean), ("completed", NpgsqlDbType.Boolean), ("follow_up", NpgsqlDbType.Boolean),
        ("label", NpgsqlDbType.Text), ("intent", NpgsqlDbType.Text), ("intent_source", NpgsqlDbType.Smallint), ("confidence", NpgsqlDbType.Double),
        ("cohort", NpgsqlDbType.Text),
    ];

    /// <summary>The columns <see cref="ReadTrace"/> reads, in its order.</summary>
    private const string TraceColumns =
        "key, ts, input_text, input_json, output, model, metadata_json, thumbs, csat, escalated, continued, completed, follow_up, label, intent, intent_source, confidence, cohort";

    /// <summary><see cref="TraceColumns"/> of the table named <c>t</c>, for queries that join it.</summary>
    private static readonly string TraceColumnsOfT = string.Join(", ", TraceColumns.Split(", ").Select(column => "t." + column));

    /// <summary>
    /// The FROM clause of the stored keys among the keys of the parameter <c>$1</c> (a text array of distinct keys), as
    /// <c>k (key, id, ts)</c>: one probe of <c>trace_keys</c>' primary key per key, whatever the planner's statistics say.
    /// A plain <c>key = ANY($1)</c> was planned, on a store too new for its statistics (the first minute of ingest, until
    /// autovacuum analyzes it), as a parallel scan of the whole table once per batch, which grew with every batch.
    /// </summary>
    internal const string StoredKeysOfArray = "unnest($1::text[]) AS u (key) CROSS JOIN LATERAL (SELECT k.key, k.id, k.ts FROM trace_keys AS k WHERE k.key = u.key LIMIT 1) AS k";

    /// <summary>
    /// The join of each key of <see cref="StoredKeysOfArray"/> to its trace's <paramref name="columns"/> (of <c>traces</c>
    /// as <c>t</c>), as <c>t</c>: one probe of its partition's primary key (a key whose trace was pruned has none, kept as
    /// nulls by a <paramref name="left"/> join, left out otherwise).
    /// </summary>
    private static string TraceOfStoredKey(string columns, bool left) =>
        $"{(left ? "LEFT JOIN" : "CROSS JOIN")} LATERAL (SELECT {columns} FROM traces AS t WHERE t.id = k.id AND t.ts = k.ts LIMIT 1) AS t{(left ? " ON true" : string.Empty)}";

    public ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, CancellationToken cancellationToken = default) =>
        AddTracesAsync(batch, null, cancellationToken);

    /// <summary>One transaction: the batch's keys looked up at once, the new traces written by one binary COPY.</summary>
    public ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, IngestSession? ingest, CancellationToken cancellationToken = default) =>
        WithPartitionsAsync(() => AddTracesOnceAsync(batch, ingest, cancellationToken));

    private async ValueTask<StoreBatchResult> AddTracesOnceAsync(IReadOnlyList<ClassifiedTrace> batch, IngestSession? ingest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return new StoreBatchResult(0, 0);
        }

        batch = WithStorableKeys(batch);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var keys = await StoredKeysAsync(connection, transaction, batch.Select(t => t.Key), cancellationToken).ConfigureAwait(false);
        var fresh = batch.Where(t => keys.Add(t.Key)).ToList();
        var partitions = await EnsurePartitionsAsync(connection, transaction, fresh.Select(t => t.Trace.Timestamp), cancellationToken).ConfigureAwait(false);
        await CopyTracesAsync(connection, fresh, ingest, cancellationToken).ConfigureAwait(false);
        var rollup = new RollupDelta();
        fresh.ForEach(rollup.Add);
        await ApplyRollupAsync(connection, transaction, rollup, cancellationToken).ConfigureAwait(false);
        await CountChangeAsync(connection, transaction, fresh.Count, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        partitions.ForEach(m => _partitions[m] = true);
        return new StoreBatchResult(fresh.Count, batch.Count - fresh.Count);
    }

    /// <summary>
    /// One transaction: the stored traces and pending parts of the batch's keys read at once, every part merged in memory
    /// in order, then the new traces written by binary COPY and the changed ones updated from a staged copy.
    /// </summary>
    public ValueTask<MergeBatchResult> MergeTracesAsync(IReadOnlyList<TraceUpdate> batch, Func<ClassifiedTrace, TraceUpdate, ClassifiedTrace?> merge, IngestSession? ingest, CancellationToken cancellationToken = default) =>
        WithPartitionsAsync(() => MergeTracesOnceAsync(batch, merge, ingest, cancellationToken));

    /// <summary>
    /// Runs a write of traces; when a partition this store made sure of is gone (a prune by another process dropped its
    /// month), the write rolled back whole, so the partitions are checked afresh and it runs once more.
    /// </summary>
    private async ValueTask<T> WithPartitionsAsync<T>(Func<ValueTask<T>> write)
    {
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.CheckViolation && e.TableName == "traces")
        {
            _partitions.Clear();
            return await write().ConfigureAwait(false);
        }
    }

    private async ValueTask<MergeBatchResult> MergeTracesOnceAsync(IReadOnlyList<TraceUpdate> batch, Func<ClassifiedTrace, TraceUpdate, ClassifiedTrace?> merge, IngestSession? ingest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(merge);
        if (batch.Count == 0)
        {
            return new MergeBatchResult(0, 0, 0, []);
        }

        batch = WithStorableKeys(batch);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
        var keys = batch.Select(u => u.Key).Distinct(StringComparer.Ordinal).ToArray();
        var traces = new Dictionary<string, (long? Row, ClassifiedTrace Trace, bool Changed)>(StringComparer.Ordinal);
        var storedBefore = new Dictionary<string, ClassifiedTrace>(StringComparer.Ordinal);
        // A key without its trace is a pruned trace's: its parts are not merged into a trace that is gone, nor stored anew.
        var pruned = new HashSet<string>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand($"SELECT k.key, t.id, {TraceColumnsOfT} FROM {StoredKeysOfArray} {TraceOfStoredKey("t.id, " + TraceColumnsOfT, left: true)}", connection, transaction))
        {
            read.Parameters.Add(Parameter(keys, NpgsqlDbType.Array | NpgsqlDbType.Text));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (reader.IsDBNull(1))
                {
                    pruned.Add(reader.GetString(0));
                    continue;
                }

                var trace = ReadTrace(reader, 2);
                traces[trace.Key] = (reader.GetInt64(1), trace, false);
                storedBefore[trace.Key] = trace;
            }
        }

        var pending = new Dictionary<string, List<(string? Metadata, string? Model)>>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand("SELECT key, metadata_json, model FROM pending_parts WHERE key = ANY($1) ORDER BY id", connection, transaction))
        {
            read.Parameters.Add(Parameter(keys, NpgsqlDbType.Array | NpgsqlDbType.Text));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                PendingOf(pending, reader.GetString(0)).Add((NullableString(reader, 1), NullableString(reader, 2)));
            }
        }

        int added = 0, merged = 0, unchanged = 0;
        var missing = new List<int>();
        var kept = new List<(string Key, string? Metadata, string? Model)>();
        var applied = new HashSet<string>(StringComparer.Ordinal);
        var fresh = new List<string>();
        for (var i = 0; i < batch.Count; i++)
        {
            var update = batch[i];
            if (pruned.Contains(update.Key))
            {
                unchanged++;
                continue;
            }

            if (traces.TryGetValue(update.Key, out var stored))
            {
                if (merge(stored.Trace, update) is { } result)
                {
                    traces[update.Key] = (stored.Row, result, true);
                    merged++;
                }
                else
                {
                    unchanged++;
                }

                continue;
            }

            if (update.Trace is not { } trace)
            {
                // Metadata or a model for a trace that comes later (a root span before its chat span) waits for it, once.
                missing.Add(i);
                if (update.Metadata is { Count: > 0 } || update.Model is not null)
                {
                    var part = (update.Metadata is { Count: > 0 } m ? MetadataJson(m) : null, update.Model);
                    var waiting = PendingOf(pending, update.Key);
                    if (!waiting.Contains(part))
                    {
                        waiting.Add(part);
                        kept.Add((update.Key, part.Item1, part.Model));
                    }
                }

                continue;
            }

            if (pending.Remove(update.Key, out var parts))
            {
                foreach (var (metadata, model) in parts)
                {
                    trace = merge(trace, new TraceUpdate(trace.Key, null, Feedback.None, metadata is null ? null : StoredTraceJson.ReadMetadata(metadata), model)) ?? trace;
                }

                applied.Add(update.Key);
            }

            traces[update.Key] = (null, trace, true);
            fresh.Add(update.Key);
            added++;
        }

        var changed = traces.Values.Where(t => t.Row is not null && t.Changed).ToList();
        var partitions = await EnsurePartitionsAsync(connection, transaction, fresh.Select(k => traces[k].Trace.Trace.Timestamp).Concat(changed.Select(t => t.Trace.Trace.Timestamp)), cancellationToken).ConfigureAwait(false);
        await CopyTracesAsync(connection, [.. fresh.Select(k => traces[k].Trace)], ingest, cancellationToken).ConfigureAwait(false);
        await UpdateTracesAsync(connection, transaction, [.. changed.Select(t => (t.Row!.Value, storedBefore[t.Trace.Key].Trace.Timestamp, t.Trace))], cancellationToken).ConfigureAwait(false);
        var rollup = new RollupDelta();
        fresh.ForEach(k => rollup.Add(traces[k].Trace));
        foreach (var (_, trace, _) in changed)
        {
            rollup.Remove(storedBefore[trace.Key]);
            rollup.Add(trace);
        }

        await ApplyRollupAsync(connection, transaction, rollup, cancellationToken).ConfigureAwait(false);
        await KeepPendingAsync(connection, transaction, [.. kept.Where(k => !applied.Contains(k.Key))], applied, cancellationToken).ConfigureAwait(false);
        await CountChangeAsync(connection, transaction, added + merged, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        partitions.ForEach(m => _partitions[m] = true);
        return new MergeBatchResult(added, merged, unchanged, missing);
    }

    /// <summary>The batch with its keys as PostgreSQL can hold them (<see cref="Text"/>); a batch without U+0000 in a key is returned as it is.</summary>
    private static IReadOnlyList<ClassifiedTrace> WithStorableKeys(IReadOnlyList<ClassifiedTrace> batch) =>
        batch.Any(t => t.Key.Contains('\0', StringComparison.Ordinal)) ? [.. batch.Select(t => t with { Key = Text(t.Key) })] : batch;

    private static IReadOnlyList<TraceUpdate> WithStorableKeys(IReadOnlyList<TraceUpdate> batch) =>
        batch.Any(u => u.Key.Contains('\0', StringComparison.Ordinal))
            ? [.. batch.Select(u => u with { Key = Text(u.Key), Trace = u.Trace is null ? null : u.Trace with { Key = Text(u.Trace.Key) } })]
            : batch;

    private static List<(string? Metadata, string? Model)> PendingOf(Dictionary<string, List<(string? Metadata, string? Model)>> pending, string key)
    {
        if (!pending.TryGetValue(key, out var parts))
        {
            pending[key] = parts = [];
        }

        return parts;
    }

    /// <summary>
    /// A transaction holding the store's write lock: writers of traces take turns, so the keys a batch finds stored
    /// cannot change before it commits (readers are never blocked).
    /// </summary>
    private static async Task<NpgsqlTransaction> BeginWriteAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({WriteLock})", cancellationToken).ConfigureAwait(false);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Counts a write that changed <paramref name="changed"/> traces in <c>trace_changes</c>, in the writer's transaction:
    /// what a reader compares to know its cached anchored span still holds (writers take turns, so the row never waits).
    /// </summary>
    private static async Task CountChangeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, int changed, CancellationToken cancellationToken)
    {
        if (changed > 0)
        {
            await ExecuteAsync(connection, transaction, "UPDATE trace_changes SET version = version + 1", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes sure a partition of <c>traces</c> holds each UTC month of <paramref name="times"/> (docs/store.md#partitions):
    /// a month this store has not written to yet gets <c>CREATE TABLE IF NOT EXISTS … PARTITION OF</c>, in the writer's
    /// transaction (writers take turns, so two never race to create one). Returns the months it checked, to be
    /// remembered once the transaction commits (a rolled-back write takes its new partition with it).
    /// </summary>
    private async Task<List<DateTimeOffset>> EnsurePartitionsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<DateTimeOffset> times, CancellationToken cancellationToken)
    {
        var months = times.Select(t => PeriodMath.Start(t, Period.Month)).Distinct().Where(m => !_partitions.ContainsKey(m)).Order().ToList();
        foreach (var month in months)
        {
            var (from, to) = (month.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture), month.AddMonths(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            await ExecuteAsync(
                connection,
                transaction,
                $"CREATE TABLE IF NOT EXISTS {PartitionName(month)} PARTITION OF traces FOR VALUES FROM ('{from}') TO ('{to}')",
                cancellationToken).ConfigureAwait(false);
        }

        return months;
    }

    /// <summary>The table holding one UTC month of traces: <c>traces_YYYY_MM</c>.</summary>
    internal static string PartitionName(DateTimeOffset month) => $"traces_{month.UtcDateTime.ToString("yyyy_MM", CultureInfo.InvariantCulture)}";

    /// <summary>Adds a write's changes to the daily rollup (<see cref="TrafficDays"/>): one upsert of every changed cell, in the writer's transaction.</summary>
    private static async Task ApplyRollupAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RollupDelta rollup, CancellationToken cancellationToken)
    {
        // Cells keyed as stored: text without U+0000 (two names that differ only there are one cell, as their traces are);
        // in the primary key's order, so that the upsert walks its index forward (about a tenth less time than in any order).
        var changes = rollup.Changes
            .GroupBy(c => (c.Key.Day, Intent: Text(c.Key.Intent), Cohort: Text(c.Key.CohortKey)))
            .Select(g => (g.Key, Value: g.Aggregate(default(FeedbackCount), (sum, c) => sum.Plus(c.Value))))
            .OrderBy(c => c.Key.Day).ThenBy(c => c.Key.Intent, StringComparer.Ordinal).ThenBy(c => c.Key.Cohort, StringComparer.Ordinal)
            .ToList();
        if (changes.Count == 0)
        {
            return;
        }

        await using var upsert = new NpgsqlCommand(
            """
            INSERT INTO traffic_days AS d (day, intent, cohort, traces, rated, up, escalated, escalation_known)
            SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
            ON CONFLICT (day, intent, cohort) DO UPDATE SET
                traces = d.traces + excluded.traces, rated = d.rated + excluded.rated, up = d.up + excluded.up,
                escalated = d.escalated + excluded.escalated, escalation_known = d.escalation_known + excluded.escalation_known
            """,
            connection,
            transaction);
        upsert.Parameters.Add(Parameter(changes.Select(c => DateTimeOffset.FromUnixTimeMilliseconds(c.Key.Day)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.TimestampTz));
        upsert.Parameters.Add(Parameter(changes.Select(c => c.Key.Intent).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
        upsert.Parameters.Add(Parameter(changes.Select(c => c.Key.Cohort).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
        upsert.Parameters.Add(Parameter(changes.Select(c => c.Value.Traces).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint));
        upsert.Parameters.Add(Parameter(changes.Select(c => c.Value.Rated).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint));
        upsert.Parameters.Add(Parameter(changes.Select(c => c.Value.Up).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint));
        upsert.Parameters.Add(Parameter(changes.Select(c => c.Value.Escalated).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint));
        upsert.Parameters.Add(Parameter(changes.Select(c => c.Value.EscalationKnown).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Bigint));
        await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The keys among <paramref name="keys"/> that are stored (one query on <c>trace_keys</c>' primary key).</summary>
    private static async Task<HashSet<string>> StoredKeysAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand($"SELECT k.key FROM {StoredKeysOfArray}", connection, transaction);
        command.Parameters.Add(Parameter(keys.Distinct(StringComparer.Ordinal).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            stored.Add(reader.GetString(0));
        }

        return stored;
    }

    /// <summary>
    /// Writes new traces by binary COPY, tagged with <paramref name="ingest"/>, with their stored sampling priority: their
    /// ids are reserved from the identity's sequence first (one range, one query), so that the same COPY's rows can be listed in
    /// <c>trace_keys</c> by a second COPY.
    /// </summary>
    private static async Task CopyTracesAsync(NpgsqlConnection connection, IReadOnlyList<ClassifiedTrace> traces, IngestSession? ingest, CancellationToken cancellationToken)
    {
        if (traces.Count == 0)
        {
            return;
        }

        // The batch's ids as one range: the sequence moved past it at once (a nextval per row took about 2.7 ms for 1,024
        // rows, the range 0.1 ms). Safe because only writers holding the write lock draw from it, so none draws between the two calls.
        long last;
        await using (var reserve = new NpgsqlCommand("SELECT setval(q.sequence, nextval(q.sequence) + $1 - 1) FROM (SELECT pg_get_serial_sequence('traces', 'id')::regclass AS sequence) AS q", connection))
        {
            reserve.Parameters.Add(Parameter((long)traces.Count, NpgsqlDbType.Bigint));
            last = (long)(await reserve.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }

        var ids = new long[traces.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = last - ids.Length + 1 + i;
        }

        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var storedSeed = SamplePriority.SeedPrefix(SamplePriority.StoredSeed);
        var columns = string.Join(", ", ContentColumns.Select(c => c.Name));
        await using (var writer = await connection.BeginBinaryImportAsync($"COPY traces (id, key, {columns}, ingest_id, sample_priority) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < traces.Count; i++)
            {
                var trace = traces[i];
                writer.StartRow();
                writer.Write(ids[i], NpgsqlDbType.Bigint);
                writer.Write(Text(trace.Key), NpgsqlDbType.Text);
                WriteContent(writer, trace);
                Write(writer, ingest?.Id, NpgsqlDbType.Bigint);
                writer.Write(unchecked((long)SamplePriority.Of(sha256, storedSeed, trace.Key)), NpgsqlDbType.Bigint);
            }

            await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var keys = await connection.BeginBinaryImportAsync("COPY trace_keys (key, id, ts) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            for (var i = 0; i < traces.Count; i++)
            {
                keys.StartRow();
                keys.Write(Text(traces[i].Key), NpgsqlDbType.Text);
                keys.Write(ids[i], NpgsqlDbType.Bigint);
                keys.Write(Milliseconds(traces[i].Trace.Timestamp), NpgsqlDbType.TimestampTz);
            }

            await keys.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Updates stored traces from a staged binary COPY (one UPDATE joined on the row id and the time it was stored at,
    /// so each touches only its own partition; a new time moves the row to its month's partition), their key, ingest and
    /// priority kept, and the time in <c>trace_keys</c> of those whose time changed.
    /// </summary>
    private static async Task UpdateTracesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(long Row, DateTimeOffset StoredAt, ClassifiedTrace Trace)> traces, CancellationToken cancellationToken)
    {
        if (traces.Count == 0)
        {
            return;
        }

        var columns = string.Join(", ", ContentColumns.Select(c => c.Name));
        await ExecuteAsync(connection, transaction, $"CREATE TEMP TABLE merged_traces ON COMMIT DROP AS SELECT id, key, ts AS stored_ts, {columns} FROM traces WITH NO DATA", cancellationToken).ConfigureAwait(false);
        await using (var writer = await connection.BeginBinaryImportAsync($"COPY merged_traces (id, key, stored_ts, {columns}) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            foreach (var (row, storedAt, trace) in traces)
            {
                writer.StartRow();
                writer.Write(row, NpgsqlDbType.Bigint);
                writer.Write(Text(trace.Key), NpgsqlDbType.Text);
                writer.Write(Milliseconds(storedAt), NpgsqlDbType.TimestampTz);
                WriteContent(writer, trace);
            }

            await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(
            connection,
            transaction,
            $"""
            UPDATE traces AS t SET {string.Join(", ", ContentColumns.Select(c => $"{c.Name} = m.{c.Name}"))} FROM merged_traces AS m WHERE t.id = m.id AND t.ts = m.stored_ts;
            UPDATE trace_keys AS k SET ts = m.ts FROM merged_traces AS m WHERE k.key = m.key AND m.ts <> m.stored_ts;
            DROP TABLE merged_traces
            """,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes the pending parts merged into traces this batch added and keeps the new ones, in the order they came.</summary>
    private static async Task KeepPendingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(string Key, string? Metadata, string? Model)> kept, IReadOnlyCollection<string> applied, CancellationToken cancellationToken)
    {
        if (applied.Count > 0)
        {
            await using var remove = new NpgsqlCommand("DELETE FROM pending_parts WHERE key = ANY($1)", connection, transaction);
            remove.Parameters.Add(Parameter(applied.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
            await remove.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        if (kept.Count > 0)
        {
            await using var insert = new NpgsqlCommand(
                "INSERT INTO pending_parts (key, metadata_json, model) SELECT k, m, o FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS p(k, m, o, n) ORDER BY n",
                connection,
                transaction);
            insert.Parameters.Add(Parameter(kept.Select(k => Text(k.Key)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
            insert.Parameters.Add(Parameter(kept.Select(k => k.Metadata).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
            insert.Parameters.Add(Parameter(kept.Select(k => Text(k.Model)).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text));
            await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes the <see cref="ContentColumns"/> of one trace: synchronously, into the importer's buffer (it flushes to the
    /// server as it fills), which costs far less per column than an awaited write.
    /// </summary>
    private static void WriteContent(NpgsqlBinaryImporter writer, ClassifiedTrace item)
    {
        var trace = item.Trace;
        var feedback = trace.Feedback;
        writer.Write(Milliseconds(trace.Timestamp), NpgsqlDbType.TimestampTz);
        writer.Write(Text(trace.Input.ClassificationText), NpgsqlDbType.Text);
        Write(writer, trace.Input.Messages is { } messages ? MessagesJson(messages) : null, NpgsqlDbType.Text);
        Write(writer, Text(trace.Output), NpgsqlDbType.Text);
        Write(writer, Text(trace.Model), NpgsqlDbType.Text);
        var metadata = trace.Metadata.Count == 0 ? null : trace.MetadataUtf8 is { } utf8 ? Encoding.UTF8.GetString(utf8) : MetadataJson(trace.Metadata);
        Write(writer, metadata, NpgsqlDbType.Text);
        Write(writer, feedback.Thumbs, NpgsqlDbType.Integer);
        Write(writer, feedback.Csat, NpgsqlDbType.Double);
        Write(writer, feedback.Escalated, NpgsqlDbType.Boolean);
        Write(writer, feedback.Continued, NpgsqlDbType.Boolean);
        Write(writer, feedback.Completed, NpgsqlDbType.Boolean);
        Write(writer, feedback.FollowUp, NpgsqlDbType.Boolean);
        Write(writer, Text(trace.Intent), NpgsqlDbType.Text);
        writer.Write(Text(item.Intent), NpgsqlDbType.Text);
        writer.Write((short)item.IntentSource, NpgsqlDbType.Smallint);
        writer.Write(item.Confidence, NpgsqlDbType.Double);
        writer.Write(Text(item.CohortKey), NpgsqlDbType.Text);
    }

    private static void Write<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type)
        where T : struct
    {
        if (value is { } v)
        {
            writer.Write(v, type);
        }
        else
        {
            writer.WriteNull();
        }
    }

    private static void Write(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type)
    {
        if (value is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.Write(value, type);
        }
    }

    /// <summary>
    /// Text as PostgreSQL can hold it: a text value cannot contain U+0000, which is stored as U+FFFD (SQLite keeps it;
    /// JSON columns are unaffected, their writer escapes it).
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(value))]
    private static string? Text(string? value) => value is not null && value.Contains('\0', StringComparison.Ordinal) ? value.Replace('\0', '\uFFFD') : value;

    private static string MetadataJson(IReadOnlyDictionary<string, string> metadata) => Json(json => StoredTraceJson.WriteMetadata(json, metadata));

    private static string MessagesJson(IReadOnlyList<ChatMessage> messages) => Json(json => StoredTraceJson.WriteMessages(json, messages));

    private static string Json(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, StoredTraceJson.WriterOptions))
        {
            write(json);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>One row of <see cref="TraceColumns"/>, starting at column <paramref name="first"/>.</summary>
    private static ClassifiedTrace ReadTrace(NpgsqlDataReader reader, int first = 0)
    {
        var key = reader.GetString(first);
        var input = reader.IsDBNull(first + 3)
            ? TraceInput.FromText(reader.GetString(first + 2))
            : TraceInput.FromMessages(StoredTraceJson.ReadMessages(reader.GetString(first + 3)));
        var feedback = new Feedback(
            reader.IsDBNull(first + 7) ? null : reader.GetInt32(first + 7),
            reader.IsDBNull(first + 8) ? null : reader.GetDouble(first + 8),
            NullableBool(reader, first + 9),
            NullableBool(reader, first + 10),
            NullableBool(reader, first + 11),
            NullableBool(reader, first + 12));
        var trace = new Trace(
            key.StartsWith(TraceKeys.IdPrefix, StringComparison.Ordinal) ? key[TraceKeys.IdPrefix.Length..] : null,
            reader.GetFieldValue<DateTimeOffset>(first + 1),
            input,
            NullableString(reader, first + 4),
            NullableString(reader, first + 5),
            reader.IsDBNull(first + 6) ? new Dictionary<string, string>() : StoredTraceJson.ReadMetadata(reader.GetString(first + 6)),
            feedback,
            NullableString(reader, first + 13));
        return new ClassifiedTrace(trace, key, reader.GetString(first + 14), (IntentSource)reader.GetInt16(first + 15), reader.GetDouble(first + 16), reader.GetString(first + 17));
    }

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static bool? NullableBool(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetBoolean(ordinal);
}
