using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Recal.Domain;

namespace Recal.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Every batch is one transaction, so a kill at any point
/// leaves the store as it was after the last committed batch (docs/store.md).
/// </summary>
public sealed class SqliteStore : IRecalStore
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<string, long> _intentIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _cohortIds = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _intentNames = [];
    private readonly Dictionary<long, string> _cohortKeys = [];
    private long _currentIngest;

    private SqliteStore(SqliteConnection connection, string path, int schemaVersion)
    {
        _connection = connection;
        Path = path;
        SchemaVersion = schemaVersion;
    }

    public string Path { get; }

    public int SchemaVersion { get; }

    /// <summary>Opens (creating if needed) the store at <paramref name="path"/> and applies pending migrations.</summary>
    public static async Task<SqliteStore> OpenAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Pooling = false }.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;");
            var version = Migrate(connection);
            var store = new SqliteStore(connection, full, version);
            store.LoadNames();
            return store;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static int Migrate(SqliteConnection connection)
    {
        Execute(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)");
        using var query = connection.CreateCommand();
        query.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
        var current = Convert.ToInt32(query.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (current > Migrations.Latest)
        {
            throw new StoreVersionException(
                $"the store was written by a newer Recal (schema version {current}; this version knows up to {Migrations.Latest}). Upgrade Recal, or point 'store:' in recal.yaml at a new file.");
        }

        foreach (var (version, description, sql) in Migrations.All.Where(m => m.Version > current))
        {
            using var transaction = connection.BeginTransaction();
            Execute(connection, sql, transaction);
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($v, $d, $t)";
            insert.Parameters.AddWithValue("$v", version);
            insert.Parameters.AddWithValue("$d", description);
            insert.Parameters.AddWithValue("$t", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            insert.ExecuteNonQuery();
            transaction.Commit();
            current = version;
        }

        return current;
    }

    private void LoadNames()
    {
        foreach (var (table, column, ids, names) in new[] { ("intents", "name", _intentIds, _intentNames), ("cohorts", "key", _cohortIds, _cohortKeys) })
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT id, {column} FROM {table}";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids[reader.GetString(1)] = reader.GetInt64(0);
                names[reader.GetInt64(0)] = reader.GetString(1);
            }
        }
    }

    /// <summary>The id of an intent name or cohort key, inserting it (inside the caller's transaction) when new.</summary>
    private long NameId(string table, string column, string value, Dictionary<string, long> ids, Dictionary<long, string> names, SqliteTransaction transaction)
    {
        if (ids.TryGetValue(value, out var id))
        {
            return id;
        }

        using var insert = _connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = $"INSERT INTO {table} ({column}) VALUES ($value) RETURNING id";
        insert.Parameters.AddWithValue("$value", value);
        id = Convert.ToInt64(insert.ExecuteScalar(), CultureInfo.InvariantCulture);
        ids[value] = id;
        names[id] = value;
        return id;
    }

    /// <summary>
    /// The deduplication hash of a trace key: the first 63 bits of its SHA-256. A unique index on this integer is
    /// far smaller and faster to maintain than one on the key text, while rows are still appended in arrival order;
    /// two different keys collide with probability about 2⁻⁶³ per pair, and the key text is kept beside it.
    /// </summary>
    internal static long KeyHash(string key)
    {
        Span<byte> hash = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return (long)(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(hash) >> 1);
    }

    public async ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = _connection.BeginTransaction();
            using var insert = _connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT OR IGNORE INTO traces (key_hash, key, ts, input_text, input_json, output, model, metadata_json, thumbs, csat, escalated, continued, completed, follow_up, label, intent_id, intent_source, confidence, cohort_id, ingest_id)
                VALUES ($key_hash, $key, $ts, $input_text, $input_json, $output, $model, $metadata_json, $thumbs, $csat, $escalated, $continued, $completed, $follow_up, $label, $intent_id, $intent_source, $confidence, $cohort_id, $ingest_id)
                """;
            var p = new Dictionary<string, SqliteParameter>();
            foreach (var name in new[] { "key_hash", "key", "ts", "input_text", "input_json", "output", "model", "metadata_json", "thumbs", "csat", "escalated", "continued", "completed", "follow_up", "label", "intent_id", "intent_source", "confidence", "cohort_id", "ingest_id" })
            {
                var parameter = insert.CreateParameter();
                parameter.ParameterName = "$" + name;
                insert.Parameters.Add(parameter);
                p[name] = parameter;
            }

            insert.Prepare();
            var added = 0;
            var json = new ArrayBufferWriterPool();
            foreach (var item in batch)
            {
                var trace = item.Trace;
                p["key_hash"].Value = KeyHash(item.Key);
                p["key"].Value = item.Key;
                p["ts"].Value = trace.Timestamp.ToUnixTimeMilliseconds();
                p["input_text"].Value = trace.Input.ClassificationText;
                p["input_json"].Value = trace.Input.Messages is null ? DBNull.Value : json.Messages(trace.Input.Messages);
                p["output"].Value = (object?)trace.Output ?? DBNull.Value;
                p["model"].Value = (object?)trace.Model ?? DBNull.Value;
                p["metadata_json"].Value = trace.Metadata.Count == 0 ? DBNull.Value : json.Metadata(trace.Metadata);
                p["thumbs"].Value = (object?)trace.Feedback.Thumbs ?? DBNull.Value;
                p["csat"].Value = (object?)trace.Feedback.Csat ?? DBNull.Value;
                p["escalated"].Value = Flag(trace.Feedback.Escalated);
                p["continued"].Value = Flag(trace.Feedback.Continued);
                p["completed"].Value = Flag(trace.Feedback.Completed);
                p["follow_up"].Value = Flag(trace.Feedback.FollowUp);
                p["label"].Value = (object?)trace.Intent ?? DBNull.Value;
                p["intent_id"].Value = NameId("intents", "name", item.Intent, _intentIds, _intentNames, transaction);
                p["intent_source"].Value = (int)item.IntentSource;
                p["confidence"].Value = item.Confidence;
                p["cohort_id"].Value = NameId("cohorts", "key", item.CohortKey, _cohortIds, _cohortKeys, transaction);
                p["ingest_id"].Value = _currentIngest == 0 ? DBNull.Value : _currentIngest;
                added += insert.ExecuteNonQuery();
            }

            transaction.Commit();
            return new StoreBatchResult(added, batch.Count - added);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Reads (ts, intent, cohort) from the covering index and counts in memory: integer ids keep the scan narrow,
    /// and bucketing in C# avoids a per-row SQL expression.
    /// </summary>
    public async ValueTask<IReadOnlyList<TrafficCount>> CountTrafficAsync(TrafficQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            var where = new StringBuilder();
            if (query.From is { } from)
            {
                where.Append(" AND ts >= $from");
                command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
            }

            if (query.To is { } to)
            {
                where.Append(" AND ts < $to");
                command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
            }

            var counts = new Dictionary<(long Bucket, long Intent, long Cohort), long>();
            if (query.Period == Period.None)
            {
                command.CommandText = $"SELECT 0, intent_id, cohort_id, COUNT(*) FROM traces WHERE 1=1{where} GROUP BY intent_id, cohort_id";
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (reader.Read())
                {
                    counts[(0, reader.GetInt64(1), reader.GetInt64(2))] = reader.GetInt64(3);
                }
            }
            else
            {
                command.CommandText = $"SELECT ts, intent_id, cohort_id FROM traces WHERE 1=1{where}";
                using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                long bucketStart = long.MaxValue, bucketEnd = long.MinValue;
                while (reader.Read())
                {
                    var ts = reader.GetInt64(0);
                    if (ts < bucketStart || ts >= bucketEnd)
                    {
                        var start = PeriodMath.Start(DateTimeOffset.FromUnixTimeMilliseconds(ts), query.Period);
                        bucketStart = start.ToUnixTimeMilliseconds();
                        bucketEnd = PeriodMath.End(start, query.Period).ToUnixTimeMilliseconds();
                    }

                    var key = (bucketStart, reader.GetInt64(1), reader.GetInt64(2));
                    counts[key] = counts.GetValueOrDefault(key) + 1;
                }
            }

            return [.. counts
                .Select(kv => new TrafficCount(
                    query.Period == Period.None ? null : DateTimeOffset.FromUnixTimeMilliseconds(kv.Key.Bucket),
                    _intentNames[kv.Key.Intent],
                    _cohortKeys[kv.Key.Cohort],
                    kv.Value))
                .OrderBy(c => c.BucketStart)
                .ThenBy(c => c.Intent, StringComparer.Ordinal)
                .ThenBy(c => c.CohortKey, StringComparer.Ordinal)];
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<TrafficSpan?> GetTrafficSpanAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT MIN(ts), MAX(ts), COUNT(*) FROM traces";
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return reader.GetInt64(2) == 0
                ? null
                : new TrafficSpan(DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetInt64(2));
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<long> BeginIngestAsync(string source, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO ingests (source, started) VALUES ($source, $started) RETURNING id";
            command.Parameters.AddWithValue("$source", source);
            command.Parameters.AddWithValue("$started", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            _currentIngest = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            return _currentIngest;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask EndIngestAsync(long ingestId, long read, long added, long duplicates, long quarantined, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "UPDATE ingests SET finished = $finished, lines = $lines, added = $added, duplicates = $duplicates, quarantined = $quarantined WHERE id = $id";
            command.Parameters.AddWithValue("$finished", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$lines", read);
            command.Parameters.AddWithValue("$added", added);
            command.Parameters.AddWithValue("$duplicates", duplicates);
            command.Parameters.AddWithValue("$quarantined", quarantined);
            command.Parameters.AddWithValue("$id", ingestId);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            _currentIngest = 0;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<IReadOnlyList<IngestLogEntry>> GetIngestLogAsync(int limit = 50, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, source, started, finished, lines, added, duplicates, quarantined FROM ingests ORDER BY id DESC LIMIT $limit";
            command.Parameters.AddWithValue("$limit", limit);
            var entries = new List<IngestLogEntry>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new IngestLogEntry(
                    reader.GetInt64(0),
                    reader.GetString(1),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    reader.GetInt64(4),
                    reader.GetInt64(5),
                    reader.GetInt64(6),
                    reader.GetInt64(7)));
            }

            return entries;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<byte[]?> GetBlobAsync(string key, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT value FROM blobs WHERE key = $key";
            command.Parameters.AddWithValue("$key", key);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask PutBlobAsync(string key, byte[] value, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO blobs (key, value, updated) VALUES ($key, $value, $updated) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated";
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.AddWithValue("$value", value);
            command.Parameters.AddWithValue("$updated", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    private static object Flag(bool? value) => value is { } v ? (v ? 1 : 0) : DBNull.Value;

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>Serialises metadata and messages to JSON text, reusing one buffer for the whole batch.</summary>
    private sealed class ArrayBufferWriterPool
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(1024);

        public string Metadata(IReadOnlyDictionary<string, string> metadata)
        {
            _buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(_buffer, JsonOptions))
            {
                json.WriteStartObject();
                foreach (var (name, value) in metadata)
                {
                    json.WriteString(name, value);
                }

                json.WriteEndObject();
            }

            return Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }

        public string Messages(IReadOnlyList<ChatMessage> messages)
        {
            _buffer.ResetWrittenCount();
            using (var json = new Utf8JsonWriter(_buffer, JsonOptions))
            {
                json.WriteStartArray();
                foreach (var message in messages)
                {
                    json.WriteStartObject();
                    json.WriteString("role", message.Role);
                    json.WriteString("content", message.Content);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            return Encoding.UTF8.GetString(_buffer.WrittenSpan);
        }
    }
}
