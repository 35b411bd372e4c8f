using System.Buffers.Binary;
using System.Runtime.InteropServices;
using SQLitePCL;

namespace Recal.Storage.Sqlite;

/// <summary>The embedding cache: one vector per embedder and text hash, as little-endian float32.</summary>
public sealed partial class SqliteStore
{
    public async ValueTask<IReadOnlyDictionary<UInt128, float[]>> GetEmbeddingsAsync(string embedder, IReadOnlyCollection<UInt128> textHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(textHashes);
        var found = new Dictionary<UInt128, float[]>(textHashes.Count);
        if (textHashes.Count == 0)
        {
            return found;
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // One read transaction: every lookup sees the same snapshot, and SQLite takes its read lock once.
            using var transaction = _connection.BeginTransaction(deferred: true);
            var db = _connection.Handle!;
            Check(raw.sqlite3_prepare_v2(db, "SELECT dims, vector FROM embeddings WHERE embedder = ?1 AND text_hash = ?2", out var select), db);
            using (select)
            {
                raw.sqlite3_bind_text16(select, 1, embedder.AsSpan());
                Span<byte> key = stackalloc byte[16];
                var looked = 0;
                foreach (var hash in textHashes)
                {
                    if (++looked % 4096 == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }

                    BinaryPrimitives.WriteUInt128BigEndian(key, hash);
                    raw.sqlite3_bind_blob(select, 2, key);
                    var result = raw.sqlite3_step(select);
                    if (result == raw.SQLITE_ROW)
                    {
                        var dims = raw.sqlite3_column_int(select, 0);
                        var bytes = raw.sqlite3_column_blob(select, 1);
                        if (bytes.Length == dims * sizeof(float))
                        {
                            found[hash] = ReadVector(bytes, dims);
                        }
                    }
                    else
                    {
                        Check(result, db);
                    }

                    raw.sqlite3_reset(select);
                }
            }

            transaction.Commit();
            return found;
        }
        finally
        {
            _gate.Release();
        }
    }

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

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var transaction = _connection.BeginTransaction(deferred: false);
            var db = _connection.Handle!;
            Check(raw.sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO embeddings (embedder, text_hash, dims, vector) VALUES (?1, ?2, ?3, ?4)", out var insert), db);
            using (insert)
            {
                raw.sqlite3_bind_text16(insert, 1, embedder.AsSpan());
                Span<byte> key = stackalloc byte[16];
                foreach (var (hash, vector) in embeddings)
                {
                    ArgumentNullException.ThrowIfNull(vector, nameof(embeddings));
                    BinaryPrimitives.WriteUInt128BigEndian(key, hash);
                    raw.sqlite3_bind_blob(insert, 2, key);
                    raw.sqlite3_bind_int(insert, 3, vector.Length);
                    raw.sqlite3_bind_blob(insert, 4, VectorBytes(vector));
                    var result = raw.sqlite3_step(insert);
                    if (result != raw.SQLITE_DONE)
                    {
                        Check(result, db);
                    }

                    raw.sqlite3_reset(insert);
                }
            }

            transaction.Commit();
        }
        finally
        {
            _gate.Release();
        }
    }

    private static float[] ReadVector(ReadOnlySpan<byte> bytes, int dims)
    {
        var vector = new float[dims];
        if (BitConverter.IsLittleEndian)
        {
            bytes.CopyTo(MemoryMarshal.AsBytes(vector.AsSpan()));
        }
        else
        {
            for (var i = 0; i < dims; i++)
            {
                vector[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * sizeof(float))..]);
            }
        }

        return vector;
    }

    private static ReadOnlySpan<byte> VectorBytes(float[] vector)
    {
        if (BitConverter.IsLittleEndian)
        {
            return MemoryMarshal.AsBytes(vector.AsSpan());
        }

        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        }

        return bytes;
    }
}
