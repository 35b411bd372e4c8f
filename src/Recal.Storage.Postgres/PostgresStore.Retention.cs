using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Recal.Storage.Postgres;

/// <summary>
/// Retention of raw traces (docs/store.md#retention-of-raw-traces): the month partitions wholly before the cutoff
/// dropped, one transaction each, and the boundary month's older rows deleted in steps of <see cref="PruneStep"/>; the
/// keys stay in <c>trace_keys</c> and the daily rollup as it is.
/// </summary>
public sealed partial class PostgresStore
{
    /// <summary>The rows of the boundary month one step of a prune deletes at most (writers wait for one such transaction at most).</summary>
    public const int PruneStep = 10_000;

    public async ValueTask<PruneSummary> PlanPruneAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        var cutoff = Retention.Cutoff(before);
        var (whole, boundary) = await PartitionsBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
        var days = new SortedSet<long>();
        long traces = 0;
        await ReadAsync(
            "SELECT date_trunc('day', ts, 'UTC'), count(*) FROM traces WHERE ts < $1 GROUP BY 1",
            r =>
            {
                days.Add(r.GetFieldValue<DateTimeOffset>(0).ToUnixTimeMilliseconds());
                traces += r.GetInt64(1);
            },
            cancellationToken,
            Parameter(cutoff, NpgsqlDbType.TimestampTz)).ConfigureAwait(false);
        long bytes = 0;
        foreach (var (name, _) in whole)
        {
            bytes += await RelationSizeAsync(name, cancellationToken).ConfigureAwait(false);
        }

        if (boundary is { } b)
        {
            // The boundary month's share of its partition, by rows: its rows are alike enough for an estimate.
            long rows = 0, older = 0;
            await ReadAsync($"SELECT count(*), count(*) FILTER (WHERE ts < $1) FROM {b.Name}", r => (rows, older) = (r.GetInt64(0), r.GetInt64(1)), cancellationToken, Parameter(cutoff, NpgsqlDbType.TimestampTz)).ConfigureAwait(false);
            bytes += rows == 0 ? 0 : (long)((double)await RelationSizeAsync(b.Name, cancellationToken).ConfigureAwait(false) * older / rows);
        }

