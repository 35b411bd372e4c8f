using System.Buffers.Binary;
using Npgsql;
using NpgsqlTypes;

namespace Recal.Storage.Postgres;

/// <summary>The embedding cache (one <c>real[]</c> per embedder and text hash, the hash as a uuid) and the store's own check.</summary>
public sealed partial class PostgresStore
{
    /// <summary>
    /// One query on the primary key for the whole set of hashes. Each vector comes as its array's binary form
    /// (<c>array_send</c>), read by <see cref="FloatsOf"/>: Npgsql's array reader costs about 25 µs per vector of 256,
    /// more than the query itself for a window's ten thousand.
    /// </summary>
    public async ValueTask<IReadOnlyDictionary<UInt128, float[]>> GetEmbeddingsAsync(string embedder, IReadOnlyCollection<UInt128> textHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(textHashes);
        var found = new Dictionary<UInt128, float[]>(textHashes.Count);
        if (textHashes.Count == 0)
        {
            return found;
        }

        await ReadAsync(
            "SELECT text_hash, array_send(vector) FROM embeddings WHERE embedder = $1 AND text_hash = ANY($2)",
            r => found[HashOf(r.GetGuid(0))] = FloatsOf(r.GetFieldValue<byte[]>(1), Display),
            cancellationToken,
            Parameter(embedder, NpgsqlDbType.Text),
            Parameter(textHashes.Distinct().Select(GuidOf).ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Uuid)).ConfigureAwait(false);
        return found;
    }

