using System.Globalization;
using System.Net.Sockets;
using Npgsql;
using NpgsqlTypes;

namespace Recal.Storage.Postgres;

/// <summary>
/// The server store: the project's tables in the schema <see cref="Schema"/> of one PostgreSQL database, reached through
/// a pooled <see cref="NpgsqlDataSource"/>. Every batch is one transaction, so a kill at any point leaves the store as it
/// was after the last committed batch; writers of traces take turns on an advisory lock (docs/store.md#postgresql).
/// </summary>
public sealed partial class PostgresStore : IRecalStore
{
    /// <summary>The schema the store's tables live in (the connection's search path), so a database can hold other things too.</summary>
    public const string Schema = "recal";

    /// <summary>The advisory lock writers of traces and migrations take in their transaction ("Recal" in ASCII).</summary>
    private const long WriteLock = 0x52_65_63_61_6C;

    private readonly NpgsqlDataSource _dataSource;

    // Replaced whole (one reference), so concurrent callers see one consistent pair.
    private volatile CachedSpan? _span;

    // The UTC months whose partition of traces this store has made sure of, in committed writes.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<DateTimeOffset, bool> _partitions = new();

    private PostgresStore(NpgsqlDataSource dataSource, string display, int schemaVersion, bool readOnly)
    {
        _dataSource = dataSource;
        Display = display;
        SchemaVersion = schemaVersion;
        IsReadOnly = readOnly;
    }

    /// <summary>The store's location as it may be printed (no password).</summary>
    public string Display { get; }

    public int SchemaVersion { get; }

    /// <summary>Opened read-only: every transaction is read-only, cache writes are skipped and any other write fails.</summary>
    public bool IsReadOnly { get; }

    /// <summary>
    /// Opens the store in the database <paramref name="connectionString"/> names, creating its schema and applying
    /// pending migrations. <paramref name="display"/> is how messages name it. A store written by a newer Recal is
    /// refused (<see cref="StoreVersionException"/>); a server that cannot be reached, a failed login or a missing
    /// database is a <see cref="StoreException"/> saying what to do.
    /// </summary>
    public static Task<PostgresStore> OpenAsync(string connectionString, string display, CancellationToken cancellationToken = default) =>
        OpenAsync(connectionString, display, readOnly: false, cancellationToken);

    /// <summary>
    /// Opens the store for reading only: every transaction is read-only. A store that needs migrations (or has no
    /// schema yet) is migrated once first, as a writer.
    /// </summary>
    public static Task<PostgresStore> OpenReadOnlyAsync(string connectionString, string display, CancellationToken cancellationToken = default) =>
        OpenAsync(connectionString, display, readOnly: true, cancellationToken);

    /// <summary>
    /// Opens the store for a command that reads it and caches what it computes: for writing when the role may write the
    /// caches, else read-only (a role granted SELECT alone), when the caches are used but not filled.
    /// </summary>
    public static Task<PostgresStore> OpenForCachingAsync(string connectionString, string display, CancellationToken cancellationToken = default) =>
        OpenAsync(connectionString, display, readOnly: null, cancellationToken);

    /// <param name="readOnly">Null: read-only exactly when the role may not write the caches.</param>
    private static async Task<PostgresStore> OpenAsync(string connectionString, string display, bool? readOnly, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        ArgumentNullException.ThrowIfNull(display);
        connectionString = WithReadBuffer(connectionString);
        var dataSource = NpgsqlDataSource.Create(connectionString);
        try
        {
            var version = await MigrateAsync(dataSource, display, cancellationToken).ConfigureAwait(false);
            readOnly ??= !await MayWriteCachesAsync(dataSource, cancellationToken).ConfigureAwait(false);
            if (readOnly == false)
            {
                return new PostgresStore(dataSource, display, version, readOnly: false);
            }

            await dataSource.DisposeAsync().ConfigureAwait(false);
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { Options = "-c default_transaction_read_only=on" };
            return new PostgresStore(NpgsqlDataSource.Create(builder.ConnectionString), display, version, readOnly: true);
        }
        catch (Exception e) when (e is NpgsqlException or SocketException)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw Explain(e, display) ?? throw new StoreException(StoreException.CannotOpen, $"the store cannot be opened ({e.Message})", display, "check the server, the URL in 'store:' and the password variable", e);
        }
        catch
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>The read buffer a connection gets unless the connection string sets one.</summary>
    internal const int ReadBufferBytes = 64 * 1024;

