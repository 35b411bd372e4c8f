using SQLitePCL;

namespace Recal.Storage.Sqlite;

/// <summary>
/// The daily rollup (<see cref="TrafficDays"/>) in <c>traffic_days</c>: changed in the transaction of every write of
/// traces, read for the whole days of a counted window.
/// </summary>
public sealed partial class SqliteStore
{
    /// <summary>Adds a write's changes to the rollup, one upsert per changed cell, in the writer's transaction.</summary>
    private void ApplyRollup(sqlite3 db, RollupDelta delta, Microsoft.Data.Sqlite.SqliteTransaction transaction)
    {
        sqlite3_stmt? upsert = null;
        try
        {
            foreach (var (cell, change) in delta.Changes)
            {
                if (upsert is null)
                {
                    Check(raw.sqlite3_prepare_v2(db, """
                        INSERT INTO traffic_days (day, intent_id, cohort_id, traces, rated, up, escalated, escalation_known)
                        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                        ON CONFLICT (day, intent_id, cohort_id) DO UPDATE SET
                            traces = traces + excluded.traces, rated = rated + excluded.rated, up = up + excluded.up,
                            escalated = escalated + excluded.escalated, escalation_known = escalation_known + excluded.escalation_known
                        """, out upsert), db);
                }

                raw.sqlite3_bind_int64(upsert, 1, cell.Day);
                raw.sqlite3_bind_int64(upsert, 2, NameId("intents", "name", cell.Intent, _intentIds, _intentNames, transaction));
                raw.sqlite3_bind_int64(upsert, 3, NameId("cohorts", "key", cell.CohortKey, _cohortIds, _cohortKeys, transaction));
                raw.sqlite3_bind_int64(upsert, 4, change.Traces);
                raw.sqlite3_bind_int64(upsert, 5, change.Rated);
                raw.sqlite3_bind_int64(upsert, 6, change.Up);
                raw.sqlite3_bind_int64(upsert, 7, change.Escalated);
                raw.sqlite3_bind_int64(upsert, 8, change.EscalationKnown);
                Step(upsert, db);
                raw.sqlite3_reset(upsert);
            }
        }
        finally
        {
            upsert?.Dispose();
        }
    }

    /// <summary>Visits the rollup's cells of the days in [<paramref name="from"/>, <paramref name="to"/>) (Unix milliseconds) with traces in them.</summary>
    private static void ReadDays(sqlite3 db, long from, long to, Action<long, long, long, FeedbackCount> visit, CancellationToken cancellationToken)
    {
        Check(raw.sqlite3_prepare_v2(db, """
            SELECT day, intent_id, cohort_id, traces, rated, up, escalated, escalation_known
            FROM traffic_days WHERE day >= ?1 AND day < ?2 AND traces > 0
            """, out var read), db);
        using (read)
        {
            raw.sqlite3_bind_int64(read, 1, from);
            raw.sqlite3_bind_int64(read, 2, to);
            var rows = 0;
            int result;
            while ((result = raw.sqlite3_step(read)) == raw.SQLITE_ROW)
            {
                if (++rows % 4096 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }

                visit(
                    raw.sqlite3_column_int64(read, 0),
                    raw.sqlite3_column_int64(read, 1),
                    raw.sqlite3_column_int64(read, 2),
                    new FeedbackCount(raw.sqlite3_column_int64(read, 3), raw.sqlite3_column_int64(read, 4), raw.sqlite3_column_int64(read, 5), raw.sqlite3_column_int64(read, 6))
                    {
                        EscalationKnown = raw.sqlite3_column_int64(read, 7),
                    });
            }

            Check(result, db);
        }
    }
}
