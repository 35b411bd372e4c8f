using Microsoft.Data.Sqlite;

namespace Recal.Storage.Sqlite;

/// <summary>The store's own check of its pages and indexes.</summary>
public sealed partial class SqliteStore
{
    /// <summary>
    /// Runs SQLite's integrity check over every page, index and constraint (<c>PRAGMA integrity_check</c>; with
    /// <paramref name="quick"/>, <c>quick_check</c>, which skips matching indexes to their tables and is several times
    /// faster). Returns the problems found, at most <paramref name="limit"/>; empty when the store is sound.
    /// </summary>
    public async ValueTask<IReadOnlyList<string>> CheckIntegrityAsync(bool quick = false, int limit = 100, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var command = _connection.CreateCommand();
            command.CommandText = $"PRAGMA {(quick ? "quick_check" : "integrity_check")}({Math.Max(1, limit)})";
            var problems = new List<string>();
            using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var line = reader.GetString(0);
                if (!string.Equals(line, "ok", StringComparison.Ordinal))
                {
                    problems.Add(line);
                }
            }

            if (problems.Count == 0)
            {
                using var keys = _connection.CreateCommand();
                keys.CommandText = "PRAGMA foreign_key_check";
                using var rows = await keys.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await rows.ReadAsync(cancellationToken).ConfigureAwait(false) && problems.Count < limit)
                {
                    problems.Add($"row {rows.GetValue(1)} of table {rows.GetString(0)} refers to a missing row of {rows.GetString(2)}");
                }
            }

            return problems;
        }
        catch (SqliteException e) when ((e.SqliteErrorCode & 0xFF) is SQLitePCL.raw.SQLITE_CORRUPT or SQLitePCL.raw.SQLITE_NOTADB)
        {
            return [e.Message];
        }
        finally
        {
            _gate.Release();
        }
    }
}