        return Summary(cutoff, traces, days, [.. whole.Select(w => w.Name)], bytes);
    }

    public async ValueTask<PruneSummary> PruneTracesAsync(DateTimeOffset before, IProgress<PruneSummary>? progress = null, CancellationToken cancellationToken = default)
    {
        var cutoff = Retention.Cutoff(before);
        var (whole, boundary) = await PartitionsBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
        var days = new SortedSet<long>();
        var dropped = new List<string>();
        long traces = 0, bytes = 0;
        var recorded = false;
        foreach (var (name, month) in whole)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var size = await RelationSizeAsync(name, cancellationToken).ConfigureAwait(false);
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
            recorded = recorded || await RecordCutoffAsync(connection, transaction, cutoff, cancellationToken).ConfigureAwait(false);
            traces += await CountDaysAsync(connection, transaction, $"SELECT date_trunc('day', ts, 'UTC'), count(*) FROM {name} GROUP BY 1", days, cancellationToken).ConfigureAwait(false);
            // Dropping a partition waits for the reads in flight on traces and holds new ones until it commits: an instant.
            await ExecuteAsync(connection, transaction, $"DROP TABLE {name}", cancellationToken).ConfigureAwait(false);
            await CountChangeAsync(connection, transaction, 1, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            _partitions.TryRemove(month, out _);
            dropped.Add(name);
            bytes += size;
            progress?.Report(Summary(cutoff, traces, days, dropped, bytes));
        }

        if (boundary is { } b)
        {
            var size = await RelationSizeAsync(b.Name, cancellationToken).ConfigureAwait(false);
            long rows = 0;
            await ReadAsync($"SELECT count(*) FROM {b.Name}", r => rows = r.GetInt64(0), cancellationToken).ConfigureAwait(false);
            long deleted = 0;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var transaction = await BeginWriteAsync(connection, cancellationToken).ConfigureAwait(false);
                var step = await CountDaysAsync(
                    connection,
                    transaction,
                    $"WITH gone AS (DELETE FROM {b.Name} WHERE id IN (SELECT id FROM {b.Name} WHERE ts < $1 ORDER BY ts LIMIT {PruneStep}) RETURNING ts) SELECT date_trunc('day', ts, 'UTC'), count(*) FROM gone GROUP BY 1",
                    days,
                    cancellationToken,
                    Parameter(cutoff, NpgsqlDbType.TimestampTz)).ConfigureAwait(false);
                if (step == 0)
                {
                    break;
                }

                recorded = recorded || await RecordCutoffAsync(connection, transaction, cutoff, cancellationToken).ConfigureAwait(false);
                await CountChangeAsync(connection, transaction, 1, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                (traces, deleted) = (traces + step, deleted + step);
                progress?.Report(Summary(cutoff, traces, days, dropped, bytes + (rows == 0 ? 0 : (long)((double)size * deleted / rows))));
            }

            bytes += rows == 0 ? 0 : (long)((double)size * deleted / rows);
        }

        return Summary(cutoff, traces, days, dropped, bytes);
    }

    public async ValueTask<DateTimeOffset?> GetPrunedBeforeAsync(CancellationToken cancellationToken = default) =>
        Retention.Decode(await GetBlobAsync(Retention.PrunedBeforeBlob, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// The partitions of <c>traces</c> (name and month) that end on or before <paramref name="cutoff"/>, oldest first,
    /// and the one that holds it, if any: from the catalog, named <c>traces_YYYY_MM</c>.
    /// </summary>
    private async Task<(List<(string Name, DateTimeOffset Month)> Whole, (string Name, DateTimeOffset Month)? Boundary)> PartitionsBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var months = new List<(string Name, DateTimeOffset Month)>();
        await ReadAsync(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = 'traces'
            """,
            r =>
            {
                var name = r.GetString(0);
                if (DateTimeOffset.TryParseExact(name.Replace("traces_", string.Empty, StringComparison.Ordinal), "yyyy_MM", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var month))
                {
                    months.Add((name, month.ToUniversalTime()));
                }
            },
            cancellationToken,
            Parameter(Schema, NpgsqlDbType.Text)).ConfigureAwait(false);
        months.Sort((a, b) => a.Month.CompareTo(b.Month));
        var whole = months.Where(m => m.Month.AddMonths(1) <= cutoff).ToList();
        var boundary = months.Where(m => m.Month < cutoff && m.Month.AddMonths(1) > cutoff).Select(m => ((string, DateTimeOffset)?)m).FirstOrDefault();
        return (whole, boundary);
    }

    /// <summary>Records the cutoff in the writer's transaction (never moving it back); true once recorded.</summary>
    private static async Task<bool> RecordCutoffAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        byte[]? recorded = null;
        await using (var read = new NpgsqlCommand("SELECT value FROM blobs WHERE key = $1", connection, transaction))
        {
            read.Parameters.Add(Parameter(Retention.PrunedBeforeBlob, NpgsqlDbType.Text));
            recorded = await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
        }

        await using var write = new NpgsqlCommand(
            "INSERT INTO blobs (key, value, updated) VALUES ($1, $2, now()) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
            connection,
            transaction);
        write.Parameters.Add(Parameter(Retention.PrunedBeforeBlob, NpgsqlDbType.Text));
        write.Parameters.Add(Parameter(Retention.Encode(Retention.Later(Retention.Decode(recorded), cutoff)), NpgsqlDbType.Bytea));
        await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Runs a query of (UTC day, count) rows in the transaction, adding the days to <paramref name="days"/>; returns the counts' sum.</summary>
    private static async Task<long> CountDaysAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, SortedSet<long> days, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddRange(parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        long total = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            days.Add(reader.GetFieldValue<DateTimeOffset>(0).ToUnixTimeMilliseconds());
            total += reader.GetInt64(1);
        }

        return total;
    }

    /// <summary>A table's bytes with its indexes and TOAST.</summary>
    private async Task<long> RelationSizeAsync(string table, CancellationToken cancellationToken)
    {
        long size = 0;
        await ReadAsync("SELECT pg_total_relation_size(to_regclass($1))", r => size = r.IsDBNull(0) ? 0 : r.GetInt64(0), cancellationToken, Parameter($"{Schema}.{table}", NpgsqlDbType.Text)).ConfigureAwait(false);
        return size;
    }

    /// <summary>The recorded cutoff (Unix milliseconds); null when the store was never pruned.</summary>
    private async Task<long?> PrunedBeforeMsAsync(CancellationToken cancellationToken) =>
        (await GetPrunedBeforeAsync(cancellationToken).ConfigureAwait(false))?.ToUnixTimeMilliseconds();

    private static PruneSummary Summary(DateTimeOffset cutoff, long traces, SortedSet<long> days, IReadOnlyList<string> dropped, long bytes) =>
        new(cutoff, traces, days.Count, [.. days.Select(Retention.MonthOf).Distinct()], [.. dropped], bytes);
}
