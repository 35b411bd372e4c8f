using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Recal.Domain;
using Recal.Ingest;
using SQLitePCL;

namespace Recal.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Every batch is one transaction, so a kill at any point
/// leaves the store as it was after the last committed batch (docs/store.md).
/// </summary>
public sealed partial class SqliteStore : IRecalStore
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _gate = new(1, 1);

    // The anchored span as last computed, and the state of the database it was computed on.
    private (long DataVersion, long Changes, TrafficSpan? Span)? _span;
    private readonly Dictionary<string, long> _intentIds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _cohortIds = new(StringComparer.Ordinal);
    private readonly Dictionary<long, string> _intentNames = [];
    private readonly Dictionary<long, string> _cohortKeys = [];
    private HashSet<long>? _storedKeys;
    private long _storedKeysThroughRow;

    /// <summary>The rollup changes of the write in progress (writes hold <see cref="_gate"/>), reused so its room is allocated once.</summary>
    private readonly RollupDelta _rollup = new();

    private SqliteStore(SqliteConnection connection, string path, int schemaVersion)
    {
        _connection = connection;
        Path = path;
        SchemaVersion = schemaVersion;
    }

    public string Path { get; }

    public int SchemaVersion { get; }

    /// <summary>Opened read-only: cache writes are skipped and any other write fails.</summary>
    public bool IsReadOnly { get; private init; }

    /// <summary>
    /// Opens (creating if needed) the store at <paramref name="path"/> and applies pending migrations. A store that
    /// cannot be opened throws <see cref="StoreException"/> with what is wrong and what to do.
    /// </summary>
    public static Task<SqliteStore> OpenAsync(string path, CancellationToken cancellationToken = default) =>
        OpenAsync(path, readOnly: false, cancellationToken);

    /// <summary>
    /// Opens an existing store for reading only (for commands that only read: the file may be read-only, and
    /// nothing is changed; cached artefacts are then not stored). A missing store, or one that needs migrations, is
    /// opened for writing once to create or migrate it.
    /// </summary>
    public static Task<SqliteStore> OpenReadOnlyAsync(string path, CancellationToken cancellationToken = default) =>
        OpenAsync(path, readOnly: true, cancellationToken);

    /// <summary>
    /// Opens an existing store read-only to check it (<see cref="CheckIntegrityAsync"/>): without the quick check an
    /// open runs after an unclean shutdown, which would refuse a damaged store before its problems are listed.
    /// </summary>
    public static Task<SqliteStore> OpenForCheckAsync(string path, CancellationToken cancellationToken = default) =>
        OpenAsync(path, readOnly: true, cancellationToken, sessionCheck: false);

    private static async Task<SqliteStore> OpenAsync(string path, bool readOnly, CancellationToken cancellationToken, bool sessionCheck = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        var full = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(full))
        {
            throw new StoreException(StoreException.CannotOpen, "the store path is a folder, not a store file", full, "point 'store:' in recal.yaml at a file (default .recal/recal.db), or move the folder away");
        }

        if (readOnly && File.Exists(full))
        {
            SqliteStore store;
            try
            {
                store = await OpenConnectionAsync(full, readOnly: true, cancellationToken, sessionCheck: sessionCheck).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.InnerException is SqliteException { SqliteErrorCode: raw.SQLITE_READONLY or raw.SQLITE_CANTOPEN })
            {
                // A WAL store in a folder this user cannot write: SQLite cannot create the shared-memory file even to
                // read. Opened as immutable instead (nobody else can be writing through this folder's files).
                store = await OpenConnectionAsync(full, readOnly: true, cancellationToken, immutable: true, sessionCheck: sessionCheck).ConfigureAwait(false);
            }

            if (store.SchemaVersion >= Migrations.Latest)
            {
                return store;
            }

            var version = store.SchemaVersion;
            await store.DisposeAsync().ConfigureAwait(false);
            try
            {
                return await OpenConnectionAsync(full, readOnly: false, cancellationToken).ConfigureAwait(false);
            }
            catch (StoreException e) when (e.InnerException is SqliteException { SqliteErrorCode: raw.SQLITE_READONLY or raw.SQLITE_CANTOPEN })
            {
                throw new StoreException(
                    StoreException.WriteFailed,
                    $"the store is at schema version {version} and this Recal needs version {Migrations.Latest}, but the store is read-only, so it cannot be migrated",
                    full,
                    "run any recal command once as a user who may write the store (it migrates it), then read it read-only",
                    e);
            }
        }

        return await OpenConnectionAsync(full, readOnly: false, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<SqliteStore> OpenConnectionAsync(string full, bool readOnly, CancellationToken cancellationToken, bool immutable = false, bool sessionCheck = true)
    {
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StoreException(StoreException.CannotOpen, $"the store's folder cannot be created: {e.Message}", full, "check the permissions of the folder, or point 'store:' in recal.yaml elsewhere", e);
        }

        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = immutable ? new Uri(full).AbsoluteUri + "?immutable=1" : full,
            Pooling = false,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
        }.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // The busy timeout first: a second process opening a new store waits for the first one's migrations.
            Execute(connection, "PRAGMA busy_timeout=5000;");
            if (!readOnly)
            {
                Execute(connection, "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
            }

            Execute(connection, "PRAGMA foreign_keys=ON; PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=4000;");
            // Migration 6 fills in the stored sampling priority of every trace already there.
            connection.CreateFunction("recal_sample_priority", (string key) => unchecked((long)SamplePriority.Of(SamplePriority.StoredSeed, key)), isDeterministic: true);
            var version = readOnly ? ReadVersion(connection, full) : Migrate(connection, full);
            var store = new SqliteStore(connection, full, version) { IsReadOnly = readOnly };
            if (version >= Migrations.Latest)
            {
                store.LoadNames();
            }

            try
            {
                await store.BeginSessionAsync(writing: !readOnly, check: sessionCheck, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await store.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            return store;
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw Explain(e, full);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The schema version recorded in the store; a newer one than this Recal knows is refused.</summary>
    private static int ReadVersion(SqliteConnection connection, string path, SqliteTransaction? transaction = null)
    {
        using var exists = connection.CreateCommand();
        exists.Transaction = transaction;
        exists.CommandText = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'";
        if (Convert.ToInt64(exists.ExecuteScalar(), CultureInfo.InvariantCulture) == 0)
        {
            return 0;
        }

        using var query = connection.CreateCommand();
        query.Transaction = transaction;
        query.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
        var current = Convert.ToInt32(query.ExecuteScalar(), CultureInfo.InvariantCulture);
        if (current > Migrations.Latest)
        {
            throw new StoreVersionException(
                $"the store was written by a newer Recal (schema version {current}; this version knows up to {Migrations.Latest})",
                path,
                "upgrade Recal, or point 'store:' in recal.yaml at a new file");
        }

        return current;
    }

    private static int Migrate(SqliteConnection connection, string path)
    {
        var current = 0;
        foreach (var (version, description, sql) in Migrations.All)
        {
            // BEGIN IMMEDIATE takes the write lock before the version is read, so two processes creating the same
            // store take turns: the second sees the first one's migrations and skips them.
            using var transaction = connection.BeginTransaction(deferred: false);
            Execute(connection, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)", transaction);
            current = ReadVersion(connection, path, transaction);
            if (current >= version)
            {
                transaction.Commit();
                continue;
            }

            try
            {
                Execute(connection, sql, transaction);
            }
            catch (SqliteException e) when (e.SqliteErrorCode == raw.SQLITE_ERROR && (e.Message.Contains("already exists", StringComparison.Ordinal) || e.Message.Contains("duplicate column", StringComparison.Ordinal)))
            {
                throw new StoreException(
                    StoreException.SchemaMismatch,
                    $"the store's tables do not match its migration log (at version {current}, migration {version} '{description}' finds: {e.Message.Split('\'').ElementAtOrDefault(1) ?? e.Message})",
                    path,
                    "the store was changed outside Recal; restore it from a backup, or move it away and ingest again",
                    e);
            }

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

    /// <summary>
    /// What a SQLite failure on the store at <paramref name="path"/> means for the user: one line saying what is
    /// wrong and what to do, with a <see cref="StoreException"/> code.
    /// </summary>
    public static StoreException Explain(SqliteException exception, string path)
    {
        ArgumentNullException.ThrowIfNull(exception);
        // The engine's message table needs its provider, which is set when the first connection is made; a failure
        // can be explained before that (a connection string rejected, an exception made by a caller).
        SQLitePCL.Batteries_V2.Init();
        var detail = $"SQLite error {exception.SqliteErrorCode}: {raw.sqlite3_errstr(exception.SqliteErrorCode).utf8_to_string()}";
        return (exception.SqliteErrorCode & 0xFF) switch
        {
            raw.SQLITE_READONLY => new StoreException(StoreException.WriteFailed, $"the store is read-only ({detail})", path, "make the file and its folder writable for this user; commands that only read (report, staleness, drift, coverage, check, status) work on a read-only store", exception),
            raw.SQLITE_FULL => new StoreException(StoreException.WriteFailed, $"the disk holding the store is full ({detail})", path, "free disk space (or point 'store:' in recal.yaml at a larger disk) and run the command again: committed work is kept", exception),
            raw.SQLITE_IOERR => new StoreException(StoreException.WriteFailed, $"the store could not be read or written ({detail})", path, "check the disk and free space, then run the command again: committed work is kept", exception),
            raw.SQLITE_CORRUPT => new StoreException(StoreException.Damaged, $"the store is damaged ({detail})", path, "run 'recal store check' for details; restore the store from a backup, or move it away and ingest again", exception),
            raw.SQLITE_NOTADB => new StoreException(StoreException.CannotOpen, $"the file is not a Recal store, or its header is damaged ({detail})", path, "point 'store:' in recal.yaml at the right file, or move this one away (a new store is created on the next ingest)", exception),
            raw.SQLITE_CANTOPEN or raw.SQLITE_PERM or raw.SQLITE_AUTH => new StoreException(StoreException.CannotOpen, $"the store cannot be opened ({detail})", path, "check that the path is a file this user may read and write, and that its folder exists and is writable", exception),
            raw.SQLITE_BUSY or raw.SQLITE_LOCKED => new StoreException(StoreException.WriteFailed, $"the store stayed locked by another process ({detail})", path, "wait for the other recal command to finish, then run this one again", exception),
            _ => new StoreException(StoreException.WriteFailed, $"the store failed ({detail}: {exception.Message})", path, "run 'recal store check'; if it reports no damage, run the command again", exception),
        };
    }

    private void LoadNames(SqliteTransaction? transaction = null)
    {
        foreach (var (table, column, ids, names) in new[] { ("intents", "name", _intentIds, _intentNames), ("cohorts", "key", _cohortIds, _cohortKeys) })
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
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
        // Another writer may have added the name since this store loaded its names: take its id then.
        insert.CommandText = $"INSERT INTO {table} ({column}) VALUES ($value) ON CONFLICT ({column}) DO UPDATE SET {column} = excluded.{column} RETURNING id";
        insert.Parameters.AddWithValue("$value", value);
        id = Convert.ToInt64(insert.ExecuteScalar(), CultureInfo.InvariantCulture);
        ids[value] = id;
        names[id] = value;
        return id;
    }

    /// <summary>
    /// The deduplication hash of a trace key: 64-bit FNV-1a over its UTF-16 code units, finished with the
    /// SplitMix64 mixer and cut to 63 bits. Two different keys collide with probability about 2⁻⁶³ per pair
    /// (for a billion traces, about one chance in 10¹⁰ of a single collision); the key text is kept beside it.
    /// </summary>
    internal static long KeyHash(string key)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in key)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        hash = (hash ^ (hash >> 30)) * 0xBF58476D1CE4E5B9UL;
        hash = (hash ^ (hash >> 27)) * 0x94D049BB133111EBUL;
        hash ^= hash >> 31;
        return (long)(hash >> 1);
    }

    /// <summary>
    /// The key hashes of every stored trace and every pruned one (<c>pruned_keys</c>, by the row the trace had), loaded on
    /// the first write and then kept current by reading only the rows after the last one read, of both tables (by this or
    /// another writer: a trace another writer added and pruned since is in <c>pruned_keys</c> under its row). Deduplicating
    /// in memory spares an index that, once it outgrows the page cache, costs a random page read per insert; it takes
    /// about 24 bytes per stored trace.
    /// </summary>
    private HashSet<long> StoredKeys(sqlite3 db)
    {
        var after = _storedKeys is null ? long.MinValue : _storedKeysThroughRow;
        _storedKeys ??= [];
        var through = after;
        foreach (var sql in new[] { "SELECT id, key_hash FROM traces WHERE id > ?1 ORDER BY id", "SELECT trace_row, key_hash FROM pruned_keys WHERE trace_row > ?1 ORDER BY trace_row" })
        {
            Check(raw.sqlite3_prepare_v2(db, sql, out var scan), db);
            using (scan)
            {
                raw.sqlite3_bind_int64(scan, 1, after);
                int result;
                while ((result = raw.sqlite3_step(scan)) == raw.SQLITE_ROW)
                {
                    through = Math.Max(through, raw.sqlite3_column_int64(scan, 0));
                    _storedKeys.Add(raw.sqlite3_column_int64(scan, 1));
                }

                Check(result, db);
            }
        }

        _storedKeysThroughRow = through;
        return _storedKeys;
    }

    public ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, CancellationToken cancellationToken = default) =>
        AddTracesAsync(batch, null, cancellationToken);

    public async ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, IngestSession? ingest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // BEGIN IMMEDIATE: this writer holds the write lock from here, so the key set below cannot go stale.
            using var transaction = _connection.BeginTransaction(deferred: false);
            var added = 0;
            var json = new ArrayBufferWriterPool();
            var db = _connection.Handle!;
            var keys = StoredKeys(db);
            var lastRow = _storedKeysThroughRow;
            var nextRow = RowFloor(db);
            Check(raw.sqlite3_prepare_v2(db, InsertSql, out var insert), db);
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var storedSeed = SamplePriority.SeedPrefix(SamplePriority.StoredSeed);
            var rollup = _rollup;
            rollup.Clear();
            try
            {
                foreach (var item in batch)
                {
                    var keyHash = KeyHash(item.Key);
                    if (!keys.Add(keyHash))
                    {
                        continue;
                    }

                    // Binding through the native API directly: the ADO.NET layer costs more per row than SQLite's insert itself.
                    BindInsert(insert, keyHash, item, ingest, json, transaction, sha256, storedSeed, nextRow);
                    nextRow = null;

                    var result = raw.sqlite3_step(insert);
                    if (result != raw.SQLITE_DONE)
                    {
                        Check(result, db);
                    }

                    added++;
                    rollup.Add(item);
                    lastRow = raw.sqlite3_last_insert_rowid(db);
                    raw.sqlite3_reset(insert);
                }

                ApplyRollup(db, rollup, transaction);
                transaction.Commit();
            }
            catch
            {
                // The batch rolls back: forget the keys it added, they will be read again from the table.
                _storedKeys = null;
                throw;
            }
            finally
            {
                insert.Dispose();
            }

            _storedKeysThroughRow = lastRow;
            return new StoreBatchResult(added, batch.Count - added);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Binds every column of <see cref="InsertSql"/> for one trace.</summary>
    private void BindInsert(sqlite3_stmt insert, long keyHash, ClassifiedTrace item, IngestSession? ingest, ArrayBufferWriterPool json, SqliteTransaction transaction, IncrementalHash sha256, byte[] storedSeed, long? row)
    {
        // Null lets SQLite take the next row id; a row is given only after a prune removed the highest ones (RowFloor).
        if (row is { } id)
        {
            raw.sqlite3_bind_int64(insert, 22, id);
        }
        else
        {
            raw.sqlite3_bind_null(insert, 22);
        }

        var trace = item.Trace;
        raw.sqlite3_bind_int64(insert, 1, keyHash);
        raw.sqlite3_bind_text16(insert, 2, item.Key.AsSpan());
        raw.sqlite3_bind_int64(insert, 3, trace.Timestamp.ToUnixTimeMilliseconds());
        raw.sqlite3_bind_text16(insert, 4, trace.Input.ClassificationText.AsSpan());
        BindUtf8(insert, 5, trace.Input.Messages is null ? (ReadOnlyMemory<byte>?)null : json.Messages(trace.Input.Messages));
        BindText(insert, 6, trace.Output);
        BindText(insert, 7, trace.Model);
        BindUtf8(insert, 8, trace.Metadata.Count == 0 ? (ReadOnlyMemory<byte>?)null : trace.MetadataUtf8 ?? json.Metadata(trace.Metadata));
        BindInt(insert, 9, trace.Feedback.Thumbs);
        if (trace.Feedback.Csat is { } csat)
        {
            raw.sqlite3_bind_double(insert, 10, csat);
        }
        else
        {
            raw.sqlite3_bind_null(insert, 10);
        }

        BindInt(insert, 11, Flag(trace.Feedback.Escalated));
        BindInt(insert, 12, Flag(trace.Feedback.Continued));
        BindInt(insert, 13, Flag(trace.Feedback.Completed));
        BindInt(insert, 14, Flag(trace.Feedback.FollowUp));
        BindText(insert, 15, trace.Intent);
        raw.sqlite3_bind_int64(insert, 16, NameId("intents", "name", item.Intent, _intentIds, _intentNames, transaction));
        raw.sqlite3_bind_int(insert, 17, (int)item.IntentSource);
        raw.sqlite3_bind_double(insert, 18, item.Confidence);
        raw.sqlite3_bind_int64(insert, 19, NameId("cohorts", "key", item.CohortKey, _cohortIds, _cohortKeys, transaction));
        if (ingest is null)
        {
            raw.sqlite3_bind_null(insert, 20);
        }
        else
        {
            raw.sqlite3_bind_int64(insert, 20, ingest.Id);
        }

        raw.sqlite3_bind_int64(insert, 21, unchecked((long)SamplePriority.Of(sha256, storedSeed, item.Key)));
    }

    /// <summary>The online signals of a window: the sum of its cells (<see cref="CountFeedbackBySegmentsAsync"/>).</summary>
    public async ValueTask<FeedbackCount> CountFeedbackAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        (await CountFeedbackBySegmentsAsync([(from, to)], cancellationToken).ConfigureAwait(false))[0].Aggregate(default(FeedbackCount), (sum, cell) => sum.Plus(cell.Count));

    /// <summary>The online signals of a window per intent and cohort, from the rollup and the covering index.</summary>
    public async ValueTask<IReadOnlyList<FeedbackCell>> CountFeedbackByCellAsync(DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        (await CountFeedbackBySegmentsAsync([(from, to)], cancellationToken).ConfigureAwait(false))[0];

    /// <summary>
    /// The online signals of each segment per intent and cohort: the whole days of a segment from the daily rollup, the
    /// parts of a day at its ends from the covering index (touching ends read in one pass, each row counted in the part
    /// its timestamp falls in), all in one transaction.
    /// </summary>
    public async ValueTask<IReadOnlyList<IReadOnlyList<FeedbackCell>>> CountFeedbackBySegmentsAsync(IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> segments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var splits = new WindowSplit[segments.Count];
        var parts = new List<(long Start, long End, int Segment)>();
        for (var i = 0; i < segments.Count; i++)
        {
            var (from, to) = (segments[i].From.ToUnixTimeMilliseconds(), segments[i].To.ToUnixTimeMilliseconds());
            if (to < from || (i > 0 && from < splits[i - 1].To))
            {
                throw new ArgumentException("segments must be ascending and must not overlap", nameof(segments));
            }

            splits[i] = TrafficDays.Split(from, to);
            foreach (var (lo, hi) in splits[i].Ends)
            {
                parts.Add((lo, hi, i));
            }
        }

        var starts = parts.Select(p => p.Start).ToArray();
        var ends = parts.Select(p => p.End).ToArray();
        var cells = new Dictionary<(long Intent, long Cohort), FeedbackCount>[segments.Count];
        for (var i = 0; i < cells.Length; i++)
        {
            cells[i] = [];
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var snapshot = _connection.BeginTransaction(deferred: true);
            var db = _connection.Handle!;
            Check(raw.sqlite3_prepare_v2(db, "SELECT ts, intent_id, cohort_id, thumbs, escalated FROM traces WHERE ts >= ?1 AND ts < ?2", out var scan), db);
            using (scan)
            {
                var rows = 0;
                // Each stretch of touching parts is one range read.
                for (var first = 0; first < parts.Count;)
                {
                    var last = first;
                    while (last + 1 < parts.Count && starts[last + 1] == ends[last])
                    {
                        last++;
                    }

                    raw.sqlite3_reset(scan);
                    raw.sqlite3_bind_int64(scan, 1, starts[first]);
                    raw.sqlite3_bind_int64(scan, 2, ends[last]);
                    var part = first;
                    int result;
                    while ((result = raw.sqlite3_step(scan)) == raw.SQLITE_ROW)
                    {
                        if (++rows % 4096 == 0)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                        }

                        var ts = raw.sqlite3_column_int64(scan, 0);
                        if (ts < starts[part] || ts >= ends[part])
                        {
                            part = SegmentOf(ts, starts, ends, first, last);
                        }

                        ref var cell = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(cells[parts[part].Segment], (raw.sqlite3_column_int64(scan, 1), raw.sqlite3_column_int64(scan, 2)), out _);
                        var rated = raw.sqlite3_column_type(scan, 3) != raw.SQLITE_NULL;
                        var escalationKnown = raw.sqlite3_column_type(scan, 4) != raw.SQLITE_NULL;
                        cell = new FeedbackCount(
                            cell.Traces + 1,
                            cell.Rated + (rated ? 1 : 0),
                            cell.Up + (rated && raw.sqlite3_column_int64(scan, 3) > 0 ? 1 : 0),
                            cell.Escalated + (escalationKnown && raw.sqlite3_column_int64(scan, 4) != 0 ? 1 : 0))
                        {
                            EscalationKnown = cell.EscalationKnown + (escalationKnown ? 1 : 0),
                        };
                    }

                    Check(result, db);
                    first = last + 1;
                }
            }

            for (var i = 0; i < splits.Length; i++)
            {
                if (splits[i].HasDays)
                {
                    var segment = cells[i];
                    ReadDays(db, splits[i].DaysFrom, splits[i].DaysTo, (_, intent, cohort, count) =>
                    {
                        ref var cell = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(segment, (intent, cohort), out var _);
                        cell = cell.Plus(count);
                    }, cancellationToken);
                }
            }

            if (cells.Any(c => c.Keys.Any(k => !_intentNames.ContainsKey(k.Intent) || !_cohortKeys.ContainsKey(k.Cohort))))
            {
                // Names added by another writer since this store opened.
                LoadNames(snapshot);
            }

            return [.. cells.Select(c => (IReadOnlyList<FeedbackCell>)[.. c.Where(kv => kv.Value.Traces > 0).Select(kv => new FeedbackCell(_intentNames[kv.Key.Intent], _cohortKeys[kv.Key.Cohort], kv.Value))])];
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The segment among <paramref name="first"/>..<paramref name="last"/> (touching, ascending) holding <paramref name="ts"/>.</summary>
    private static int SegmentOf(long ts, long[] starts, long[] ends, int first, int last)
    {
        var (lo, hi) = (first, last);
        while (lo < hi)
        {
            var mid = (lo + hi + 1) / 2;
            if (starts[mid] <= ts)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return lo;
    }

    /// <summary>A nullable 0/1 column of the current row as a flag: null when the trace did not say.</summary>
    private static bool? NullableFlag(sqlite3_stmt statement, int column) =>
        raw.sqlite3_column_type(statement, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(statement, column) != 0;

    /// <summary>
    /// The online signals of the given models' traces per model, intent and cohort: one pass over the table reading the
    /// model, time, intent, cohort and feedback columns through the native API, the model compared as UTF-8 bytes.
    /// </summary>
    public async ValueTask<IReadOnlyList<ModelFeedbackCell>> CountFeedbackByModelAsync(IReadOnlyCollection<string> models, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        var wanted = models.Distinct(StringComparer.Ordinal).Select(m => (Name: m, Utf8: System.Text.Encoding.UTF8.GetBytes(m))).ToList();
        if (wanted.Count == 0)
        {
            return [];
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var db = _connection.Handle!;
            Check(raw.sqlite3_prepare_v2(db, "SELECT model, intent_id, cohort_id, ts, thumbs, escalated, continued, completed FROM traces WHERE model IS NOT NULL", out var scan), db);
            var cells = new Dictionary<(int Model, long Intent, long Cohort), (FeedbackCount Count, long First, long Last)>();
            using (scan)
            {
                var rows = 0;
                int result;
                while ((result = raw.sqlite3_step(scan)) == raw.SQLITE_ROW)
                {
                    if (++rows % 4096 == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }

                    var model = raw.sqlite3_column_blob(scan, 0);
                    var m = 0;
                    while (m < wanted.Count && !model.SequenceEqual(wanted[m].Utf8))
                    {
                        m++;
                    }

                    if (m == wanted.Count)
                    {
                        continue;
                    }

                    var ts = raw.sqlite3_column_int64(scan, 3);
                    ref var cell = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(cells, (m, raw.sqlite3_column_int64(scan, 1), raw.sqlite3_column_int64(scan, 2)), out var exists);
                    var rated = raw.sqlite3_column_type(scan, 4) != raw.SQLITE_NULL;
                    var escalationKnown = raw.sqlite3_column_type(scan, 5) != raw.SQLITE_NULL;
                    var count = cell.Count;
                    cell = (
                        new FeedbackCount(
                            count.Traces + 1,
                            count.Rated + (rated ? 1 : 0),
                            count.Up + (rated && raw.sqlite3_column_int64(scan, 4) > 0 ? 1 : 0),
                            count.Escalated + (escalationKnown && raw.sqlite3_column_int64(scan, 5) != 0 ? 1 : 0))
                        {
                            EscalationKnown = count.EscalationKnown + (escalationKnown ? 1 : 0),
                            ContinuedKnown = count.ContinuedKnown,
                            Continued = count.Continued,
                            CompletedKnown = count.CompletedKnown,
                            Completed = count.Completed,
                        }.WithOutcome(NullableFlag(scan, 6), NullableFlag(scan, 7)),
                        exists ? Math.Min(cell.First, ts) : ts,
                        exists ? Math.Max(cell.Last, ts) : ts);
                }

                Check(result, db);
            }

            if (cells.Keys.Any(k => !_intentNames.ContainsKey(k.Intent) || !_cohortKeys.ContainsKey(k.Cohort)))
            {
                // Names added by another writer since this store opened.
                LoadNames();
            }

            return [.. cells.Select(kv => new ModelFeedbackCell(
                wanted[kv.Key.Model].Name,
                _intentNames[kv.Key.Intent],
                _cohortKeys[kv.Key.Cohort],
                kv.Value.Count,
                DateTimeOffset.FromUnixTimeMilliseconds(kv.Value.First),
                DateTimeOffset.FromUnixTimeMilliseconds(kv.Value.Last)))];
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Counts the whole days of the window from the daily rollup, and the parts of a day at either end from the covering
    /// index (ts, intent, cohort), counting in memory: integer ids keep the scan narrow, and bucketing in C# avoids a
    /// per-row SQL expression. Both are read in one transaction, so a write in between cannot be half counted.
    /// </summary>
    public async ValueTask<IReadOnlyList<TrafficCount>> CountTrafficAsync(TrafficQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var snapshot = _connection.BeginTransaction(deferred: true);
            var db = _connection.Handle!;
            var counts = new Dictionary<(long Bucket, long Intent, long Cohort), long>();
            long bucketStart = long.MaxValue, bucketEnd = long.MinValue;
            long BucketOf(long ts)
            {
                if (query.Period == Period.None)
                {
                    return 0;
                }

                if (ts < bucketStart || ts >= bucketEnd)
                {
                    var start = PeriodMath.Start(DateTimeOffset.FromUnixTimeMilliseconds(ts), query.Period);
                    bucketStart = start.ToUnixTimeMilliseconds();
                    bucketEnd = PeriodMath.End(start, query.Period).ToUnixTimeMilliseconds();
                }

                return bucketStart;
            }

            var split = TrafficDays.Split(query.From?.ToUnixTimeMilliseconds() ?? long.MinValue, query.To?.ToUnixTimeMilliseconds() ?? long.MaxValue);
            // One pass over the covering index per end through the native API, counting in memory: far cheaper per row
            // than a SQL GROUP BY (which sorts into a temporary b-tree) or the ADO.NET reader.
            Check(raw.sqlite3_prepare_v2(db, "SELECT ts, intent_id, cohort_id FROM traces WHERE ts >= ?1 AND ts < ?2", out var scan), db);
            using (scan)
            {
                foreach (var (lo, hi) in split.Ends)
                {
                    raw.sqlite3_reset(scan);
                    raw.sqlite3_bind_int64(scan, 1, lo);
                    raw.sqlite3_bind_int64(scan, 2, hi);
                    int result;
                    while ((result = raw.sqlite3_step(scan)) == raw.SQLITE_ROW)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        var key = (BucketOf(raw.sqlite3_column_int64(scan, 0)), raw.sqlite3_column_int64(scan, 1), raw.sqlite3_column_int64(scan, 2));
                        System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, key, out _)++;
                    }

                    Check(result, db);
                }
            }

            if (split.HasDays)
            {
                ReadDays(db, split.DaysFrom, split.DaysTo, (day, intent, cohort, count) =>
                    System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, (BucketOf(day), intent, cohort), out _) += count.Traces, cancellationToken);
            }

            if (counts.Keys.Any(k => !_intentNames.ContainsKey(k.Intent) || !_cohortKeys.ContainsKey(k.Cohort)))
            {
                // Names added by another writer since this store opened.
                LoadNames(snapshot);
            }

            return [.. counts
                .Where(kv => kv.Value > 0)
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

    /// <summary>
    /// The anchored span, computed again only when the traces may have changed since: a commit by another connection
    /// moves SQLite's <c>data_version</c>, a write through this one its count of changes.
    /// </summary>
    public async ValueTask<TrafficSpan?> GetTrafficSpanAsync(CancellationToken cancellationToken = default)
    {
        var state = await DatabaseStateAsync(cancellationToken).ConfigureAwait(false);
        if (_span is { } known && known.DataVersion == state.DataVersion && known.Changes == state.Changes)
        {
            return known.Span;
        }

        var span = await TrafficAnchoring.AnchorAsync(SpanOfAsync, cancellationToken).ConfigureAwait(false);
        _span = (state.DataVersion, state.Changes, span);
        return span;
    }

    private async ValueTask<(long DataVersion, long Changes)> DatabaseStateAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "PRAGMA data_version";
            var version = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
            return (version, raw.sqlite3_total_changes(_connection.Handle!));
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The first and last timestamps (each one seek in the traffic index) and the count of the traces with from ≤ ts &lt;
    /// to: whole days summed from the daily rollup, the parts of a day at the ends counted in the index, in one transaction.
    /// </summary>
    private async ValueTask<TrafficSpan?> SpanOfAsync(DateTimeOffset? from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var snapshot = _connection.BeginTransaction(deferred: true);
            var (lo, hi) = (from?.ToUnixTimeMilliseconds() ?? long.MinValue, to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
            long? Scalar(string sql, long a, long b)
            {
                using var command = _connection.CreateCommand();
                command.Transaction = snapshot;
                command.CommandText = sql;
                command.Parameters.AddWithValue("$a", a);
                command.Parameters.AddWithValue("$b", b);
                return command.ExecuteScalar() is long value ? value : null;
            }

            var split = TrafficDays.Split(lo, hi);
            var first = Scalar("SELECT MIN(ts) FROM traces WHERE ts >= $a AND ts < $b", lo, hi);
            var last = Scalar("SELECT MAX(ts) FROM traces WHERE ts >= $a AND ts < $b", lo, hi);
            if (split.HasDays && PrunedDays(_connection.Handle!, split.DaysFrom, split.DaysTo) is { } pruned)
            {
                // Pruned days are known by the rollup alone: their traffic spans the day, from its midnight to its end.
                first = Math.Min(first ?? long.MaxValue, pruned.First);
                last = Math.Max(last ?? long.MinValue, pruned.Last + TrafficDays.DayMs - 1);
            }

            if (first is null || last is null)
            {
                return null;
            }

            long count = 0;
            foreach (var (a, b) in split.Ends)
            {
                count += Scalar("SELECT COUNT(*) FROM traces WHERE ts >= $a AND ts < $b", a, b) ?? 0;
            }

            if (split.HasDays)
            {
                count += Scalar("SELECT SUM(traces) FROM traffic_days WHERE day >= $a AND day < $b", split.DaysFrom, split.DaysTo) ?? 0;
            }

            return new TrafficSpan(DateTimeOffset.FromUnixTimeMilliseconds(first.Value), DateTimeOffset.FromUnixTimeMilliseconds(last.Value), count);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask<IngestSession> BeginIngestAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var started = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "INSERT INTO ingests (source, started) VALUES ($source, $started) RETURNING id";
            command.Parameters.AddWithValue("$source", source);
            command.Parameters.AddWithValue("$started", started.ToUnixTimeMilliseconds());
            var id = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            return new IngestSession(id, source, started);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask EndIngestAsync(IngestSession ingest, long read, long added, long duplicates, long quarantined, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ingest);
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
            command.Parameters.AddWithValue("$id", ingest.Id);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>One pass over the traces (no index on the ingest column: ingest writes it and nothing else reads it often).</summary>
    public async ValueTask<IReadOnlyDictionary<long, long>> CountTracesByIngestAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT ingest_id, COUNT(*) FROM traces WHERE ingest_id IS NOT NULL GROUP BY ingest_id";
            var counts = new Dictionary<long, long>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                counts[reader.GetInt64(0)] = reader.GetInt64(1);
            }

            return counts;
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

    public async ValueTask<byte[]?> GetCachedResponseAsync(string key, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT response FROM response_cache WHERE key = $key AND (expires IS NULL OR expires > $now)";
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask PutCachedResponseAsync(string key, byte[] response, DateTimeOffset created, DateTimeOffset? expires, CancellationToken cancellationToken = default)
    {
        if (IsReadOnly)
        {
            // A cache is an optimisation: a command that only reads leaves the store as it found it.
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = """
                INSERT INTO response_cache (key, response, created, expires) VALUES ($key, $response, $created, $expires)
                ON CONFLICT (key) DO UPDATE SET response = excluded.response, created = excluded.created, expires = excluded.expires
                """;
            command.Parameters.AddWithValue("$key", key);
            command.Parameters.AddWithValue("$response", response);
            command.Parameters.AddWithValue("$created", created.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$expires", (object?)expires?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
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
        if (IsReadOnly)
        {
            // A cache is an optimisation: a command that only reads leaves the store as it found it.
            return;
        }

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

    public async ValueTask<IReadOnlyList<BlobInfo>> ListBlobsAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            // substr rather than LIKE: a key's '%' and '_' are not wildcards.
            command.CommandText = "SELECT key, updated, length(value) FROM blobs WHERE substr(key, 1, $n) = $prefix";
            command.Parameters.AddWithValue("$n", prefix.Length);
            command.Parameters.AddWithValue("$prefix", prefix);
            var blobs = new List<BlobInfo>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                blobs.Add(new BlobInfo(reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetInt64(2)));
            }

            return blobs;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DeleteBlobsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (IsReadOnly || keys.Count == 0)
        {
            return;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "DELETE FROM blobs WHERE key = $key";
            var key = command.Parameters.Add("$key", Microsoft.Data.Sqlite.SqliteType.Text);
            foreach (var k in keys)
            {
                key.Value = k;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            transaction.Commit();
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        EndSession();
        _gate.Dispose();
    }

    private const string InsertSql = """
        INSERT INTO traces (key_hash, key, ts, input_text, input_json, output, model, metadata_json, thumbs, csat, escalated, continued, completed, follow_up, label, intent_id, intent_source, confidence, cohort_id, ingest_id, sample_priority, id)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22)
        """;

    private static int? Flag(bool? value) => value is { } v ? (v ? 1 : 0) : null;

    /// <summary>Binds a string as UTF-16: SQLite converts it natively, with no managed UTF-8 copy per value.</summary>
    private static void BindText(sqlite3_stmt statement, int index, string? value)
    {
        if (value is null)
        {
            raw.sqlite3_bind_null(statement, index);
        }
        else
        {
            raw.sqlite3_bind_text16(statement, index, value.AsSpan());
        }
    }

    /// <summary>Binds JSON already encoded as UTF-8 (SQLite copies it before the buffer is reused).</summary>
    private static void BindUtf8(sqlite3_stmt statement, int index, ReadOnlyMemory<byte>? value)
    {
        if (value is { } bytes)
        {
            raw.sqlite3_bind_text(statement, index, bytes.Span);
        }
        else
        {
            raw.sqlite3_bind_null(statement, index);
        }
    }

    private static void BindInt(sqlite3_stmt statement, int index, int? value)
    {
        if (value is { } v)
        {
            raw.sqlite3_bind_int(statement, index, v);
        }
        else
        {
            raw.sqlite3_bind_null(statement, index);
        }
    }

    private static void Check(int result, sqlite3 db)
    {
        if (result is not (raw.SQLITE_OK or raw.SQLITE_DONE or raw.SQLITE_ROW))
        {
            throw new SqliteException($"SQLite error {result}: {raw.sqlite3_errmsg(db).utf8_to_string()}", result);
        }
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Serialises metadata and messages to UTF-8 JSON, reusing one buffer and one writer for the whole batch (the
    /// result is valid until the next call).
    /// </summary>
    private sealed class ArrayBufferWriterPool
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> _buffer = new(1024);
        private Utf8JsonWriter? _json;

        public ReadOnlyMemory<byte> Metadata(IReadOnlyDictionary<string, string> metadata)
        {
            StoredTraceJson.WriteMetadata(Start(), metadata);
            return Finish();
        }

        public ReadOnlyMemory<byte> Messages(IReadOnlyList<ChatMessage> messages)
        {
            StoredTraceJson.WriteMessages(Start(), messages);
            return Finish();
        }

        private Utf8JsonWriter Start()
        {
            _buffer.ResetWrittenCount();
            if (_json is null)
            {
                _json = new Utf8JsonWriter(_buffer, StoredTraceJson.WriterOptions);
            }
            else
            {
                _json.Reset(_buffer);
            }

            return _json;
        }

        private ReadOnlyMemory<byte> Finish()
        {
            _json!.Flush();
            return _buffer.WrittenMemory;
        }
    }
}