    /// <summary>
    /// A one-dimensional <c>real[]</c> from its binary form: the number of dimensions, a has-nulls flag, the element
    /// type's oid (700, float4), each dimension's length and lower bound, then each element as its byte length (4) and
    /// its big-endian value. Anything else is a <see cref="StoreException"/> (the cache holds no such vector).
    /// </summary>
    internal static float[] FloatsOf(ReadOnlySpan<byte> array, string display)
    {
        const int Float4 = 700;
        if (array.Length < 12)
        {
            throw Malformed("it is shorter than an array's header");
        }

        var dimensions = BinaryPrimitives.ReadInt32BigEndian(array);
        var element = BinaryPrimitives.ReadInt32BigEndian(array[8..]);
        if (dimensions == 0)
        {
            return [];
        }

        if (dimensions != 1 || element != Float4 || array.Length < 20)
        {
            throw Malformed($"it has {dimensions} dimensions of type {element}, not one of real (700)");
        }

        if (BinaryPrimitives.ReadInt32BigEndian(array[4..]) != 0)
        {
            throw Malformed("an element is null");
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(array[12..]);
        if (length < 0 || array.Length != 20 + (8L * length))
        {
            throw Malformed($"{array.Length} bytes do not hold {length} reals");
        }

        var vector = new float[length];
        var items = array[20..];
        for (var i = 0; i < vector.Length; i++, items = items[8..])
        {
            if (BinaryPrimitives.ReadInt32BigEndian(items) != 4)
            {
                throw Malformed($"element {i} is not 4 bytes");
            }

            vector[i] = BinaryPrimitives.ReadSingleBigEndian(items[4..]);
        }

        return vector;

        StoreException Malformed(string why) =>
            new(StoreException.Damaged, $"an embedding in the cache is not a vector of reals: {why}", display, "delete the embedder's rows from the embeddings table; they are computed again when next needed");
    }

    /// <summary>One transaction: the vectors written by binary COPY into a staging table, then upserted (the last of a hash given twice wins).</summary>
    public async ValueTask PutEmbeddingsAsync(string embedder, IReadOnlyList<KeyValuePair<UInt128, float[]>> embeddings, CancellationToken cancellationToken = default)
    {
        if (IsReadOnly)
        {
            // A cache is an optimisation: a command that only reads leaves the store as it found it.
            return;
        }

        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.Count == 0)
        {
            return;
        }

        var latest = new Dictionary<UInt128, float[]>(embeddings.Count);
        foreach (var (hash, vector) in embeddings)
        {
            latest[hash] = vector ?? throw new ArgumentNullException(nameof(embeddings), "a vector is null");
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, "CREATE TEMP TABLE staged_embeddings (text_hash uuid NOT NULL, vector real[] NOT NULL) ON COMMIT DROP", cancellationToken).ConfigureAwait(false);
        await using (var writer = await connection.BeginBinaryImportAsync("COPY staged_embeddings (text_hash, vector) FROM STDIN (FORMAT BINARY)", cancellationToken).ConfigureAwait(false))
        {
            foreach (var (hash, vector) in latest)
            {
                await writer.StartRowAsync(cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync(GuidOf(hash), NpgsqlDbType.Uuid, cancellationToken).ConfigureAwait(false);
                await writer.WriteAsync(vector, NpgsqlDbType.Array | NpgsqlDbType.Real, cancellationToken).ConfigureAwait(false);
            }

            await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var upsert = new NpgsqlCommand(
            "INSERT INTO embeddings (embedder, text_hash, vector) SELECT $1, text_hash, vector FROM staged_embeddings ON CONFLICT (embedder, text_hash) DO UPDATE SET vector = excluded.vector",
            connection,
            transaction))
        {
            upsert.Parameters.Add(Parameter(embedder, NpgsqlDbType.Text));
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The 128-bit text hash as a uuid: its 16 bytes big-endian, so the uuid's text is the hash in hex.</summary>
    private static Guid GuidOf(UInt128 hash)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, hash);
        return new Guid(bytes, bigEndian: true);
    }

    private static UInt128 HashOf(Guid guid)
    {
        Span<byte> bytes = stackalloc byte[16];
        guid.TryWriteBytes(bytes, bigEndian: true, out _);
        return BinaryPrimitives.ReadUInt128BigEndian(bytes);
    }

    /// <summary>
    /// What PostgreSQL lets a store check of itself: every table of the schema is there, no stored row refers to a row
    /// that is missing, and the stored values keep their invariants (a run's status, an embedding's dimensions); without <paramref name="quick"/>, also every index of the schema against its table with
    /// <c>amcheck</c>'s <c>bt_index_check</c> when that extension is installed in the database. Pages are the server's to
    /// checksum (<c>initdb --data-checksums</c>, <c>pg_amcheck</c>).
    /// </summary>
    public async ValueTask<IReadOnlyList<string>> CheckIntegrityAsync(bool quick = false, int limit = 100, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        string[] tables = ["ingests", "traces", "trace_keys", "traffic_days", "trace_changes", "pending_parts", "blobs", "response_cache", "runs", "run_cases", "embeddings", "schema_version",
            "run_queue_runs", "run_queue", "run_workers", "run_worker_totals", "call_slots"];
        var present = new HashSet<string>(StringComparer.Ordinal);
        await ReadAsync(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
            r => present.Add(r.GetString(0)),
            cancellationToken,
            Parameter(Schema, NpgsqlDbType.Text)).ConfigureAwait(false);
        problems.AddRange(tables.Where(t => !present.Contains(t)).Select(t => $"table {Schema}.{t} is missing"));
        if (problems.Count > 0)
        {
            return problems;
        }

        var prunedBefore = (await GetPrunedBeforeAsync(cancellationToken).ConfigureAwait(false))?.UtcDateTime;
        (string Sql, string Problem)[] checks =
        [
            ("SELECT count(*) FROM traces t WHERE t.ingest_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ingests i WHERE i.id = t.ingest_id)", "trace(s) refer to a missing ingest"),
            ("SELECT count(*) FROM traces t WHERE NOT EXISTS (SELECT 1 FROM trace_keys k WHERE k.key = t.key AND k.id = t.id AND k.ts = t.ts)", "trace(s) are missing from trace_keys or listed there with another id or time"),
            // A pruned trace's key stays (docs/store.md#retention-of-raw-traces): only keys from the cutoff on need their trace.
            (prunedBefore is null
                ? "SELECT (SELECT count(*) FROM trace_keys) - (SELECT count(*) FROM traces)"
                : $"SELECT count(*) FROM trace_keys k WHERE k.ts >= '{prunedBefore:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}' AND NOT EXISTS (SELECT 1 FROM traces t WHERE t.id = k.id AND t.ts = k.ts)",
                "key(s) in trace_keys have no trace"),
            ("SELECT count(*) FROM run_cases c WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = c.run_id)", "case result(s) refer to a missing run"),
            ($"SELECT count(*) FROM runs WHERE status NOT IN ({string.Join(", ", Enum.GetValues<Running.RunStatus>().Select(s => $"'{StatusName(s)}'"))})", "run(s) have an unknown status"),
            ("SELECT count(*) FROM embeddings WHERE cardinality(vector) = 0", "embedding(s) have no dimensions"),
            ("SELECT count(*) FROM run_queue q WHERE q.state = 2 AND NOT EXISTS (SELECT 1 FROM run_cases c WHERE c.run_id = q.run_id AND c.case_id = q.case_id)", "queued case(s) are marked done without a result"),
            ("SELECT count(*) FROM run_queue_runs r WHERE r.remaining <> (SELECT count(*) FROM run_queue q WHERE q.run_id = r.run_id AND q.state < 2)", "distributed run(s) count open cases wrongly"),
        ];
        foreach (var (sql, problem) in checks)
        {
            long count = 0;
            await ReadAsync(sql, r => count = r.GetInt64(0), cancellationToken).ConfigureAwait(false);
            if (count > 0)
            {
                problems.Add($"{count} {problem}");
            }
        }

        if (!quick)
        {
            await ReadAsync(
                """
                SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                JOIN pg_am a ON a.oid = c.relam
                WHERE n.nspname = $1 AND a.amname = 'btree' AND NOT i.indisvalid
                """,
                r => problems.Add($"index {Schema}.{r.GetString(0)} is not valid (an interrupted CREATE INDEX CONCURRENTLY or REINDEX)"),
                cancellationToken,
                Parameter(Schema, NpgsqlDbType.Text)).ConfigureAwait(false);
            await CheckIndexesAsync(problems, cancellationToken).ConfigureAwait(false);
        }

        return [.. problems.Take(Math.Max(1, limit))];
    }

    /// <summary>Each btree index of the schema against its table with amcheck, when the extension is installed.</summary>
    private async Task CheckIndexesAsync(List<string> problems, CancellationToken cancellationToken)
    {
        var amcheck = false;
        await ReadAsync("SELECT count(*) > 0 FROM pg_extension WHERE extname = 'amcheck'", r => amcheck = r.GetBoolean(0), cancellationToken).ConfigureAwait(false);
        if (!amcheck)
        {
            return;
        }

        var indexes = new List<string>();
        await ReadAsync(
            """
            SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_am a ON a.oid = c.relam WHERE n.nspname = $1 AND a.amname = 'btree' AND i.indisvalid
            """,
            r => indexes.Add(r.GetString(0)),
            cancellationToken,
            Parameter(Schema, NpgsqlDbType.Text)).ConfigureAwait(false);
        foreach (var index in indexes)
        {
            try
            {
                await ReadAsync("SELECT bt_index_check($1::regclass, true)", _ => { }, cancellationToken, Parameter(Schema + "." + index, NpgsqlDbType.Text)).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.IndexCorrupted or PostgresErrorCodes.DataCorrupted)
            {
                problems.Add($"index {Schema}.{index}: {e.MessageText}");
            }
        }
    }
}
