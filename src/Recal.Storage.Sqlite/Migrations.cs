namespace Recal.Storage.Sqlite;

/// <summary>
/// The store's schema, as an ordered list of migrations. A migration is never edited once released:
/// changes are new entries. Each runs in its own transaction with its version row.
/// </summary>
internal static class Migrations
{
    public static IReadOnlyList<(int Version, string Description, string Sql)> All { get; } =
    [
        (1, "traces, ingest log, blobs", """
            CREATE TABLE intents (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
            CREATE TABLE cohorts (id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
            CREATE TABLE traces (
                id INTEGER PRIMARY KEY,
                key_hash INTEGER NOT NULL,
                key TEXT NOT NULL,
                ts INTEGER NOT NULL,
                input_text TEXT NOT NULL,
                input_json TEXT,
                output TEXT,
                model TEXT,
                metadata_json TEXT,
                thumbs INTEGER,
                csat REAL,
                escalated INTEGER,
                continued INTEGER,
                completed INTEGER,
                follow_up INTEGER,
                label TEXT,
                intent_id INTEGER NOT NULL REFERENCES intents (id),
                intent_source INTEGER NOT NULL,
                confidence REAL NOT NULL,
                cohort_id INTEGER NOT NULL REFERENCES cohorts (id),
                ingest_id INTEGER
            );
            CREATE INDEX traces_by_time ON traces (ts, intent_id, cohort_id);
            CREATE TABLE ingests (
                id INTEGER PRIMARY KEY,
                source TEXT NOT NULL,
                started INTEGER NOT NULL,
                finished INTEGER,
                lines INTEGER NOT NULL DEFAULT 0,
                added INTEGER NOT NULL DEFAULT 0,
                duplicates INTEGER NOT NULL DEFAULT 0,
                quarantined INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE blobs (
                key TEXT PRIMARY KEY,
                value BLOB NOT NULL,
                updated INTEGER NOT NULL
            );
            """),
        (2, "response cache", """
            CREATE TABLE response_cache (
                key TEXT PRIMARY KEY,
                response BLOB NOT NULL,
                created INTEGER NOT NULL,
                expires INTEGER
            );
            """),
        (3, "runs and their case results", """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                project TEXT NOT NULL,
                target TEXT NOT NULL,
                target_json TEXT NOT NULL,
                suite_version TEXT NOT NULL,
                pools TEXT NOT NULL,
                total INTEGER NOT NULL,
                judges TEXT,
                started INTEGER NOT NULL,
                finished INTEGER,
                status TEXT NOT NULL
            );
            CREATE TABLE run_cases (
                run_id TEXT NOT NULL REFERENCES runs (id),
                case_id TEXT NOT NULL,
                intent TEXT NOT NULL,
                cohort TEXT NOT NULL,
                difficulty TEXT,
                pool TEXT NOT NULL,
                output TEXT,
                error TEXT,
                passed INTEGER NOT NULL,
                scores_json TEXT NOT NULL,
                judge_json TEXT,
                latency_ms REAL,
                input_tokens INTEGER,
                output_tokens INTEGER,
                cost REAL,
                attempts INTEGER NOT NULL,
                from_cache INTEGER NOT NULL,
                finished INTEGER NOT NULL,
                PRIMARY KEY (run_id, case_id)
            );
            """),
        (4, "embedding cache", """
            CREATE TABLE embeddings (
                embedder TEXT NOT NULL,
                text_hash BLOB NOT NULL,
                dims INTEGER NOT NULL,
                vector BLOB NOT NULL,
                PRIMARY KEY (embedder, text_hash)
            );
            """),
        (5, "run leases", """
            ALTER TABLE runs ADD COLUMN lease_owner TEXT;
            ALTER TABLE runs ADD COLUMN lease_until INTEGER;
            """),
        (6, "sampling priorities; traffic index covers the feedback columns and the priority", """
            ALTER TABLE traces ADD COLUMN sample_priority INTEGER;
            UPDATE traces SET sample_priority = recal_sample_priority(key);
            CREATE INDEX IF NOT EXISTS traces_by_time_feedback ON traces (ts, intent_id, cohort_id, thumbs, escalated, sample_priority);
            DROP INDEX IF EXISTS traces_by_time;
            """),
        (7, "row of each trace made of parts (OTLP spans, exports), for merging later parts into it", """
            CREATE TABLE trace_parts (trace_row INTEGER PRIMARY KEY, key_hash INTEGER NOT NULL);
            """),
        (8, "metadata and model of parts whose trace is not stored yet (a root span in an earlier file than its chat span)", """
            CREATE TABLE pending_parts (id INTEGER PRIMARY KEY, key_hash INTEGER NOT NULL, key TEXT NOT NULL, metadata_json TEXT, model TEXT);
            CREATE INDEX pending_parts_by_key ON pending_parts (key_hash);
            """),
        (9, "daily rollup of the traffic: traces, thumbs and escalations per UTC day, intent and cohort, kept by every write", """
            CREATE TABLE traffic_days (
                day INTEGER NOT NULL,
                intent_id INTEGER NOT NULL,
                cohort_id INTEGER NOT NULL,
                traces INTEGER NOT NULL,
                rated INTEGER NOT NULL,
                up INTEGER NOT NULL,
                escalated INTEGER NOT NULL,
                escalation_known INTEGER NOT NULL,
                PRIMARY KEY (day, intent_id, cohort_id)
            ) WITHOUT ROWID;
            INSERT INTO traffic_days (day, intent_id, cohort_id, traces, rated, up, escalated, escalation_known)
            SELECT ts - (((ts % 86400000) + 86400000) % 86400000), intent_id, cohort_id,
                count(*), count(thumbs), coalesce(sum(thumbs > 0), 0), coalesce(sum(escalated <> 0), 0), count(escalated)
            FROM traces GROUP BY 1, 2, 3;
            """),
        (10, "key hashes of pruned traces, by the row they had: a pruned trace sent again is not stored again, and no row id is given twice", """
            CREATE TABLE pruned_keys (trace_row INTEGER PRIMARY KEY, key_hash INTEGER NOT NULL);
            """),
    ];

    public static int Latest => All[^1].Version;
}
