using FluentAssertions;
using Npgsql;
using Recal.Domain;
using Recal.Embeddings;
using Recal.Ingest;
using Xunit;

namespace Recal.Storage.Postgres.Tests;

/// <summary>What the contract leaves to each store: migrations and their refusal, read-only opening, whole batches, existence.</summary>
public sealed class PostgresStoreTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ClassifiedTrace Trace(string id, string text = "x") =>
        new(new Trace(id, Monday, TraceInput.FromText(text), null, null, new Dictionary<string, string>(), Feedback.None, null), TraceKeys.IdPrefix + id, "balance", IntentSource.Classifier, 0.75, "plan=free");

    private async Task<(string ConnectionString, Testing.ThrowawayDatabase Database)> EmptyAsync()
    {
        var database = await fixture.EmptyAsync(Token);
        return (database.ConnectionString, database);
    }

    [Fact]
    public async Task A_new_database_is_migrated_to_the_latest_version_once_even_by_two_processes_at_once()
    {
        var (connection, database) = await EmptyAsync();
        (await PostgresStore.ExistsAsync(connection, "test", Token)).Should().BeFalse();

        var stores = await Task.WhenAll(PostgresStore.OpenAsync(connection, "test", Token), PostgresStore.OpenAsync(connection, "test", Token));

        stores.Should().OnlyContain(s => s.SchemaVersion == Migrations.Latest);
        (await PostgresStore.ExistsAsync(connection, "test", Token)).Should().BeTrue();
        await using (var data = NpgsqlDataSource.Create(connection))
        {
            (await data.CreateCommand("SELECT count(*) FROM schema_version").ExecuteScalarAsync(Token)).Should().Be((long)Migrations.All.Count);
        }

        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }
    }

    [Fact]
    public async Task The_lowest_heads_carry_the_hash_of_each_stored_text_the_embedding_cache_is_keyed_by()
    {
        // Given traces whose texts are accented, astral, empty, long, or hold U+0000 (stored as U+FFFD)
        var (connection, _) = await EmptyAsync();
        await using var store = await PostgresStore.OpenAsync(connection, "test", Token);
        string[] texts = ["café ☕ 𝄞", "plain", string.Empty, new string('ü', 5_000), "a\0b"];
        await store.AddTracesAsync([.. texts.Select((text, i) => Trace($"h{i}", text))], Token);

        // When the lowest heads are read
        var heads = new List<TraceHead>();
        await store.ScanLowestHeadsAsync(Monday.AddDays(-1), Monday.AddDays(1), new Dictionary<string, int> { ["balance"] = 10 }, heads.Add, Token);

        // Then each carries the hash of its text as stored, which is what the embedding cache is keyed by
        var stored = await store.GetHeadTextsAsync(heads, Token);
        heads.Should().HaveCount(texts.Length);
        heads.Should().AllSatisfy(h => h.TextHash.Should().Be(TextHash.Of(stored[h.Position].Text)));
        heads.Select(h => h.TextHash).Should().Contain(TextHash.Of("a\uFFFDb")).And.Contain(TextHash.Of(texts[0])).And.Contain(TextHash.Of(string.Empty));
    }

    [Fact]
    public async Task A_version_1_store_is_partitioned_by_month_and_gains_the_daily_rollup_keeping_its_traces_and_ids()
    {
        // Given a store at schema version 1 (migration 1 alone) holding rated and escalated traces in two months
        var (connection, database) = await EmptyAsync();
        var schema = PostgresStore.Schema;
        await database.ExecuteAsync(
            $"""
            CREATE SCHEMA {schema}; SET search_path TO {schema};
            {Migrations.All[0].Sql}
            CREATE TABLE schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO schema_version (version, description) VALUES (1, 'first');
            INSERT INTO traces (key, ts, input_text, intent, intent_source, confidence, cohort, sample_priority, thumbs, escalated) VALUES
                ('id:a', '{Monday.AddHours(1):O}', 'x', 'balance', 0, 0.75, 'plan=free', 11, 1, false),
                ('id:b', '{Monday.AddHours(2):O}', 'x', 'balance', 0, 0.75, 'plan=free', 12, -1, true),
                ('id:c', '{Monday.AddDays(-1):O}', 'x', 'card', 0, 0.75, 'plan=free', 13, NULL, NULL);
            """,
            Token);

        // When it is opened
        await using var migrated = await PostgresStore.OpenAsync(connection, "test", Token);

        // Then the traces are in one partition per month with their ids, the rollup counts them, whole days come from it,
        // and a later trace in a new month gets its partition and the next id
        migrated.SchemaVersion.Should().Be(Migrations.Latest);
        (await database.ScalarAsync($"SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '{schema}.traces'::regclass", Token))
            .Should().Be("traces_2026_05,traces_2026_06");
        (await database.ScalarAsync($"SELECT string_agg(key || '=' || id, ',' ORDER BY id) FROM {schema}.traces", Token)).Should().Be("id:a=1,id:b=2,id:c=3");
        (await migrated.CountFeedbackAsync(Monday.AddDays(-1), Monday.AddDays(2), Token)).Should().Be(new FeedbackCount(3, 2, 1, 1) { EscalationKnown = 2 });
        await database.ExecuteAsync($"UPDATE {schema}.traffic_days SET traces = traces + 10 WHERE day = '{Monday:O}'", Token);
        (await migrated.CountFeedbackAsync(Monday, Monday.AddDays(2), Token)).Traces.Should().Be(12, "a whole day is read from the rollup");
        (await migrated.CountFeedbackAsync(Monday, Monday.AddHours(3), Token)).Traces.Should().Be(2, "part of a day up to half of it is read from the traces");
        (await migrated.CountFeedbackAsync(Monday.AddMinutes(90), Monday.AddDays(2), Token)).Traces.Should().Be(11, "a longer part is the day from the rollup less the rest of it from the traces");
        (await database.ScalarAsync($"SELECT string_agg(key || '=' || id, ',' ORDER BY id) FROM {schema}.trace_keys", Token)).Should().Be("id:a=1,id:b=2,id:c=3");
        await migrated.AddTracesAsync([Trace("d") with { Trace = Trace("d").Trace with { Timestamp = Monday.AddMonths(2) } }], Token);
        (await database.ScalarAsync($"SELECT id FROM {schema}.traces_2026_08 WHERE key = 'id:d'", Token)).Should().Be(4L);
        (await database.ScalarAsync($"SELECT count(*) FROM pg_constraint WHERE conrelid = '{schema}.traces'::regclass AND contype = 'f'", Token))
            .Should().Be(0L, "migration 8 drops the foreign key on the ingest, checked by the integrity check instead");
        (await migrated.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_batch_probes_the_key_index_for_its_keys_on_a_store_not_analyzed_yet_and_ids_follow_on_across_batches()
    {
        // Given a store of 60,000 keys whose statistics were never gathered (a new store in its first minute of ingest)
        var (connection, database) = await EmptyAsync();
        await using var store = await PostgresStore.OpenAsync(connection, "test", Token);
        await database.ExecuteAsync(
            """
            ALTER TABLE recal.trace_keys SET (autovacuum_enabled = false);
            INSERT INTO recal.trace_keys (key, id, ts) SELECT 'id:stored-' || g, 1000000 + g, '2026-06-01' FROM generate_series(1, 60000) AS g;
            """,
            Token);
        var keys = string.Join(",", Enumerable.Range(0, 1024).Select(i => $"id:new-{i}"));

        // When the lookup of a batch of 1,024 keys is planned
        var plan = new List<string>();
        await using (var data = NpgsqlDataSource.Create(connection))
        await using (var explain = data.CreateCommand($"EXPLAIN SELECT k.key FROM {PostgresStore.StoredKeysOfArray.Replace("$1", $"'{{{keys}}}'", StringComparison.Ordinal)}"))
        await using (var reader = await explain.ExecuteReaderAsync(Token))
        {
            while (await reader.ReadAsync(Token))
            {
                plan.Add(reader.GetString(0));
            }
        }

        // Then it probes the primary key once per key, and batches written one after another take ids in order
        plan.Should().Contain(line => line.Contains("Index", StringComparison.Ordinal) && line.Contains("trace_keys_pkey", StringComparison.Ordinal), string.Join("\n", plan));
        plan.Should().NotContain(line => line.Contains("Seq Scan on trace_keys", StringComparison.Ordinal), string.Join("\n", plan));
        (await store.AddTracesAsync([Trace("a"), Trace("b"), Trace("c")], Token)).Added.Should().Be(3);
        (await store.AddTracesAsync([Trace("a"), Trace("d")], Token)).Should().Be(new StoreBatchResult(1, 1));
        (await database.ScalarAsync("SELECT string_agg(key || '=' || id, ',' ORDER BY id) FROM recal.traces", Token)).Should().Be("id:a=1,id:b=2,id:c=3,id:d=4");
    }

    [Fact]
    public async Task A_prune_drops_whole_months_deletes_the_boundary_months_older_rows_and_another_writer_still_stores_into_a_dropped_month()
    {
        // Given two writers on one database and traces in May, June and July, the first writer having written to May
        var (connection, database) = await EmptyAsync();
        await using var writer = await PostgresStore.OpenAsync(connection, "test", Token);
        await using var pruner = await PostgresStore.OpenAsync(connection, "test", Token);
        ClassifiedTrace At(string id, DateTimeOffset time) => Trace(id) with { Trace = Trace(id).Trace with { Timestamp = time } };
        await writer.AddTracesAsync([At("may", Monday.AddDays(-10)), At("june-1", Monday.AddDays(2)), At("june-2", Monday.AddDays(20)), At("july", Monday.AddMonths(1))], Token);

        // When the other prunes before 10 June, and the first then stores a new trace of May and merges into June's
        var plan = await pruner.PlanPruneAsync(Monday.AddDays(9), Token);
        var pruned = await pruner.PruneTracesAsync(Monday.AddDays(9), cancellationToken: Token);
        var late = await writer.AddTracesAsync([At("may-late", Monday.AddDays(-5))], Token);
        var merged = await writer.MergeTracesAsync([new TraceUpdate("id:june-2", null, new Feedback(Thumbs: 1)), new TraceUpdate("id:june-1", null, new Feedback(Thumbs: 1))], (stored, update) => stored with { Trace = stored.Trace with { Feedback = update.Feedback } }, null, Token);

        // Then May's partition went whole and June's older row alone, measured in bytes; May is made again for the new trace
        plan.DroppedPartitions.Should().Equal("traces_2026_05");
        plan.Bytes.Should().BePositive();
        (pruned.Traces, pruned.DroppedPartitions.Count, pruned.Bytes).Should().Be((2L, 1, plan.Bytes));
        late.Added.Should().Be(1);
        (merged.Merged, merged.Unchanged).Should().Be((1, 1));
        var keys = new List<string>();
        await writer.ScanTracesAsync(null, null, t => keys.Add(t.Key), Token);
        keys.Should().Equal("id:may-late", "id:june-2", "id:july");
        (await database.ScalarAsync("SELECT count(*) FROM recal.trace_keys", Token)).Should().Be(5L);
        (await writer.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_merge_that_moves_a_trace_to_another_month_moves_its_row_and_its_key_and_a_later_part_still_finds_it()
    {
        // Given a stored trace in June
        var (connection, _) = await EmptyAsync();
        await using var store = await PostgresStore.OpenAsync(connection, "test", Token);
        await store.AddTracesAsync([Trace("m")], Token);

        // When a part moves it to August, and a later part brings feedback
        var moved = await store.MergeTracesAsync([new TraceUpdate("id:m", null, Feedback.None)], (stored, _) => stored with { Trace = stored.Trace with { Timestamp = Monday.AddMonths(2) } }, null, Token);
        var rated = await store.MergeTracesAsync([new TraceUpdate("id:m", null, new Feedback(Thumbs: 1))], (stored, update) => stored with { Trace = stored.Trace with { Feedback = update.Feedback } }, null, Token);

        // Then it is one trace, in August, with the feedback; counted in August's day; and the store is sound
        moved.Merged.Should().Be(1);
        rated.Merged.Should().Be(1);
        var traces = new List<ClassifiedTrace>();
        await store.ScanTracesAsync(null, null, traces.Add, Token);
        traces.Should().ContainSingle().Which.Trace.Should().Match<Trace>(t => t.Timestamp == Monday.AddMonths(2) && t.Feedback.Thumbs == 1);
        (await store.CountFeedbackAsync(Monday, Monday.AddMonths(3), Token)).Should().Be(new FeedbackCount(1, 1, 1, 0));
        (await store.CountTrafficAsync(new TrafficQuery(Period: Period.Month), Token)).Should().Equal(new TrafficCount(Monday.AddMonths(2), "balance", "plan=free", 1));
        (await store.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_store_written_by_a_newer_recal_is_refused_with_its_version_and_what_to_do()
    {
        // Given a store whose version table says a later Recal migrated it
        var (connection, database) = await EmptyAsync();
        await (await PostgresStore.OpenAsync(connection, "test", Token)).DisposeAsync();
        await database.ExecuteAsync($"INSERT INTO {PostgresStore.Schema}.schema_version (version, description) VALUES (99, 'from the future')", Token);

        // When it is opened, for writing and for reading
        var write = () => PostgresStore.OpenAsync(connection, "postgres://recal@db/evals", Token);
        var read = () => PostgresStore.OpenReadOnlyAsync(connection, "postgres://recal@db/evals", Token);

        // Then both are refused with RC3003, naming the store, and the tables are left as they were
        foreach (var open in new[] { write, read })
        {
            var refused = (await open.Should().ThrowAsync<StoreVersionException>()).WithMessage($"*schema version 99*this version knows up to {Migrations.Latest}*").Which;
            refused.Code.Should().Be(StoreException.SchemaMismatch);
            refused.Path.Should().Be("postgres://recal@db/evals");
            refused.Hint.Should().Contain("upgrade Recal");
        }
    }

    [Fact]
    public async Task Tables_made_outside_recal_without_a_migration_log_are_a_schema_mismatch()
    {
        var (connection, database) = await EmptyAsync();
        await database.ExecuteAsync($"CREATE SCHEMA {PostgresStore.Schema}; CREATE TABLE {PostgresStore.Schema}.traces (id int)", Token);

        var open = () => PostgresStore.OpenAsync(connection, "test", Token);

        (await open.Should().ThrowAsync<StoreException>()).Which.Should().Match<StoreException>(e => e.Code == StoreException.SchemaMismatch && e.Message.Contains("do not match its migration log"));
    }

    [Fact]
    public async Task A_store_opened_read_only_reads_skips_cache_writes_and_refuses_other_writes()
    {
        // Given a store with one trace, opened read-only
        var (connection, _) = await EmptyAsync();
        await using (var writer = await PostgresStore.OpenAsync(connection, "test", Token))
        {
            await writer.AddTracesAsync([Trace("a")], Token);
        }

        await using var store = await PostgresStore.OpenReadOnlyAsync(connection, "test", Token);

        // When it is read, a cache is filled, and a trace is added
        var span = await store.GetTrafficSpanAsync(Token);
        await store.PutBlobAsync("classifier", [1], Token);
        var add = async () => await store.AddTracesAsync([Trace("b")], Token);

        // Then it reads, the cache stays empty, and the write fails as a read-only store's
        store.IsReadOnly.Should().BeTrue();
        span!.Count.Should().Be(1);
        (await store.GetBlobAsync("classifier", Token)).Should().BeNull();
        var failure = (await add.Should().ThrowAsync<PostgresException>()).Which;
        PostgresStore.Explain(failure, "test")!.Message.Should().StartWith("the store was opened read-only");
    }

    [Fact]
    public async Task A_batch_that_fails_part_way_stores_nothing()
    {
        // Given a store whose keys table refuses the key "id:b" (a failure after the traces' COPY has run)
        var (connection, database) = await EmptyAsync();
        await using var store = await PostgresStore.OpenAsync(connection, "test", Token);
        await database.ExecuteAsync("ALTER TABLE recal.trace_keys ADD CONSTRAINT no_b CHECK (key <> 'id:b')", Token);

        // When a batch holding it is stored
        var act = async () => await store.AddTracesAsync([Trace("a"), Trace("b")], Token);

        // Then it fails as a whole, and a later batch is stored as if it had never been tried
        (await act.Should().ThrowAsync<PostgresException>()).Which.ConstraintName.Should().Be("no_b");
        (await store.GetTrafficSpanAsync(Token)).Should().BeNull();
        (await database.ScalarAsync("SELECT (SELECT count(*) FROM recal.traces) + (SELECT count(*) FROM recal.traffic_days)", Token)).Should().Be(0L);
        (await store.AddTracesAsync([Trace("a")], Token)).Should().Be(new StoreBatchResult(1, 0));
    }

    [Fact]
    public async Task A_nul_character_which_postgresql_text_cannot_hold_is_stored_as_a_replacement_character()
    {
        var (connection, _) = await EmptyAsync();
        await using var store = await PostgresStore.OpenAsync(connection, "test", Token);

        // Given traces with U+0000 in their text and in their id
        var first = await store.AddTracesAsync([Trace("a", "before\0after"), Trace("b\0c") with { Trace = Trace("b\0c").Trace with { Output = "out" } }], Token);

        // When they are stored again, read, and the second's output asked for by its id
        var again = await store.AddTracesAsync([Trace("a"), Trace("b\0c")], Token);
        var read = new List<ClassifiedTrace>();
        await store.ScanTracesAsync(null, null, read.Add, Token);
        var outputs = await store.GetTraceOutputsAsync(["b\0c"], Token);

        // Then both were stored once, with U+FFFD for U+0000, and the output is found by the id as given
        (first, again).Should().Be((new StoreBatchResult(2, 0), new StoreBatchResult(0, 2)));
        read.Select(t => (t.Key, t.Trace.Input.Text)).Should().BeEquivalentTo([("id:a", "before\uFFFDafter"), ("id:b\uFFFDc", "x")]);
        outputs.Should().Equal(new Dictionary<string, string> { ["b\0c"] = "out" });
    }

    [Fact]
    public async Task The_provider_opens_a_store_url_with_its_password_from_the_named_variable()
    {
        // Given the test server as a store URL whose password (if the server wants one) is in a variable
        var (_, database) = await EmptyAsync();
        var environment = new Dictionary<string, string?> { ["RECAL_PG_PASSWORD"] = database.Password };
        var provider = new PostgresStoreProvider(environment.GetValueOrDefault);
        var location = StoreLocation.Parse($"postgres://{database.Username}@{database.Host}:{database.Port}/{database.Name}?password_env=RECAL_PG_PASSWORD", "/project");
        environment["RECAL_PG_PASSWORD"] ??= "unused-by-a-trust-server";

        // When it is checked for a store, opened for writing, then for reading
        var before = await provider.ExistsAsync(location, Token);
        await using (var store = await provider.OpenAsync(location, cancellationToken: Token))
        {
            await store.AddTracesAsync([Trace("a")], Token);
        }

        await using var read = await provider.OpenReadOnlyAsync(location, cancellationToken: Token);
        var elsewhere = StoreLocation.Parse($"postgres://{database.Username}@{database.Host}:{database.Port}/{database.Name}_absent?password_env=RECAL_PG_PASSWORD", "/project");
        var absent = async () => await provider.ExistsAsync(elsewhere, Token);

        // Then there was none, and there is one with the trace; a database that does not exist is an error saying how to make it
        before.Should().BeFalse();
        var missing = (await absent.Should().ThrowAsync<StoreException>()).Which;
        missing.Code.Should().Be(StoreException.CannotOpen);
        missing.Message.Should().StartWith("the database does not exist");
        missing.Hint.Should().Contain($"createdb -h {database.Host} -p {database.Port} -U {database.Username} {database.Name}_absent");
        (await provider.ExistsAsync(location, Token)).Should().BeTrue();
        (await read.GetTrafficSpanAsync(Token))!.Count.Should().Be(1);
        (await read.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_role_that_may_only_read_reads_the_store_fills_no_cache_and_is_told_why_a_write_fails()
    {
        // Given a store, and a role granted SELECT on its tables and nothing more
        var (connection, database) = await EmptyAsync();
        await using (var writer = await PostgresStore.OpenAsync(connection, "test", Token))
        {
            await writer.AddTracesAsync([Trace("a")], Token);
        }

        var role = "recal_reader_" + Guid.NewGuid().ToString("N")[..8];
        await database.ExecuteAsync($"""
            CREATE ROLE {role} LOGIN PASSWORD 'reader';
            GRANT USAGE ON SCHEMA {PostgresStore.Schema} TO {role};
            GRANT SELECT ON ALL TABLES IN SCHEMA {PostgresStore.Schema} TO {role};
            """, Token);
        try
        {
            var asReader = new NpgsqlConnectionStringBuilder(connection) { Username = role, Password = "reader" }.ConnectionString;

            // When a command that caches opens it, and a command that writes opens it and adds a trace
            await using var caching = await PostgresStore.OpenForCachingAsync(asReader, "test", Token);
            await caching.PutBlobAsync("classifier", [1], Token);
            await using var writing = await PostgresStore.OpenAsync(asReader, "test", Token);
            var add = async () => await writing.AddTracesAsync([Trace("b")], Token);

            // Then the first reads with its caches skipped, and the write fails with what to grant
            caching.IsReadOnly.Should().BeTrue();
            (await caching.GetTrafficSpanAsync(Token))!.Count.Should().Be(1);
            (await caching.GetBlobAsync("classifier", Token)).Should().BeNull();
            var failure = (await add.Should().ThrowAsync<PostgresException>()).Which;
            var explained = PostgresStore.Explain(failure, "test")!;
            explained.Code.Should().Be(StoreException.WriteFailed);
            explained.Hint.Should().Contain("grant");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await database.ExecuteAsync($"DROP OWNED BY {role}; DROP ROLE {role}", Token);
        }
    }

    [Fact]
    public async Task The_anchored_span_is_read_again_after_a_write_through_another_store_and_kept_otherwise()
    {
        // Given two stores on one database (two processes), and the span read through the first
        var (connection, database) = await EmptyAsync();
        await using var first = await PostgresStore.OpenAsync(connection, "test", Token);
        await using var second = await PostgresStore.OpenAsync(connection, "test", Token);
        await first.AddTracesAsync([Trace("a")], Token);
        var before = await first.GetTrafficSpanAsync(Token);

        // When the second stores a later trace and merges a part into the first trace, and a row is changed behind both
        await second.AddTracesAsync([Trace("b") with { Trace = Trace("b").Trace with { Timestamp = Monday.AddDays(1) } }], Token);
        var afterAdd = await first.GetTrafficSpanAsync(Token);
        await second.MergeTracesAsync([new TraceUpdate("id:a", null, Feedback.None)], (stored, _) => stored with { Trace = stored.Trace with { Timestamp = Monday.AddHours(-1) } }, null, Token);
        var afterMerge = await first.GetTrafficSpanAsync(Token);
        await database.ExecuteAsync($"DELETE FROM {PostgresStore.Schema}.traces", Token);
        var cached = await first.GetTrafficSpanAsync(Token);

        // Then each write by a store is seen, and without one the span is not computed again
        before.Should().Be(new TrafficSpan(Monday, Monday, 1));
        afterAdd.Should().Be(new TrafficSpan(Monday, Monday.AddDays(1), 2));
        afterMerge.Should().Be(new TrafficSpan(Monday.AddHours(-1), Monday.AddDays(1), 2));
        cached.Should().Be(afterMerge, "a change made outside Recal is not counted");
    }

    [Fact]
    public async Task Many_heads_are_read_in_several_queries_side_by_side_and_each_gets_its_own_text_once()
    {
        // Given traces over two months, the first holding more than one head-text query reads
        var (connection, _) = await EmptyAsync();
        await using var store = await PostgresStore.OpenAsync(connection, "test", Token);
        var count = (2 * PostgresStore.HeadTextsPerQuery) + 777;
        var traces = Enumerable.Range(0, count).Select(i => Trace($"t{i}", $"text {i}") is var t ? t with { Trace = t.Trace with { Timestamp = Monday.AddMinutes(i * 1.5) } } : t).ToList();
        await store.AddTracesAsync(traces, Token);
        var heads = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(null, null, withKeys: true, heads.Add, Token);

        // When every head is asked for (in reverse, some twice)
        var texts = await store.GetHeadTextsAsync([.. Enumerable.Reverse(heads), .. heads.Take(100)], Token);

        // Then each position has its own trace's key and text
        texts.Should().HaveCount(count);
        heads.Should().OnlyContain(h => texts[h.Position].Key == h.Key && texts[h.Position].Text == "text " + h.Key!.Substring(TraceKeys.IdPrefix.Length + 1));
    }

    [Fact]
    public async Task Cached_vectors_come_back_bit_for_bit_through_their_binary_form()
    {
        // Given vectors with the edge values of a real: signed zeros, the smallest subnormal, the largest, infinities, NaN
        var (connection, _) = await EmptyAsync();
        await using var store = await PostgresStore.OpenAsync(connection, "test", Token);
        float[] odd = [0f, -0f, float.Epsilon, -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 1e-40f, 0.1f, -3.25f];
        var vectors = new Dictionary<UInt128, float[]> { [1] = odd, [2] = [.. Enumerable.Range(0, 384).Select(i => MathF.Sin(i) / (i + 1))], [3] = [] };
        await store.PutEmbeddingsAsync("e", [.. vectors], Token);

        // When they are read back with a hash that is not cached
        var read = await store.GetEmbeddingsAsync("e", [1, 2, 3, 4], Token);

        // Then every bit of every element is as written, and the unknown hash is absent
        read.Keys.Should().BeEquivalentTo(new UInt128[] { 1, 2, 3 });
        foreach (var (hash, vector) in vectors)
        {
            read[hash].Select(BitConverter.SingleToInt32Bits).Should().Equal(vector.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Theory]
    [InlineData("array_send(ARRAY[[1, 2], [3, 4]]::real[])", "2 dimensions")]
    [InlineData("array_send(ARRAY[1, 2]::integer[])", "of type 23")]
    [InlineData("array_send(ARRAY[1, NULL, 3]::real[])", "an element is null")]
    [InlineData("substring(array_send(ARRAY[1, 2]::real[]) FROM 1 FOR 24)", "do not hold 2 reals")]
    [InlineData("substring(array_send(ARRAY[1]::real[]) FROM 1 FOR 8)", "shorter than an array's header")]
    public async Task A_cached_vector_that_is_not_one_dimension_of_reals_is_reported_as_damage_not_read_as_numbers(string sql, string why)
    {
        // Given the binary form of an array the cache never holds
        var (_, database) = await EmptyAsync();
        var bytes = (byte[])(await database.ScalarAsync("SELECT " + sql, Token))!;

        // When it is read as a vector
        var read = () => PostgresStore.FloatsOf(bytes, "postgres://test/db");

        // Then the store says it is damaged, what is wrong and what to do
        read.Should().Throw<StoreException>()
            .Where(e => e.Code == StoreException.Damaged && e.Message.Contains(why) && e.Path == "postgres://test/db" && e.Hint!.Contains("computed again"));
    }
}
