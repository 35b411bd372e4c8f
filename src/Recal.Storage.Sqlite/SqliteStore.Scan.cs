using Microsoft.Data.Sqlite;
using Recal.Domain;
using SQLitePCL;

namespace Recal.Storage.Sqlite;

/// <summary>Reading stored traces back, for sampling and labelling.</summary>
public sealed partial class SqliteStore
{
    public async ValueTask ScanTracesAsync(DateTimeOffset? from, DateTimeOffset? to, Action<ClassifiedTrace> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT {TraceColumns} FROM traces WHERE ts >= $from AND ts < $to ORDER BY ts, id";
            command.Parameters.AddWithValue("$from", from?.ToUnixTimeMilliseconds() ?? long.MinValue);
            command.Parameters.AddWithValue("$to", to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = 0;
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (++rows % 4096 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                visit(ReadTrace(reader));
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// What a draw needs of each trace of the window through the native API: key, intent and cohort ids, stored
    /// priority, classification text and metadata as the UTF-8 SQLite holds, no string made and no JSON parsed.
    /// </summary>
    public async ValueTask ScanSampleRowsAsync(DateTimeOffset? from, DateTimeOffset? to, SampleRowVisitor visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        await ScanWindowAsync("SELECT key, intent_id, cohort_id, sample_priority, input_text, metadata_json, id FROM traces WHERE ts >= ?1 AND ts < ?2", from, to, scan =>
        {
            var (intent, cohort) = NamesOf(raw.sqlite3_column_int64(scan, 1), raw.sqlite3_column_int64(scan, 2));
            visit(new SampleRow(
                raw.sqlite3_column_int64(scan, 6),
                raw.sqlite3_column_blob(scan, 0),
                intent,
                cohort,
                unchecked((ulong)raw.sqlite3_column_int64(scan, 3)),
                raw.sqlite3_column_blob(scan, 4),
                raw.sqlite3_column_type(scan, 5) == raw.SQLITE_NULL ? default : raw.sqlite3_column_blob(scan, 5)));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What a trace search filters on, through the native API: no output, messages or metadata read, no JSON parsed,
    /// no trace built; the text as the UTF-8 SQLite holds.
    /// </summary>
    public async ValueTask ScanSearchRowsAsync(DateTimeOffset? from, DateTimeOffset? to, SearchRowVisitor visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        const string Sql = "SELECT id, key, ts, intent_id, cohort_id, intent_source, confidence, thumbs, csat, escalated, continued, completed, follow_up, input_text FROM traces WHERE ts >= ?1 AND ts < ?2";
        await ScanWindowAsync(Sql, from, to, scan =>
        {
            bool? Bit(int column) => raw.sqlite3_column_type(scan, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(scan, column) != 0;
            var feedback = new Feedback(
                raw.sqlite3_column_type(scan, 7) == raw.SQLITE_NULL ? null : (int)raw.sqlite3_column_int64(scan, 7),
                raw.sqlite3_column_type(scan, 8) == raw.SQLITE_NULL ? null : raw.sqlite3_column_double(scan, 8),
                Bit(9),
                Bit(10),
                Bit(11),
                Bit(12));
            var (intent, cohort) = NamesOf(raw.sqlite3_column_int64(scan, 3), raw.sqlite3_column_int64(scan, 4));
            visit(new SearchRow(
                raw.sqlite3_column_int64(scan, 0),
                raw.sqlite3_column_blob(scan, 1),
                DateTimeOffset.FromUnixTimeMilliseconds(raw.sqlite3_column_int64(scan, 2)),
                intent,
                cohort,
                (IntentSource)raw.sqlite3_column_int64(scan, 5),
                raw.sqlite3_column_double(scan, 6),
                feedback == Feedback.None ? Feedback.None : feedback,
                raw.sqlite3_column_blob(scan, 13)));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The whole traces named, each read by its row id (the position) and kept only if its key still matches.</summary>
    public async ValueTask<IReadOnlyList<ClassifiedTrace>> GetTracesAsync(IReadOnlyCollection<TraceRef> traces, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(traces);
        var found = new List<ClassifiedTrace>(traces.Count);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT {TraceColumns} FROM traces WHERE id = $id AND key = $key";
            var id = command.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Integer);
            var key = command.Parameters.Add("$key", Microsoft.Data.Sqlite.SqliteType.Text);
            command.Prepare();
            foreach (var wanted in traces.Distinct())
            {
                cancellationToken.ThrowIfCancellationRequested();
                (id.Value, key.Value) = (wanted.Position, wanted.Key);
                using var reader = command.ExecuteReader();
                if (reader.Read())
                {
                    found.Add(ReadTrace(reader));
                }
            }
        }
        finally
        {
            _gate.Release();
        }

        return found;
    }

    /// <summary>Each key looked up by its hash, as <see cref="FindTraceAsync"/> does.</summary>
    public async ValueTask<IReadOnlyList<ClassifiedTrace>> FindTracesAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var found = new List<ClassifiedTrace>(keys.Count);
        foreach (var key in keys.Distinct(StringComparer.Ordinal))
        {
            if (await FindTraceAsync(key, cancellationToken).ConfigureAwait(false) is { } trace)
            {
                found.Add(trace);
            }
        }

        return found;
    }

    /// <summary>One trace by its key: the rows of its key's hash, the key compared.</summary>
    public async ValueTask<ClassifiedTrace?> FindTraceAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"SELECT {TraceColumns} FROM traces WHERE key_hash = $hash AND key = $key LIMIT 1";
            command.Parameters.AddWithValue("$hash", KeyHash(key));
            command.Parameters.AddWithValue("$key", key);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadTrace(reader) : null;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The intent name and cohort key of a row's ids, reloading the names another writer added since this store opened.</summary>
    private (string Intent, string Cohort) NamesOf(long intent, long cohort)
    {
        if (!_intentNames.TryGetValue(intent, out var name) || !_cohortKeys.TryGetValue(cohort, out var key))
        {
            LoadNames();
            (name, key) = (_intentNames[intent], _cohortKeys[cohort]);
        }

        return (name, key);
    }

    /// <summary>The columns <see cref="ReadTrace"/> reads, in its order.</summary>
    private const string TraceColumns =
        "key, ts, input_text, input_json, output, model, metadata_json, thumbs, csat, escalated, continued, completed, follow_up, label, intent_id, intent_source, confidence, cohort_id";

    /// <summary>One row of <see cref="TraceColumns"/>.</summary>
    private ClassifiedTrace ReadTrace(Microsoft.Data.Sqlite.SqliteDataReader reader)
    {
        var key = reader.GetString(0);
        // Older stores may hold '' rather than NULL for "no messages" and "no metadata": both mean none.
        var input = NullOrEmpty(reader, 3)
            ? TraceInput.FromText(reader.GetString(2))
            : TraceInput.FromMessages(StoredTraceJson.ReadMessages(reader.GetString(3)));
        var feedback = new Feedback(
            reader.IsDBNull(7) ? null : (int)reader.GetInt64(7),
            reader.IsDBNull(8) ? null : reader.GetDouble(8),
            Flag(reader, 9),
            Flag(reader, 10),
            Flag(reader, 11),
            Flag(reader, 12));
        var trace = new Trace(
            TraceIdOf(key),
            DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
            input,
            reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5),
            NullOrEmpty(reader, 6) ? new Dictionary<string, string>() : ReadMetadata(reader.GetString(6)),
            feedback,
            reader.IsDBNull(13) ? null : reader.GetString(13));
        return new ClassifiedTrace(trace, key, _intentNames[reader.GetInt64(14)], (IntentSource)reader.GetInt64(15), reader.GetDouble(16), _cohortKeys[reader.GetInt64(17)]);
    }

    /// <summary>
    /// The heads of a window's traces through the native API: the row id, key, time and the intent and cohort ids,
    /// nothing of the text, metadata or feedback columns (no JSON is parsed, no trace built).
    /// </summary>
    public async ValueTask ScanTraceHeadsAsync(DateTimeOffset? from, DateTimeOffset? to, bool withKeys, Action<TraceHead> visit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(visit);
        // Without keys the traffic index covers the query: no table row is read.
        var sql = withKeys
            ? "SELECT id, ts, intent_id, cohort_id, sample_priority, key FROM traces WHERE ts >= ?1 AND ts < ?2"
            : "SELECT id, ts, intent_id, cohort_id, sample_priority FROM traces WHERE ts >= ?1 AND ts < ?2";
        await ScanWindowAsync(sql, from, to, scan =>
        {
            var (intent, cohort) = NamesOf(raw.sqlite3_column_int64(scan, 2), raw.sqlite3_column_int64(scan, 3));
            visit(new TraceHead(
                raw.sqlite3_column_int64(scan, 0),
                DateTimeOffset.FromUnixTimeMilliseconds(raw.sqlite3_column_int64(scan, 1)),
                intent,
                cohort,
                unchecked((ulong)raw.sqlite3_column_int64(scan, 4)),
                withKeys ? raw.sqlite3_column_text(scan, 5).utf8_to_string() : null));
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Point reads by row id in row order (neighbouring rows share pages), in one read transaction; from
    /// <see cref="ParallelTextReads"/> ids on, the higher half is read at the same time on a read-only connection of its own.
    /// </summary>
    public async ValueTask<IReadOnlyDictionary<long, TraceText>> GetClassificationTextsAsync(IReadOnlyCollection<long> positions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(positions);
        var texts = new Dictionary<long, TraceText>(positions.Count);
        if (positions.Count == 0)
        {
            return texts;
        }

        var ordered = positions.ToArray();
        Array.Sort(ordered);
        var half = ordered.Length >= ParallelTextReads && File.Exists(Path) ? ordered.Length / 2 : ordered.Length;
        var higher = half < ordered.Length ? Task.Run(() => ReadTextsApart(ordered[half..], cancellationToken), cancellationToken) : null;
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                using var transaction = _connection.BeginTransaction(deferred: true);
                ReadTexts(_connection.Handle!, ordered.AsSpan(0, half), texts, cancellationToken);
                transaction.Commit();
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            if (higher is not null)
            {
                // Never left reading after the call, even when the lower half failed.
                await ((Task)higher).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        if (higher is not null)
        {
            foreach (var (position, text) in await higher.ConfigureAwait(false))
            {
                texts[position] = text;
            }
        }

        return texts;
    }

    /// <summary>From this many ids on, <see cref="GetClassificationTextsAsync"/> reads its two halves side by side.</summary>
    internal const int ParallelTextReads = 32_768;

    /// <summary>Reads texts on a read-only connection opened for the call (it shares no state with the store's own).</summary>
    private Dictionary<long, TraceText> ReadTextsApart(ReadOnlyMemory<long> positions, CancellationToken cancellationToken)
    {
        using var reader = new SqliteConnection(new SqliteConnectionStringBuilder(_connection.ConnectionString) { Mode = SqliteOpenMode.ReadOnly }.ToString());
        reader.Open();
        Execute(reader, "PRAGMA busy_timeout=5000; PRAGMA cache_size=-16384;");
        var texts = new Dictionary<long, TraceText>(positions.Length);
        using var transaction = reader.BeginTransaction(deferred: true);
        ReadTexts(reader.Handle!, positions.Span, texts, cancellationToken);
        transaction.Commit();
        return texts;
    }

    private static void ReadTexts(sqlite3 db, ReadOnlySpan<long> positions, Dictionary<long, TraceText> texts, CancellationToken cancellationToken)
    {
        Check(raw.sqlite3_prepare_v2(db, "SELECT key, input_text FROM traces WHERE id = ?1", out var select), db);
        using (select)
        {
            var read = 0;
            foreach (var position in positions)
            {
                if (++read % 4096 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                raw.sqlite3_bind_int64(select, 1, position);
                var result = raw.sqlite3_step(select);
                if (result == raw.SQLITE_ROW)
                {
                    texts[position] = new TraceText(raw.sqlite3_column_text(select, 0).utf8_to_string(), raw.sqlite3_column_text(select, 1).utf8_to_string());
                }
                else
                {
                    Check(result, db);
                }

                raw.sqlite3_reset(select);
            }
        }
    }

    /// <summary>A trace with its own id is keyed <c>id:</c> and the id (<see cref="Recal.Ingest.TraceKeys"/>).</summary>
    private static string? TraceIdOf(string key) => key.StartsWith("id:", StringComparison.Ordinal) ? key[3..] : null;

    private static bool NullOrEmpty(Microsoft.Data.Sqlite.SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) || reader.GetString(ordinal).Length == 0;

    private static bool? Flag(Microsoft.Data.Sqlite.SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal) != 0;

    private static Dictionary<string, string> ReadMetadata(string json) => StoredTraceJson.ReadMetadata(json);

    /// <summary>
    /// Steps through <paramref name="sql"/> (its ?1 and ?2 bound to the window's ends in Unix milliseconds) through
    /// the native API, one row at a time under the connection's gate, cancellable every 4,096 rows.
    /// </summary>
    private async ValueTask ScanWindowAsync(string sql, DateTimeOffset? from, DateTimeOffset? to, Action<sqlite3_stmt> visit, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var db = _connection.Handle!;
            Check(raw.sqlite3_prepare_v2(db, sql, out var scan), db);
            using (scan)
            {
                raw.sqlite3_bind_int64(scan, 1, from?.ToUnixTimeMilliseconds() ?? long.MinValue);
                raw.sqlite3_bind_int64(scan, 2, to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
                var rows = 0;
                int result;
                while ((result = raw.sqlite3_step(scan)) == raw.SQLITE_ROW)
                {
                    if (++rows % 4096 == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                    }

                    visit(scan);
                }

                Check(result, db);
            }
        }
        finally
        {
            _gate.Release();
        }
    }
}
