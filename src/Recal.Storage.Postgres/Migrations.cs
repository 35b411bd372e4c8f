namespace Recal.Storage.Postgres;

/// <summary>
/// The store's schema in PostgreSQL, as an ordered list of migrations applied in the store's schema
/// (<see cref="PostgresStore.Schema"/>). A migration is never edited once released: changes are new entries. Each runs
/// in its own transaction with its version row, under an advisory lock, so two processes opening a new store take turns.
/// Migration 1 is the whole schema of SQLite's migrations 1–8 at once, in PostgreSQL's own types; migration 2 is SQLite's 9;
/// migration 4 partitions the traces by month (docs/store.md#partitions), which SQLite has no need of, and migration 5
/// indexes each intent's traces by priority for samples chosen in the database (docs/store.md#samples-chosen-in-the-store);
/// migration 6 moves the keys to one table, so a key is looked up once however many partitions there are. Migration 3 is
/// the queue of distributed runs (docs/running.md#distributed-runs). Migration 8 drops the foreign key of a trace's ingest,
/// whose check was a query per row of every COPY (docs/store.md#postgresql). Migration 9 keeps each trace's text hash,
/// computed by the database from the stored text, in the (intent, priority) index (docs/store.md#samples-chosen-in-the-store).
/// </summary>
internal static class Migrations
{
    public static IReadOnlyList<(int Version, string Description, string Sql)> All { get; } =
    [
        (1, "traces and their change count, pending parts, ingest log, blobs, response cache, runs and their case results, embeddings", """
            CREATE TABLE ingests (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                source text NOT NULL,
                started timestamptz NOT NULL,
                finished timestamptz,
                lines bigint NOT NULL DEFAULT 0,
                added bigint NOT NULL DEFAULT 0,
                duplicates bigint NOT NULL DEFAULT 0,
                quarantined bigint NOT NULL DEFAULT 0
            );
            CREATE TABLE traces (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                key text COLLATE "C" NOT NULL,
                ts timestamptz NOT NULL,
                input_text text NOT NULL,
                input_json text,
                output text,
                model text,
                metadata_json text,
                thumbs integer,
                csat double precision,
                escalated boolean,
                continued boolean,
                completed boolean,
                follow_up boolean,
                label text,
                intent text NOT NULL,
                intent_source smallint NOT NULL,
                confidence double precision NOT NULL,
                cohort text NOT NULL,
                ingest_id bigint REFERENCES ingests (id),
                sample_priority bigint NOT NULL,
                CONSTRAINT traces_key UNIQUE (key)
            );
            CREATE INDEX traces_by_time ON traces (ts) INCLUDE (intent, cohort, thumbs, escalated, sample_priority);
            CREATE TABLE trace_changes (
                id smallint PRIMARY KEY CHECK (id = 1),
                version bigint NOT NULL
            );
            INSERT INTO trace_changes (id, version) VALUES (1, 0);
            CREATE TABLE pending_parts (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                key text COLLATE "C" NOT NULL,
                metadata_json text,
                model text
            );
            CREATE INDEX pending_parts_by_key ON pending_parts (key);
            CREATE TABLE blobs (
                key text PRIMARY KEY,
                value bytea NOT NULL,
                updated timestamptz NOT NULL
            );
            CREATE TABLE response_cache (
                key text PRIMARY KEY,
                response bytea NOT NULL,
                created timestamptz NOT NULL,
                expires timestamptz
            );
            CREATE TABLE runs (
                id text COLLATE "C" PRIMARY KEY,
                project text NOT NULL,
                target text NOT NULL,
                target_json text NOT NULL,
                suite_version text NOT NULL,
                pools text[] NOT NULL,
                total integer NOT NULL,
                judges text,
                started timestamptz NOT NULL,
                finished timestamptz,
                status text NOT NULL,
                lease_owner text,
                lease_until timestamptz
            );
            CREATE INDEX runs_by_start ON runs (started DESC, id DESC);
            CREATE TABLE run_cases (
                run_id text COLLATE "C" NOT NULL REFERENCES runs (id),
                case_id text COLLATE "C" NOT NULL,
                intent text NOT NULL,
                cohort text NOT NULL,
                difficulty text,
                pool text NOT NULL,
                output text,
                error text,
                passed boolean NOT NULL,
                scores_json text NOT NULL,
                judge_json text,
                latency_ms double precision,
                input_tokens bigint,
                output_tokens bigint,
                cost double precision,
                attempts integer NOT NULL,
                from_cache boolean NOT NULL,
                finished timestamptz NOT NULL,
                PRIMARY KEY (run_id, case_id)
            );
            CREATE INDEX run_cases_by_pool ON run_cases (pool);
            CREATE TABLE embeddings (
                embedder text NOT NULL,
                text_hash uuid NOT NULL,
                vector real[] NOT NULL,
                PRIMARY KEY (embedder, text_hash)
            );
            """),
        (2, "daily rollup of the traffic: traces, thumbs and escalations per UTC day, intent and cohort, kept by every write", """
            CREATE TABLE traffic_days (
                day timestamptz NOT NULL,
                intent text COLLATE "C" NOT NULL,
                cohort text COLLATE "C" NOT NULL,
                traces bigint NOT NULL,
                rated bigint NOT NULL,
                up bigint NOT NULL,
                escalated bigint NOT NULL,
                escalation_known bigint NOT NULL,
                PRIMARY KEY (day, intent, cohort)
            );
            INSERT INTO traffic_days (day, intent, cohort, traces, rated, up, escalated, escalation_known)
            SELECT date_trunc('day', ts, 'UTC'), intent, cohort,
                count(*), count(thumbs), count(*) FILTER (WHERE thumbs > 0), count(*) FILTER (WHERE escalated), count(escalated)
            FROM traces GROUP BY 1, 2, 3;
            """),
        (3, "the queue of distributed runs: queued cases and their leases, each run's settings and open count, workers and their heartbeats, shared call slots", """
            CREATE TABLE run_queue_runs (
                run_id text COLLATE "C" PRIMARY KEY REFERENCES runs (id),
                settings_json text NOT NULL,
                max_error_share double precision NOT NULL,
                remaining integer NOT NULL
            );
            CREATE TABLE run_queue (
                run_id text COLLATE "C" NOT NULL REFERENCES runs (id),
                case_id text COLLATE "C" NOT NULL,
                state smallint NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
                worker text,
                lease_until timestamptz,
                claims integer NOT NULL DEFAULT 0,
                PRIMARY KEY (run_id, case_id)
            );
            CREATE INDEX run_queue_open ON run_queue (run_id, case_id) WHERE state < 2;
            CREATE INDEX run_queue_leased ON run_queue (worker) WHERE state = 1;
            CREATE TABLE run_workers (
                worker text PRIMARY KEY,
                concurrency integer NOT NULL,
                lease_ms bigint NOT NULL,
                started timestamptz NOT NULL,
                heartbeat timestamptz NOT NULL,
                stopped timestamptz
            );
            CREATE TABLE run_worker_totals (
                run_id text COLLATE "C" NOT NULL REFERENCES runs (id),
                worker text NOT NULL,
                done integer NOT NULL,
                calls integer NOT NULL,
                cache_hits integer NOT NULL,
                errors integer NOT NULL,
                discarded integer NOT NULL,
                PRIMARY KEY (run_id, worker)
            );
            CREATE TABLE call_slots (
                key text PRIMARY KEY,
                next_slot timestamptz NOT NULL
            );
            """),
        (4, "traces partitioned by UTC month (declarative range partitions on ts), the stored ones moved over with their ids", """
            SET LOCAL TimeZone = 'UTC';
            ALTER TABLE traces RENAME TO traces_unpartitioned;
            ALTER TABLE traces_unpartitioned RENAME CONSTRAINT traces_key TO traces_unpartitioned_key;
            ALTER TABLE traces_unpartitioned RENAME CONSTRAINT traces_pkey TO traces_unpartitioned_pkey;
            ALTER INDEX traces_by_time RENAME TO traces_unpartitioned_by_time;
            CREATE TABLE traces (
                id bigint GENERATED BY DEFAULT AS IDENTITY,
                key text COLLATE "C" NOT NULL,
                ts timestamptz NOT NULL,
                input_text text NOT NULL,
                input_json text,
                output text,
                model text,
                metadata_json text,
                thumbs integer,
                csat double precision,
                escalated boolean,
                continued boolean,
                completed boolean,
                follow_up boolean,
                label text,
                intent text NOT NULL,
                intent_source smallint NOT NULL,
                confidence double precision NOT NULL,
                cohort text NOT NULL,
                ingest_id bigint REFERENCES ingests (id),
                sample_priority bigint NOT NULL,
                PRIMARY KEY (id, ts)
            ) PARTITION BY RANGE (ts);
            CREATE INDEX traces_by_key ON traces (key);
            CREATE INDEX traces_by_time ON traces (ts) INCLUDE (intent, cohort, thumbs, escalated, sample_priority);
            DO $$
            DECLARE
                month timestamptz;
            BEGIN
                FOR month IN SELECT DISTINCT date_trunc('month', ts) FROM traces_unpartitioned LOOP
                    EXECUTE format('CREATE TABLE %I PARTITION OF traces FOR VALUES FROM (%L) TO (%L)',
                        'traces_' || to_char(month, 'YYYY_MM'), month, month + interval '1 month');
                END LOOP;
            END
            $$;
            INSERT INTO traces SELECT * FROM traces_unpartitioned;
            SELECT setval(pg_get_serial_sequence('traces', 'id'), (SELECT max(id) FROM traces)) WHERE EXISTS (SELECT 1 FROM traces);
            DROP TABLE traces_unpartitioned;
            """),
        (5, "index of each intent's traces by sampling priority: samples chosen in the database", """
            CREATE INDEX traces_by_intent_priority ON traces (intent, (sample_priority # x'8000000000000000'::bigint), id) INCLUDE (cohort, ts, sample_priority);
            """),
        (6, "trace keys in one table beside the partitions: unique by its primary key, each with its trace's id and time", """
            CREATE TABLE trace_keys (
                key text COLLATE "C" PRIMARY KEY,
                id bigint NOT NULL,
                ts timestamptz NOT NULL
            );
            INSERT INTO trace_keys (key, id, ts) SELECT key, id, ts FROM traces;
            DROP INDEX traces_by_key;
            """),
        (7, "distributed runs: each run's cap on cases in flight across its workers, and each worker's call retries", """
            ALTER TABLE run_queue_runs ADD COLUMN max_in_flight integer CHECK (max_in_flight > 0);
            ALTER TABLE run_worker_totals ADD COLUMN retries integer NOT NULL DEFAULT 0;
            """),
        (8, "traces without the foreign key on their ingest: a trigger query per row written, the ingest log checked by recal store check instead", """
            DO $$
            DECLARE
                name text;
            BEGIN
                FOR name IN SELECT conname FROM pg_constraint WHERE conrelid = 'traces'::regclass AND contype = 'f' AND confrelid = 'ingests'::regclass LOOP
                    EXECUTE format('ALTER TABLE traces DROP CONSTRAINT %I', name);
                END LOOP;
            END
            $$;
            """),
        (9, "each trace's text hash (the embedding cache's key) kept beside it and in the (intent, priority) index: a sample's vectors found without reading its texts", """
            CREATE FUNCTION text_hash(text) RETURNS uuid LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS 'SELECT encode(substring(sha256(convert_to($1, ''UTF8'')) FROM 1 FOR 16), ''hex'')::uuid';
            ALTER TABLE traces ADD COLUMN text_hash uuid GENERATED ALWAYS AS (text_hash(input_text)) STORED;
            DROP INDEX traces_by_intent_priority;
            CREATE INDEX traces_by_intent_priority ON traces (intent, (sample_priority # x'8000000000000000'::bigint), id) INCLUDE (cohort, ts, sample_priority, text_hash);
            """),
    ];

    public static int Latest => All[^1].Version;
}