    /// <summary>
    /// The connection string with a read buffer of <see cref="ReadBufferBytes"/> unless it names one: the instruments read
    /// hundreds of thousands of rows, and each refill of Npgsql's default 8 KiB buffer arms and disarms the command's
    /// timeout (a timer), which cost more than the reading itself.
    /// </summary>
    internal static string WithReadBuffer(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Read Buffer Size", StringComparison.OrdinalIgnoreCase) && !connectionString.Contains("ReadBufferSize", StringComparison.OrdinalIgnoreCase))
        {
            builder.ReadBufferSize = ReadBufferBytes;
        }

        return builder.ConnectionString;
    }

    /// <summary>Whether the connecting role may write the cache tables (INSERT and UPDATE on blobs, the response cache and embeddings).</summary>
    private static async Task<bool> MayWriteCachesAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT bool_and(has_table_privilege('{Schema}.' || t, 'INSERT, UPDATE'))
            FROM unnest(ARRAY['blobs', 'response_cache', 'embeddings']) AS t
            """);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Whether the database holds a store (its version table). A database that does not exist is an error, not a store
    /// to be made: Recal creates its tables, not the database (RC3001 with the <c>createdb</c> to run).
    /// </summary>
    public static async Task<bool> ExistsAsync(string connectionString, string display, CancellationToken cancellationToken = default)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Schema + ".schema_version" });
            return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException)
        {
            throw Explain(e, display)!;
        }
    }

    /// <summary>Creates the schema and its version table if needed, then applies each pending migration in its own transaction.</summary>
    private static async Task<int> MigrateAsync(NpgsqlDataSource dataSource, string display, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var current = await ReadVersionAsync(connection, null, display, cancellationToken).ConfigureAwait(false);
        if (current >= Migrations.Latest)
        {
            return current;
        }

        foreach (var (version, description, sql) in Migrations.All)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            // The lock first: a second process creating the same store waits here and then sees the first one's migrations.
            await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({WriteLock})", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, $"""
                CREATE SCHEMA IF NOT EXISTS {Schema};
                CREATE TABLE IF NOT EXISTS {Schema}.schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken).ConfigureAwait(false);
            current = await ReadVersionAsync(connection, transaction, display, cancellationToken).ConfigureAwait(false);
            if (current >= version)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            try
            {
                // A migration rewrites every stored trace at times (minutes on tens of millions): it has no command timeout.
                await using var migration = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
                await migration.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateTable or PostgresErrorCodes.DuplicateColumn or PostgresErrorCodes.DuplicateObject)
            {
                throw new StoreException(
                    StoreException.SchemaMismatch,
                    $"the store's tables do not match its migration log (at version {current}, migration {version} '{description}' finds: {e.MessageText})",
                    display,
                    $"the schema '{Schema}' was changed outside Recal; restore the database from a backup, or drop the schema and ingest again",
                    e);
            }

            await using (var insert = new NpgsqlCommand("INSERT INTO schema_version (version, description) VALUES ($1, $2)", connection, transaction))
            {
                insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = version });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = description });
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            current = version;
        }

        return current;
    }

    /// <summary>The schema version recorded in the store (0 when it has none yet); a newer one than this Recal knows is refused.</summary>
    private static async Task<int> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string display, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection, transaction);
        exists.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Schema + ".schema_version" });
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
        {
            return 0;
        }

        await using var query = new NpgsqlCommand($"SELECT COALESCE(MAX(version), 0) FROM {Schema}.schema_version", connection, transaction);
        var current = Convert.ToInt32(await query.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        if (current > Migrations.Latest)
        {
            throw new StoreVersionException(
                $"the store was written by a newer Recal (schema version {current}; this version knows up to {Migrations.Latest})",
                display,
                "upgrade Recal, or point 'store:' in recal.yaml at another database");
        }

        return current;
    }

    /// <summary>
    /// What a PostgreSQL or connection failure on the store means for the user: one line saying what is wrong and what to
    /// do, with a <see cref="StoreException"/> code; null when <paramref name="exception"/> is not one. Server messages
    /// carry no password, and none is added.
    /// </summary>
    public static StoreException? Explain(Exception exception, string display)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var socket = exception as SocketException ?? exception.InnerException as SocketException;
        if (exception is PostgresException pg)
        {
            var detail = $"PostgreSQL {pg.SqlState}: {pg.MessageText}";
            return pg.SqlState switch
            {
                PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification => new StoreException(
                    StoreException.CannotOpen, $"PostgreSQL refused the login ({detail})", display,
                    $"check the user in 'store:' and the password in the variable password_env names (else {PostgresLocation.DefaultPasswordVariable}); the server's pg_hba.conf decides who may connect from where", exception),
                PostgresErrorCodes.InvalidCatalogName => new StoreException(
                    StoreException.CannotOpen, $"the database does not exist ({detail})", display,
                    $"create it ({CreateDbCommand(display)}, or CREATE DATABASE as a role that may), or fix the database in 'store:'; Recal creates its tables but not the database", exception),
                PostgresErrorCodes.InsufficientPrivilege => new StoreException(
                    StoreException.WriteFailed, $"the role may not do what the store needs ({detail})", display,
                    $"grant the role CREATE on the database (for the schema '{Schema}') and ownership of that schema, or have its owner run the command once; commands that only read need SELECT alone", exception),
                PostgresErrorCodes.ReadOnlySqlTransaction => new StoreException(
                    StoreException.WriteFailed, $"the store was opened read-only ({detail})", display, "run a command that writes (ingest, run) to change the store", exception),
                PostgresErrorCodes.DiskFull or PostgresErrorCodes.OutOfMemory or PostgresErrorCodes.ConfigurationLimitExceeded => new StoreException(
                    StoreException.WriteFailed, $"the server is out of space ({detail})", display, "free space on the database server and run the command again: committed work is kept", exception),
                PostgresErrorCodes.TooManyConnections or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.AdminShutdown => new StoreException(
                    StoreException.CannotOpen, $"the server does not take connections now ({detail})", display, "wait for the server to start (or for connections to free up) and run the command again: committed work is kept", exception),
                PostgresErrorCodes.DataCorrupted or PostgresErrorCodes.IndexCorrupted => new StoreException(
                    StoreException.Damaged, $"the store is damaged ({detail})", display, "run 'recal store check' for details; restore the database from a backup", exception),
                _ => new StoreException(StoreException.WriteFailed, $"the store failed ({detail})", display, "run 'recal store check'; if it reports no damage, run the command again", exception),
            };
        }

        if (socket is not null || exception is NpgsqlException { InnerException: TimeoutException or IOException } || exception is NpgsqlException { IsTransient: true })
        {
            var reason = socket?.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "the host name is not known",
                SocketError.TimedOut => "the connection timed out",
                SocketError.HostUnreachable or SocketError.NetworkUnreachable => "the host cannot be reached",
                { } other => other.ToString(),
                null => exception.InnerException?.Message ?? exception.Message,
            };
            return new StoreException(
                StoreException.CannotOpen, $"the PostgreSQL server cannot be reached ({reason})", display,
                "start the server, or fix the host and port in 'store:' (the server must listen on that address: listen_addresses in postgresql.conf)", exception);
        }

        return exception is NpgsqlException npgsql
            ? new StoreException(StoreException.WriteFailed, $"the store failed ({npgsql.Message})", display, "run the command again; if it fails again, run 'recal store check'", exception)
            : null;
    }

    /// <summary>The <c>createdb</c> command that makes the database of a store URL (placeholders where the URL does not say).</summary>
    private static string CreateDbCommand(string display)
    {
        if (!Uri.TryCreate(display, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
        {
            return "createdb -h HOST -U USER DATABASE";
        }

        var user = uri.UserInfo.Length == 0 ? "USER" : Uri.UnescapeDataString(uri.UserInfo.Split(':')[0]);
        var port = uri.Port is > 0 and not PostgresLocation.DefaultPort ? $" -p {uri.Port}" : string.Empty;
        return $"createdb -h {uri.Host}{port} -U {user} {Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'))}";
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A typed parameter; a null value is sent as SQL NULL of that type.</summary>
    private static NpgsqlParameter Parameter(object? value, NpgsqlDbType type) => new() { Value = value ?? DBNull.Value, NpgsqlDbType = type };

    /// <summary>A command that runs on a pooled connection of its own, returned to the pool when it (or its reader) is done.</summary>
    private NpgsqlCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = _dataSource.CreateCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    /// <summary>Runs one statement on a pooled connection; returns the rows it changed.</summary>
    private async ValueTask<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = Command(sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs one query on a pooled connection, visiting each row.</summary>
    private async ValueTask ReadAsync(string sql, Action<NpgsqlDataReader> visit, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = Command(sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            visit(reader);
        }
    }

    /// <summary>
    /// <see cref="ReadAsync"/> for a count that groups many rows: in its own read-only transaction with
    /// <c>work_mem</c> raised for it alone (<c>SET LOCAL</c>), so its groups are hashed in memory rather than sorted
    /// through temporary files (at the default 4 MB, the rollup's count of twelve weeks of 1,000,000 traces spilled to
    /// disk and took about twice as long).
    /// </summary>
    private async ValueTask ReadGroupedAsync(string sql, Action<NpgsqlDataReader> visit, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.ReadCommitted, cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SET LOCAL work_mem = '{GroupingMemory}'", cancellationToken).ConfigureAwait(false);
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            command.Parameters.AddRange(parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                visit(reader);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The <c>work_mem</c> of a grouped count (<see cref="ReadGroupedAsync"/>).</summary>
    private const string GroupingMemory = "64MB";

    public async ValueTask<IngestSession> BeginIngestAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var started = Milliseconds(DateTimeOffset.UtcNow);
        await using var command = Command("INSERT INTO ingests (source, started) VALUES ($1, $2) RETURNING id", Parameter(source, NpgsqlDbType.Text), Parameter(started, NpgsqlDbType.TimestampTz));
        var id = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        return new IngestSession(id, source, started);
    }

    public async ValueTask EndIngestAsync(IngestSession ingest, long read, long added, long duplicates, long quarantined, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ingest);
        await ExecuteAsync(
            "UPDATE ingests SET finished = $1, lines = $2, added = $3, duplicates = $4, quarantined = $5 WHERE id = $6",
            cancellationToken,
            Parameter(Milliseconds(DateTimeOffset.UtcNow), NpgsqlDbType.TimestampTz),
            Parameter(read, NpgsqlDbType.Bigint),
            Parameter(added, NpgsqlDbType.Bigint),
            Parameter(duplicates, NpgsqlDbType.Bigint),
            Parameter(quarantined, NpgsqlDbType.Bigint),
            Parameter(ingest.Id, NpgsqlDbType.Bigint)).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyDictionary<long, long>> CountTracesByIngestAsync(CancellationToken cancellationToken = default)
    {
        var counts = new Dictionary<long, long>();
        await ReadAsync("SELECT ingest_id, count(*) FROM traces WHERE ingest_id IS NOT NULL GROUP BY ingest_id", r => counts[r.GetInt64(0)] = r.GetInt64(1), cancellationToken).ConfigureAwait(false);
        return counts;
    }

    public async ValueTask<IReadOnlyList<IngestLogEntry>> GetIngestLogAsync(int limit = 50, CancellationToken cancellationToken = default)
    {
        var entries = new List<IngestLogEntry>();
        await ReadAsync(
            "SELECT id, source, started, finished, lines, added, duplicates, quarantined FROM ingests ORDER BY id DESC LIMIT $1",
            r => entries.Add(new IngestLogEntry(
                r.GetInt64(0),
                r.GetString(1),
                r.GetFieldValue<DateTimeOffset>(2),
                r.IsDBNull(3) ? null : r.GetFieldValue<DateTimeOffset>(3),
                r.GetInt64(4),
                r.GetInt64(5),
                r.GetInt64(6),
                r.GetInt64(7))),
            cancellationToken,
            Parameter(Math.Max(0, limit), NpgsqlDbType.Integer)).ConfigureAwait(false);
        return entries;
    }

    public async ValueTask<byte[]?> GetCachedResponseAsync(string key, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var command = Command("SELECT response FROM response_cache WHERE key = $1 AND (expires IS NULL OR expires > $2)", Parameter(key, NpgsqlDbType.Text),
            Parameter(Milliseconds(now), NpgsqlDbType.TimestampTz));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
    }

    public async ValueTask PutCachedResponseAsync(string key, byte[] response, DateTimeOffset created, DateTimeOffset? expires, CancellationToken cancellationToken = default)
    {
        if (IsReadOnly)
        {
            // A cache is an optimisation: a command that only reads leaves the store as it found it.
            return;
        }

        await ExecuteAsync(
            """
            INSERT INTO response_cache (key, response, created, expires) VALUES ($1, $2, $3, $4)
            ON CONFLICT (key) DO UPDATE SET response = excluded.response, created = excluded.created, expires = excluded.expires
            """,
            cancellationToken,
            Parameter(key, NpgsqlDbType.Text),
            Parameter(response, NpgsqlDbType.Bytea),
            Parameter(Milliseconds(created), NpgsqlDbType.TimestampTz),
            Parameter(expires is { } e ? Milliseconds(e) : null, NpgsqlDbType.TimestampTz)).ConfigureAwait(false);
    }

    public async ValueTask<byte[]?> GetBlobAsync(string key, CancellationToken cancellationToken = default)
    {
        await using var command = Command("SELECT value FROM blobs WHERE key = $1", Parameter(key, NpgsqlDbType.Text));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
    }

    public async ValueTask PutBlobAsync(string key, byte[] value, CancellationToken cancellationToken = default)
    {
        if (IsReadOnly)
        {
            // A cache is an optimisation: a command that only reads leaves the store as it found it.
            return;
        }

        await ExecuteAsync(
            "INSERT INTO blobs (key, value, updated) VALUES ($1, $2, now()) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
            cancellationToken,
            Parameter(key, NpgsqlDbType.Text),
            Parameter(value, NpgsqlDbType.Bytea)).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<BlobInfo>> ListBlobsAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var blobs = new List<BlobInfo>();
        await ReadAsync(
            "SELECT key, updated, octet_length(value) FROM blobs WHERE left(key, $2) = $1",
            r => blobs.Add(new BlobInfo(r.GetString(0), r.GetFieldValue<DateTimeOffset>(1), r.GetInt32(2))),
            cancellationToken,
            Parameter(prefix, NpgsqlDbType.Text),
            Parameter(prefix.Length, NpgsqlDbType.Integer)).ConfigureAwait(false);
        return blobs;
    }

    public async ValueTask DeleteBlobsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (IsReadOnly || keys.Count == 0)
        {
            return;
        }

        await ExecuteAsync("DELETE FROM blobs WHERE key = ANY($1)", cancellationToken, Parameter(keys.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text)).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _listening.WaitAsync().ConfigureAwait(false);
        try
        {
            await DropListenerAsync().ConfigureAwait(false);
        }
        finally
        {
            _listening.Release();
        }

        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>An instant as the store keeps it: whole milliseconds, UTC (what SQLite keeps, so both stores read back alike).</summary>
    private static DateTimeOffset Milliseconds(DateTimeOffset instant) => DateTimeOffset.FromUnixTimeMilliseconds(instant.ToUnixTimeMilliseconds());
}
