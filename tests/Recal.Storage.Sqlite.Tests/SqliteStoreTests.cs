using FluentAssertions;
using Microsoft.Data.Sqlite;
using Recal.Domain;
using Recal.Ingest;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

public sealed class SqliteStoreTests : IDisposable
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task New_store_is_migrated_to_the_latest_schema_and_reopens_without_change()
    {
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken))
        {
            store.SchemaVersion.Should().Be(Migrations.Latest);
        }

        await using var reopened = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        reopened.SchemaVersion.Should().Be(Migrations.Latest);
        Scalar("SELECT COUNT(*) FROM schema_migrations").Should().Be(Migrations.All.Count);
        Scalar("PRAGMA journal_mode").Should().Be("wal");
    }

    [Fact]
    public async Task Store_written_by_a_newer_version_is_refused_with_what_to_do()
    {
        await (await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken)).DisposeAsync();
        Scalar("INSERT INTO schema_migrations VALUES (99, 'future', 'x') RETURNING version");

        var act = () => SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var refused = (await act.Should().ThrowAsync<StoreVersionException>()).WithMessage("*schema version 99*").Which;
        refused.Code.Should().Be("RC3003");
        refused.Hint.Should().Contain("upgrade Recal");
    }

    [Fact]
    public async Task Adding_the_same_trace_twice_keeps_one()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var trace = Classified("t-1", Monday, "balance");

        var first = await store.AddTracesAsync([trace, trace], TestContext.Current.CancellationToken);
        var second = await store.AddTracesAsync([trace], TestContext.Current.CancellationToken);

        first.Should().Be(new StoreBatchResult(1, 1));
        second.Should().Be(new StoreBatchResult(0, 1));
        (await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count.Should().Be(1);
    }

    [Fact]
    public async Task A_prune_by_another_writer_keeps_every_writers_keys_and_no_new_trace_takes_a_pruned_row()
    {
        // Given two writers on one store, the first having read its keys, and the newest traces added by the second
        var token = TestContext.Current.CancellationToken;
        await using var first = await SqliteStore.OpenAsync(_fixture.StorePath, token);
        await using var second = await SqliteStore.OpenAsync(_fixture.StorePath, token);
        await first.AddTracesAsync([Classified("a", Monday, "x"), Classified("b", Monday.AddHours(1), "x")], token);
        await second.AddTracesAsync([Classified("c", Monday.AddHours(2), "x")], token);

        // When the second prunes every trace, the highest row included, and both are sent again with a new one
        (await second.PruneTracesAsync(Monday.AddDays(1), cancellationToken: token)).Traces.Should().Be(3);
        var again = await first.AddTracesAsync([Classified("c", Monday.AddHours(2), "x"), Classified("d", Monday.AddDays(2), "x")], token);
        await using var third = await SqliteStore.OpenAsync(_fixture.StorePath, token);
        var fresh = await third.AddTracesAsync([Classified("a", Monday, "x"), Classified("e", Monday.AddDays(2), "x")], token);

        // Then the pruned keys are known to a writer that never saw their rows and to one opened afterwards,
        // and the new traces take rows after every pruned one
        again.Should().Be(new StoreBatchResult(1, 1));
        fresh.Should().Be(new StoreBatchResult(1, 1));
        (await second.AddTracesAsync([Classified("d", Monday.AddDays(2), "x"), Classified("e", Monday.AddDays(2), "x")], token)).Should().Be(new StoreBatchResult(0, 2));
        Scalar("SELECT group_concat(id) FROM (SELECT id FROM traces ORDER BY id)").Should().Be("4,5");
        Scalar("SELECT COUNT(*) FROM pruned_keys").Should().Be(3L);
        (await third.CheckIntegrityAsync(cancellationToken: token)).Should().BeEmpty();
    }

    [Fact]
    public async Task Two_writers_on_one_store_never_store_a_trace_twice()
    {
        // Given two open stores on the same file, as two ingest processes would have
        await using var first = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await using var second = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await first.AddTracesAsync([Classified("a", Monday, "x")], TestContext.Current.CancellationToken);
        await second.AddTracesAsync([Classified("b", Monday, "x")], TestContext.Current.CancellationToken);

        // When each writes traces the other already stored
        var fromFirst = await first.AddTracesAsync([Classified("b", Monday, "x"), Classified("c", Monday, "x")], TestContext.Current.CancellationToken);
        var fromSecond = await second.AddTracesAsync([Classified("a", Monday, "x"), Classified("c", Monday, "x")], TestContext.Current.CancellationToken);

        // Then each sees the other's rows and nothing is stored twice
        fromFirst.Should().Be(new StoreBatchResult(1, 1));
        fromSecond.Should().Be(new StoreBatchResult(0, 2));
        (await first.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count.Should().Be(3);
    }

    [Fact]
    public async Task Feedback_counts_read_from_the_columns_equal_those_of_a_scan_over_the_whole_traces()
    {
        // Given traces with every kind of feedback: up, down, none; escalated, not, unknown
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var feedbacks = new[] { new Feedback(Thumbs: 1), new Feedback(Thumbs: -1, Escalated: true), Feedback.None, new Feedback(Thumbs: 1, Escalated: false), new Feedback(Escalated: true) };
        await store.AddTracesAsync(
            [.. feedbacks.Select((f, i) => Classified($"f{i}", Monday.AddHours(i), "a") is var c ? c with { Trace = c.Trace with { Feedback = f } } : null!)],
            TestContext.Current.CancellationToken);

        // When the window [1 h, 5 h) is counted by the store and by the interface's scanning default
        var fast = await store.CountFeedbackAsync(Monday.AddHours(1), Monday.AddHours(5), TestContext.Current.CancellationToken);
        var scanned = await ((IRecalStore)new ScanningView(store)).CountFeedbackAsync(Monday.AddHours(1), Monday.AddHours(5), TestContext.Current.CancellationToken);

        // Then both give 4 traces, 2 rated, 1 up, 2 escalated of the 3 that say whether they were
        fast.Should().Be(new FeedbackCount(4, 2, 1, 2) { EscalationKnown = 3 });
        scanned.Should().Be(fast);
    }

    [Fact]
    public async Task Feedback_by_model_counts_continuation_and_completion_as_a_scan_does()
    {
        // Given one release's traces with continuation and completion said, unsaid and mixed, and another release's
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var feedbacks = new[] { new Feedback(Thumbs: 1, Continued: true, Completed: true), new Feedback(Continued: false), Feedback.None, new Feedback(Escalated: true, Completed: false) };
        await store.AddTracesAsync(
            [.. feedbacks.Select((f, i) => Classified($"m{i}", Monday.AddHours(i), "a") is var c ? c with { Trace = c.Trace with { Feedback = f, Model = i < 3 ? "r1" : "r2" } } : null!)],
            TestContext.Current.CancellationToken);

        // When the store counts per model, and the interface's scanning default does
        var fast = (await store.CountFeedbackByModelAsync(["r1", "r2"], TestContext.Current.CancellationToken)).OrderBy(c => c.Model).ToList();
        var scanned = (await ((IRecalStore)new ScanningView(store)).CountFeedbackByModelAsync(["r1", "r2"], TestContext.Current.CancellationToken)).OrderBy(c => c.Model).ToList();

        // Then r1 has 3 traces, 2 saying whether they continued (1 did) and 1 whether it completed (it did), r2 one failed completion
        fast.Select(c => c.Count).Should().Equal(
            new FeedbackCount(3, 1, 1, 0) { ContinuedKnown = 2, Continued = 1, CompletedKnown = 1, Completed = 1 },
            new FeedbackCount(1, 0, 0, 1) { EscalationKnown = 1, CompletedKnown = 1 });
        scanned.Should().Equal(fast);
    }

    [Fact]
    public async Task Weekly_counts_start_on_monday_utc()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await store.AddTracesAsync(
        [
            Classified("sun", new DateTimeOffset(2026, 5, 31, 23, 59, 59, TimeSpan.Zero), "a"),
            Classified("mon", Monday, "a"),
            Classified("sun2", new DateTimeOffset(2026, 6, 7, 23, 59, 59, TimeSpan.Zero), "a"),
            Classified("mon2", new DateTimeOffset(2026, 6, 8, 1, 0, 0, TimeSpan.FromHours(2)), "b"),
        ], TestContext.Current.CancellationToken);

        var counts = await store.CountTrafficAsync(new TrafficQuery(Period: Period.Week), TestContext.Current.CancellationToken);

        counts.Select(c => (c.BucketStart!.Value, c.Intent, c.Count)).Should().Equal(
            (Monday.AddDays(-7), "a", 1L),
            (Monday, "a", 2L),
            (Monday, "b", 1L));
        counts.Select(c => c.BucketStart!.Value).Should().OnlyContain(start => start == PeriodMath.Start(start, Period.Week));
    }

    [Fact]
    public async Task Primed_cells_give_the_stores_own_counts_for_every_window_and_bucket()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var traces = Enumerable.Range(0, 300).Select(i => Classified($"t{i}", Monday.AddHours(-30 + (i * 7.3)), i % 3 == 0 ? "a" : i % 3 == 1 ? "b" : "c")).ToList();
        await store.AddTracesAsync(traces, TestContext.Current.CancellationToken);
        var (from, to) = (Monday.AddHours(-29), Monday.AddDays(80));
        var windows = new[] { (from, to), (Monday.AddDays(3), Monday.AddDays(17)), (Monday.AddDays(10), Monday.AddDays(40)) };
        var cells = new Drift.TrafficCells(store);

        await cells.PrimeAsync([.. windows, .. Drift.TrafficCells.Windows(from, to, Period.Week)], TestContext.Current.CancellationToken);

        foreach (var (f, t) in windows)
        {
            (await cells.CountTrafficAsync(f, t, Period.None, TestContext.Current.CancellationToken))
                .Should().Equal(await store.CountTrafficAsync(new TrafficQuery(f, t), TestContext.Current.CancellationToken));
        }

        (await cells.CountTrafficAsync(from, to, Period.Week, TestContext.Current.CancellationToken))
            .Should().Equal(await store.CountTrafficAsync(new TrafficQuery(from, to, Period.Week), TestContext.Current.CancellationToken));

        var split = await store.CountFeedbackBySegmentsAsync([(from, Monday.AddDays(5)), (Monday.AddDays(5), Monday.AddDays(5)), (Monday.AddDays(5), to)], TestContext.Current.CancellationToken);
        split.Should().HaveCount(3);
        split[1].Should().BeEmpty();
        split.Sum(s => s.Sum(c => c.Count.Traces)).Should().Be(traces.Count(t => t.Trace.Timestamp >= from && t.Trace.Timestamp < to));
    }

    [Fact]
    public async Task The_traffic_span_is_computed_again_after_a_write_by_this_or_another_connection()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await store.AddTracesAsync([Classified("one", Monday, "a")], TestContext.Current.CancellationToken);
        (await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count.Should().Be(1);

        await store.AddTracesAsync([Classified("two", Monday.AddHours(1), "a")], TestContext.Current.CancellationToken);
        (await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count.Should().Be(2);

        await using (var other = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken))
        {
            await other.AddTracesAsync([Classified("three", Monday.AddHours(2), "a")], TestContext.Current.CancellationToken);
        }

        var span = await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken);
        span!.Count.Should().Be(3);
        span.Last.Should().Be(Monday.AddHours(2));
    }

    [Fact]
    public async Task Monthly_and_daily_counts_follow_calendar_boundaries_and_the_window_bounds()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await store.AddTracesAsync(
        [
            Classified("may", new DateTimeOffset(2026, 5, 31, 23, 0, 0, TimeSpan.Zero), "a"),
            Classified("jun1", Monday, "a"),
            Classified("jun30", new DateTimeOffset(2026, 6, 30, 12, 0, 0, TimeSpan.Zero), "a"),
            Classified("jul", new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero), "a"),
        ], TestContext.Current.CancellationToken);

        var months = await store.CountTrafficAsync(new TrafficQuery(Period: Period.Month), TestContext.Current.CancellationToken);
        var bounded = await store.CountTrafficAsync(new TrafficQuery(Monday, new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.Zero), Period.Day), TestContext.Current.CancellationToken);

        months.Select(c => (c.BucketStart!.Value.Month, c.Count)).Should().Equal((5, 1L), (6, 2L), (7, 1L));
        bounded.Select(c => c.BucketStart!.Value.Day).Should().Equal(1, 30);
    }

    [Fact]
    public async Task Cached_responses_are_served_until_they_expire()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var now = Monday;

        await store.PutCachedResponseAsync("k1", [1, 2], now, now.AddHours(1), TestContext.Current.CancellationToken);
        await store.PutCachedResponseAsync("k2", [3], now, null, TestContext.Current.CancellationToken);

        (await store.GetCachedResponseAsync("k1", now.AddMinutes(59), TestContext.Current.CancellationToken)).Should().Equal(1, 2);
        (await store.GetCachedResponseAsync("k1", now.AddHours(1), TestContext.Current.CancellationToken)).Should().BeNull();
        (await store.GetCachedResponseAsync("k2", now.AddYears(5), TestContext.Current.CancellationToken)).Should().Equal(3);
        (await store.GetCachedResponseAsync("nope", now, TestContext.Current.CancellationToken)).Should().BeNull();
    }

    [Fact]
    public async Task A_version_1_store_is_migrated_to_the_latest_schema_keeping_its_traces()
    {
        // Given a store at schema version 1 holding a trace
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken))
        {
            await store.AddTracesAsync([Classified("old", Monday, "a")], TestContext.Current.CancellationToken);
        }

        Scalar("DROP TABLE pruned_keys; DROP TABLE traffic_days; DROP TABLE pending_parts; DROP TABLE trace_parts; DROP INDEX traces_by_time_feedback; ALTER TABLE traces DROP COLUMN sample_priority; CREATE INDEX traces_by_time ON traces (ts, intent_id, cohort_id); DROP TABLE response_cache; DROP TABLE run_cases; DROP TABLE runs; DROP TABLE embeddings; DELETE FROM schema_migrations WHERE version > 1; SELECT COUNT(*) FROM schema_migrations").Should().Be(1);

        // When it is opened
        await using var migrated = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // Then the later migrations are applied and the trace is still there
        migrated.SchemaVersion.Should().Be(Migrations.Latest).And.BeGreaterThan(1);
        (await migrated.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count.Should().Be(1);
        await migrated.PutCachedResponseAsync("k", [1], Monday, null, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task A_version_3_store_gains_the_embedding_cache_and_keeps_its_traces()
    {
        // Given a store at schema version 3 (before the embedding cache) holding a trace
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken))
        {
            await store.AddTracesAsync([Classified("old", Monday, "a")], TestContext.Current.CancellationToken);
        }

        Scalar("DROP TABLE pruned_keys; DROP TABLE traffic_days; DROP TABLE pending_parts; DROP TABLE trace_parts; DROP INDEX traces_by_time_feedback; ALTER TABLE traces DROP COLUMN sample_priority; CREATE INDEX traces_by_time ON traces (ts, intent_id, cohort_id); DROP TABLE embeddings; ALTER TABLE runs DROP COLUMN lease_owner; ALTER TABLE runs DROP COLUMN lease_until; DELETE FROM schema_migrations WHERE version > 3; SELECT MAX(version) FROM schema_migrations").Should().Be(3);

        // When it is opened
        await using var migrated = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // Then migration 4 adds the cache and the trace is still there
        migrated.SchemaVersion.Should().Be(Migrations.Latest).And.BeGreaterThanOrEqualTo(4);
        (await migrated.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count.Should().Be(1);
        await migrated.PutEmbeddingsAsync("e", [new(1, [1f])], TestContext.Current.CancellationToken);
        (await migrated.GetEmbeddingsAsync("e", [1], TestContext.Current.CancellationToken)).Should().ContainKey(1);
    }

    [Fact]
    public async Task Embeddings_are_cached_per_embedder_and_text_hash_and_read_back_exactly()
    {
        // Given vectors of two embedders for overlapping text hashes, one of them replaced later
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var a = new[] { 0.25f, -1.5f, float.Epsilon, 3e38f };
        var b = new[] { 1f, 2f };
        UInt128 first = UInt128.MaxValue, second = 42;
        await store.PutEmbeddingsAsync("hashed-v1", [new(first, [9f, 9f, 9f, 9f]), new(second, b)], TestContext.Current.CancellationToken);
        await store.PutEmbeddingsAsync("hashed-v1", [new(first, a)], TestContext.Current.CancellationToken);
        await store.PutEmbeddingsAsync("openai/m", [new(first, b)], TestContext.Current.CancellationToken);

        // When hashes are looked up, one of them never stored
        var found = await store.GetEmbeddingsAsync("hashed-v1", [first, second, 7], TestContext.Current.CancellationToken);
        var other = await store.GetEmbeddingsAsync("openai/m", [first, second], TestContext.Current.CancellationToken);

        // Then each embedder sees only its own vectors, bit for bit, the latest one winning
        found.Keys.Should().BeEquivalentTo([first, second]);
        found[first].Should().Equal(a);
        found[second].Should().Equal(b);
        other.Keys.Should().Equal(first);
        Scalar("SELECT COUNT(*) FROM embeddings").Should().Be(3);
        Scalar("SELECT dims FROM embeddings WHERE embedder = 'hashed-v1' AND length(text_hash) = 16 ORDER BY dims DESC LIMIT 1").Should().Be(4);
    }

    [Fact]
    public async Task Blobs_are_stored_replaced_and_read_back()
    {
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        (await store.GetBlobAsync("k", TestContext.Current.CancellationToken)).Should().BeNull();
        await store.PutBlobAsync("k", [1, 2, 3], TestContext.Current.CancellationToken);
        await store.PutBlobAsync("k", [4], TestContext.Current.CancellationToken);

        (await store.GetBlobAsync("k", TestContext.Current.CancellationToken)).Should().Equal(4);
    }

    [Fact]
    public async Task Feedback_metadata_and_messages_are_stored_as_given()
    {
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken))
        {
            var trace = new Trace("t-9", Monday, TraceInput.FromMessages([new ChatMessage("user", "hi \"there\"")]), "out", "m",
                new Dictionary<string, string> { ["plan"] = "pro" }, new Feedback(-1, 2.5, true, null, false, true), null);
            await store.AddTracesAsync([new ClassifiedTrace(trace, "id:t-9", "greet", IntentSource.Classifier, 0.75, "plan=pro")], TestContext.Current.CancellationToken);
        }

        Scalar("SELECT input_json || '|' || metadata_json || '|' || thumbs || '|' || csat || '|' || escalated || '|' || IFNULL(continued, 'null') || '|' || completed || '|' || follow_up || '|' || intent_source FROM traces")
            .Should().Be("[{\"role\":\"user\",\"content\":\"hi \\\"there\\\"\"}]|{\"plan\":\"pro\"}|-1|2.5|1|null|0|1|1");
    }

    private object? Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_fixture.StorePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        var value = command.ExecuteScalar();
        return value is long l ? (int)l : value;
    }

    /// <summary>What SQLite's planner says it would do for a query, its steps' details joined.</summary>
    private string QueryPlan(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={_fixture.StorePath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        using var reader = command.ExecuteReader();
        var details = new List<string>();
        while (reader.Read())
        {
            details.Add(reader.GetString(3));
        }

        return string.Join("; ", details);
    }

    [Fact]
    public async Task Isolated_traces_far_from_the_traffic_do_not_anchor_its_span()
    {
        // Given two weeks of traffic, 50 traces a day, one trace dated 9999-12-31 and one dated 2001-01-01
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var traffic = Enumerable.Range(0, 700).Select(i => Classified($"t-{i}", Monday.AddMinutes(i * 28.8), "a")).ToList();
        var last = traffic[^1].Trace.Timestamp;
        await store.AddTracesAsync([.. traffic, Classified("future", new DateTimeOffset(9999, 12, 31, 0, 0, 0, TimeSpan.Zero), "a"), Classified("past", new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero), "a")], TestContext.Current.CancellationToken);

        // When the span windows are anchored to is read
        var span = await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken);

        // Then it is the traffic's, and says two outliers were left out
        span.Should().Be(new TrafficSpan(Monday, last, 700, Outliers: 2));
    }

    [Fact]
    public async Task Sparse_traffic_keeps_every_trace_in_its_span()
    {
        // Given one trace a day for ten days, then one more after a six-day pause
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        await store.AddTracesAsync([.. Enumerable.Range(0, 10).Select(i => Classified($"t-{i}", Monday.AddDays(i), "a")), Classified("late", Monday.AddDays(15), "a")], TestContext.Current.CancellationToken);

        // When the span is read
        var span = await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken);

        // Then nothing is an outlier: a pause of under a week isolates no trace
        span.Should().Be(new TrafficSpan(Monday, Monday.AddDays(15), 11));
    }

    [Fact]
    public async Task Stored_traces_are_read_back_whole_within_a_window()
    {
        // Given a text trace with metadata and feedback, a conversation, and a trace outside the window
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var text = new ClassifiedTrace(
            new Trace("t-1", Monday.AddHours(1), TraceInput.FromText("freeze my card"), "Done.", "bot-1", new Dictionary<string, string> { ["plan"] = "free", ["user_id"] = "u7" }, new Feedback(Thumbs: -1, Csat: 2, Escalated: true), "freeze"),
            "id:t-1", "freeze", IntentSource.Label, 1, "plan=free");
        var chat = new ClassifiedTrace(
            new Trace(null, Monday.AddHours(2), TraceInput.FromMessages([new ChatMessage("system", "be brief"), new ChatMessage("user", "balance?")]), null, null, new Dictionary<string, string>(), Feedback.None, null),
            "sha256:abc", "balance", IntentSource.Classifier, 0.7, "plan=pro");
        await store.AddTracesAsync([text, chat, Classified("late", Monday.AddDays(9), "balance")], TestContext.Current.CancellationToken);

        // When the first week is scanned
        var read = new List<ClassifiedTrace>();
        await store.ScanTracesAsync(Monday, Monday.AddDays(7), read.Add, TestContext.Current.CancellationToken);

        // Then both come back as they went in, oldest first
        read.Should().HaveCount(2);
        read[0].Trace.Should().BeEquivalentTo(text.Trace, o => o.Excluding(t => t.MetadataUtf8));
        read[0].Should().BeEquivalentTo(text, o => o.Excluding(t => t.Trace));
        read[1].Trace.Id.Should().BeNull();
        read[1].Trace.Input.Messages.Should().BeEquivalentTo(chat.Trace.Input.Messages);
        read[1].Trace.Metadata.Should().BeEmpty();
        read[1].CohortKey.Should().Be("plan=pro");
    }

    [Fact]
    public async Task Trace_heads_carry_what_sampling_needs_and_their_positions_give_back_the_texts()
    {
        // Given a text trace, a conversation without an id and a trace of the same time, and a trace outside the window
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var chat = new ClassifiedTrace(
            new Trace(null, Monday.AddHours(2), TraceInput.FromMessages([new ChatMessage("system", "be brief"), new ChatMessage("user", "balance?")]), null, null, new Dictionary<string, string>(), Feedback.None, null),
            "sha256:abc", "balance", IntentSource.Classifier, 0.7, "plan=pro");
        await store.AddTracesAsync([Classified("t-1", Monday.AddHours(2), "freeze"), chat, Classified("t-0", Monday.AddHours(1), "card"), Classified("late", Monday.AddDays(9), "balance")], TestContext.Current.CancellationToken);

        // When the first week's heads are read, then the texts at their positions (and at one holding nothing)
        var heads = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(Monday, Monday.AddDays(7), withKeys: false, heads.Add, TestContext.Current.CancellationToken);
        var keyed = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(Monday, Monday.AddDays(7), withKeys: true, keyed.Add, TestContext.Current.CancellationToken);
        var texts = await store.GetClassificationTextsAsync([.. heads.Select(h => h.Position), 1_000], TestContext.Current.CancellationToken);
        var whole = new List<ClassifiedTrace>();
        await store.ScanTracesAsync(Monday, Monday.AddDays(7), whole.Add, TestContext.Current.CancellationToken);

        // Then time and position order the heads as the whole traces are read; each head carries its trace's stored-seed
        // priority (its key only when asked), and each text is its trace's, with its key and id
        var ordered = heads.OrderBy(h => h.Timestamp).ThenBy(h => h.Position).ToList();
        ordered.Select(h => (texts[h.Position].Key, texts[h.Position].TraceId, h.Timestamp, h.Intent, h.CohortKey, h.Priority, h.Key))
            .Should().Equal(whole.Select(t => (t.Key, t.Trace.Id, t.Trace.Timestamp, t.Intent, t.CohortKey, SamplePriority.Of(SamplePriority.StoredSeed, t.Key), (string?)null)));
        keyed.OrderBy(h => h.Timestamp).ThenBy(h => h.Position).Select(h => h.Key).Should().Equal(whole.Select(t => t.Key));
        ordered.Select(h => texts[h.Position].Text).Should().Equal(whole.Select(t => t.Trace.Input.ClassificationText));
        texts.Should().HaveCount(3);
    }

    [Fact]
    public async Task Texts_of_many_positions_are_read_in_two_halves_side_by_side_and_are_each_trace_s_own()
    {
        // Given more traces than the store reads on one connection, and a trace written after them
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var count = SqliteStore.ParallelTextReads + 1_001;
        await store.AddTracesAsync([.. Enumerable.Range(0, count).Select(i => Classified("many-" + i, Monday.AddSeconds(i), "balance"))], TestContext.Current.CancellationToken);
        var heads = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(Monday, Monday.AddDays(7), withKeys: true, heads.Add, TestContext.Current.CancellationToken);

        // When every head's text is read, with a position that holds nothing among them
        var texts = await store.GetClassificationTextsAsync([.. heads.Select(h => h.Position), -7], TestContext.Current.CancellationToken);

        // Then both halves are there, each text its own trace's, and the store still writes afterwards
        texts.Should().HaveCount(count);
        heads.Should().OnlyContain(h => texts[h.Position].Key == h.Key && texts[h.Position].Text == "x " + h.Key!.Substring(3));
        await store.AddTracesAsync([Classified("after", Monday.AddDays(1), "card")], TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Feedback_counts_per_intent_and_cohort_from_the_index_equal_those_of_a_scan_over_the_whole_traces()
    {
        // Given traces of two intents and two cohorts with every kind of feedback
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var feedbacks = new[] { new Feedback(Thumbs: 1), new Feedback(Thumbs: -1, Escalated: true), Feedback.None, new Feedback(Thumbs: 1, Escalated: false), new Feedback(Escalated: true) };
        await store.AddTracesAsync(
            [.. Enumerable.Range(0, 20).Select(i => Classified($"f{i}", Monday.AddHours(i), i % 3 == 0 ? "a" : "b") is var c
                ? c with { Trace = c.Trace with { Feedback = feedbacks[i % 5] }, CohortKey = i % 2 == 0 ? "plan=free" : "plan=pro" }
                : null!)],
            TestContext.Current.CancellationToken);

        // When the window [2 h, 17 h) is counted by the store and by the interface's scanning default
        var fast = await store.CountFeedbackByCellAsync(Monday.AddHours(2), Monday.AddHours(17), TestContext.Current.CancellationToken);
        var scanned = await ((IRecalStore)new ScanningView(store)).CountFeedbackByCellAsync(Monday.AddHours(2), Monday.AddHours(17), TestContext.Current.CancellationToken);

        // Then both give the same four cells, which add up to the window's totals
        fast.Should().HaveCount(4).And.BeEquivalentTo(scanned);
        var total = await store.CountFeedbackAsync(Monday.AddHours(2), Monday.AddHours(17), TestContext.Current.CancellationToken);
        fast.Aggregate(default(FeedbackCount), (sum, c) => sum.Plus(c.Count)).Should().Be(total);
    }

    [Fact]
    public async Task Feedback_counts_per_model_read_from_the_columns_equal_those_of_a_scan_over_the_whole_traces()
    {
        // Given traces answered by two releases and an unknown model, and traces without a model
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var feedbacks = new[] { new Feedback(Thumbs: 1), new Feedback(Thumbs: -1, Escalated: true), Feedback.None, new Feedback(Thumbs: 1, Escalated: false) };
        string?[] models = ["bot-1", "bot-2", null, "bot-é", "bot-1"];
        await store.AddTracesAsync(
            [.. Enumerable.Range(0, 30).Select(i => Classified($"m{i}", Monday.AddHours(i), i % 3 == 0 ? "a" : "b") is var c
                ? c with { Trace = c.Trace with { Feedback = feedbacks[i % 4], Model = models[i % 5] } }
                : null!)],
            TestContext.Current.CancellationToken);

        // When two of the models are counted by the store and by the interface's scanning default
        IReadOnlyCollection<string> wanted = ["bot-1", "bot-é", "bot-9"];
        var fast = await store.CountFeedbackByModelAsync(wanted, TestContext.Current.CancellationToken);
        var scanned = await ((IRecalStore)new ScanningView(store)).CountFeedbackByModelAsync(wanted, TestContext.Current.CancellationToken);

        // Then both give the same cells, with each cell's first and last trace, and nothing of the other models
        fast.Should().BeEquivalentTo(scanned).And.HaveCount(4);
        fast.Sum(c => c.Count.Traces).Should().Be(18);
        fast.Single(c => c.Model == "bot-é" && c.Intent == "a").Should().Be(new ModelFeedbackCell("bot-é", "a", "plan=free", new FeedbackCount(2, 1, 1, 0) { EscalationKnown = 1 }, Monday.AddHours(3), Monday.AddHours(18)));
    }

    [Fact]
    public async Task A_version_5_store_gains_the_index_covering_the_feedback_columns_and_keeps_its_traces()
    {
        // Given a store at schema version 5, with its traffic index on time, intent and cohort alone
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken))
        {
            await store.AddTracesAsync([Classified("old", Monday, "a") is var c ? c with { Trace = c.Trace with { Feedback = new Feedback(Thumbs: 1) } } : null!], TestContext.Current.CancellationToken);
        }

        Scalar("DROP TABLE pruned_keys; DROP TABLE traffic_days; DROP TABLE pending_parts; DROP TABLE trace_parts; DROP INDEX traces_by_time_feedback; ALTER TABLE traces DROP COLUMN sample_priority; CREATE INDEX traces_by_time ON traces (ts, intent_id, cohort_id); DELETE FROM schema_migrations WHERE version > 5; SELECT MAX(version) FROM schema_migrations").Should().Be(5);

        // When it is opened
        await using var migrated = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // Then migration 6 gives the trace its stored sampling priority and replaces the index with one that covers the
        // feedback columns and the priority, and the trace still counts
        migrated.SchemaVersion.Should().Be(Migrations.Latest).And.BeGreaterThanOrEqualTo(6);
        var heads = new List<TraceHead>();
        await migrated.ScanTraceHeadsAsync(null, null, withKeys: false, heads.Add, TestContext.Current.CancellationToken);
        heads.Should().ContainSingle().Which.Priority.Should().Be(SamplePriority.Of(SamplePriority.StoredSeed, "id:old"));
        QueryPlan("SELECT id, ts, intent_id, cohort_id, sample_priority FROM traces WHERE ts >= 0 AND ts < 1").Should().Contain("COVERING INDEX traces_by_time_feedback");
        Scalar("SELECT group_concat(name) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'traces'").Should().Be("traces_by_time_feedback");
        (await migrated.CountFeedbackByCellAsync(Monday, Monday.AddDays(1), TestContext.Current.CancellationToken)).Should().Equal(new FeedbackCell("a", "plan=free", new FeedbackCount(1, 1, 1, 0)));
    }

    [Fact]
    public async Task A_version_8_store_gains_the_daily_rollup_built_from_its_traces()
    {
        // Given a store at schema version 8 holding rated and escalated traces over two days
        await using (var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken))
        {
            await store.AddTracesAsync(
            [
                Classified("a", Monday.AddHours(1), "a") is var a ? a with { Trace = a.Trace with { Feedback = new Feedback(Thumbs: 1, Escalated: false) } } : null!,
                Classified("b", Monday.AddHours(2), "a") is var b ? b with { Trace = b.Trace with { Feedback = new Feedback(Thumbs: -1, Escalated: true) } } : null!,
                Classified("c", Monday.AddDays(1), "b"),
            ],
            TestContext.Current.CancellationToken);
        }

        Scalar("DROP TABLE pruned_keys; DROP TABLE traffic_days; DELETE FROM schema_migrations WHERE version > 8; SELECT MAX(version) FROM schema_migrations").Should().Be(8);

        // When it is opened
        await using var migrated = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // Then migration 9 counts the stored traces into the rollup, and whole days are read from it
        migrated.SchemaVersion.Should().BeGreaterThanOrEqualTo(9);
        Scalar("SELECT group_concat(day || ':' || traces || ':' || rated || ':' || up || ':' || escalated || ':' || escalation_known, ' ') FROM (SELECT * FROM traffic_days ORDER BY day)")
            .Should().Be($"{Monday.ToUnixTimeMilliseconds()}:2:2:1:1:2 {Monday.AddDays(1).ToUnixTimeMilliseconds()}:1:0:0:0:0");
        (await migrated.CountFeedbackAsync(Monday, Monday.AddDays(2), TestContext.Current.CancellationToken)).Should().Be(new FeedbackCount(3, 2, 1, 1) { EscalationKnown = 2 });
        Scalar($"UPDATE traffic_days SET traces = traces + 10 WHERE day = {Monday.ToUnixTimeMilliseconds()}; SELECT changes()").Should().Be(1);
        (await migrated.CountFeedbackAsync(Monday, Monday.AddDays(2), TestContext.Current.CancellationToken)).Traces.Should().Be(13, "a whole day is read from the rollup");
        (await migrated.CountFeedbackAsync(Monday.AddMinutes(1), Monday.AddDays(2), TestContext.Current.CancellationToken)).Traces.Should().Be(3, "part of a day is read from the traces");
        (await migrated.CountTrafficAsync(new TrafficQuery(Period: Period.Week), TestContext.Current.CancellationToken)).Sum(c => c.Count).Should().Be(13);
    }

    internal static ClassifiedTrace Classified(string id, DateTimeOffset time, string intent) =>
        new(new Trace(id, time, TraceInput.FromText("x " + id), null, null, new Dictionary<string, string>(), Feedback.None, null), "id:" + id, intent, IntentSource.Classifier, 0.9, "plan=free");

    /// <summary>The store seen through the interface's default feedback counts, which visit every trace.</summary>
    private sealed class ScanningView(IRecalStore inner) : IRecalStore
    {
        public int SchemaVersion => inner.SchemaVersion;

        public ValueTask<StoreBatchResult> AddTracesAsync(IReadOnlyList<ClassifiedTrace> batch, IngestSession? ingest, CancellationToken cancellationToken = default) => inner.AddTracesAsync(batch, ingest, cancellationToken);

        public ValueTask<MergeBatchResult> MergeTracesAsync(IReadOnlyList<Recal.Ingest.TraceUpdate> batch, Func<ClassifiedTrace, Recal.Ingest.TraceUpdate, ClassifiedTrace?> merge, IngestSession? ingest, CancellationToken cancellationToken = default) => inner.MergeTracesAsync(batch, merge, ingest, cancellationToken);

        public ValueTask<IReadOnlyList<TrafficCount>> CountTrafficAsync(TrafficQuery query, CancellationToken cancellationToken = default) => inner.CountTrafficAsync(query, cancellationToken);

        public ValueTask<TrafficSpan?> GetTrafficSpanAsync(CancellationToken cancellationToken = default) => inner.GetTrafficSpanAsync(cancellationToken);

        public ValueTask<IngestSession> BeginIngestAsync(string source, CancellationToken cancellationToken = default) => inner.BeginIngestAsync(source, cancellationToken);

        public ValueTask EndIngestAsync(IngestSession ingest, long read, long added, long duplicates, long quarantined, CancellationToken cancellationToken = default) => inner.EndIngestAsync(ingest, read, added, duplicates, quarantined, cancellationToken);

        public ValueTask<IReadOnlyDictionary<long, long>> CountTracesByIngestAsync(CancellationToken cancellationToken = default) => inner.CountTracesByIngestAsync(cancellationToken);

        public ValueTask<byte[]?> GetBlobAsync(string key, CancellationToken cancellationToken = default) => inner.GetBlobAsync(key, cancellationToken);

        public ValueTask PutBlobAsync(string key, byte[] value, CancellationToken cancellationToken = default) => inner.PutBlobAsync(key, value, cancellationToken);

        public ValueTask<IReadOnlyList<BlobInfo>> ListBlobsAsync(string prefix, CancellationToken cancellationToken = default) => inner.ListBlobsAsync(prefix, cancellationToken);

        public ValueTask DeleteBlobsAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default) => inner.DeleteBlobsAsync(keys, cancellationToken);

        public ValueTask<PruneSummary> PlanPruneAsync(DateTimeOffset before, CancellationToken cancellationToken = default) => inner.PlanPruneAsync(before, cancellationToken);

        public ValueTask<PruneSummary> PruneTracesAsync(DateTimeOffset before, IProgress<PruneSummary>? progress = null, CancellationToken cancellationToken = default) => inner.PruneTracesAsync(before, progress, cancellationToken);

        public ValueTask<DateTimeOffset?> GetPrunedBeforeAsync(CancellationToken cancellationToken = default) => inner.GetPrunedBeforeAsync(cancellationToken);

        public ValueTask<byte[]?> GetCachedResponseAsync(string key, DateTimeOffset now, CancellationToken cancellationToken = default) => inner.GetCachedResponseAsync(key, now, cancellationToken);

        public ValueTask PutCachedResponseAsync(string key, byte[] response, DateTimeOffset created, DateTimeOffset? expires, CancellationToken cancellationToken = default) => inner.PutCachedResponseAsync(key, response, created, expires, cancellationToken);

        public ValueTask CreateRunAsync(Recal.Running.RunInfo run, CancellationToken cancellationToken = default) => inner.CreateRunAsync(run, cancellationToken);

        public ValueTask AddRunCaseAsync(string runId, Recal.Running.RunCaseRecord result, CancellationToken cancellationToken = default) => inner.AddRunCaseAsync(runId, result, cancellationToken);

        public ValueTask FinishRunAsync(string runId, Recal.Running.RunStatus status, DateTimeOffset? finished, CancellationToken cancellationToken = default) => inner.FinishRunAsync(runId, status, finished, cancellationToken);

        public ValueTask<Recal.Running.RunInfo?> GetRunAsync(string runId, CancellationToken cancellationToken = default) => inner.GetRunAsync(runId, cancellationToken);

        public ValueTask<IReadOnlyList<Recal.Running.RunInfo>> QueryRunsAsync(RunQuery query, CancellationToken cancellationToken = default) => inner.QueryRunsAsync(query, cancellationToken);

        public ValueTask<IReadOnlyList<string>> CheckIntegrityAsync(bool quick = false, int limit = 100, CancellationToken cancellationToken = default) => inner.CheckIntegrityAsync(quick, limit, cancellationToken);

        public ValueTask<IReadOnlyList<Recal.Running.RunCaseRecord>> GetRunCasesAsync(string runId, CancellationToken cancellationToken = default) => inner.GetRunCasesAsync(runId, cancellationToken);

        public ValueTask<IReadOnlyDictionary<string, string>> GetTraceOutputsAsync(IReadOnlyCollection<string> traceIds, CancellationToken cancellationToken = default) => inner.GetTraceOutputsAsync(traceIds, cancellationToken);

        public ValueTask ScanTracesAsync(DateTimeOffset? from, DateTimeOffset? to, Action<ClassifiedTrace> visit, CancellationToken cancellationToken = default) => inner.ScanTracesAsync(from, to, visit, cancellationToken);

        public ValueTask ScanTraceHeadsAsync(DateTimeOffset? from, DateTimeOffset? to, bool withKeys, Action<TraceHead> visit, CancellationToken cancellationToken = default) => inner.ScanTraceHeadsAsync(from, to, withKeys, visit, cancellationToken);

        public ValueTask<IReadOnlyDictionary<long, TraceText>> GetClassificationTextsAsync(IReadOnlyCollection<long> positions, CancellationToken cancellationToken = default) => inner.GetClassificationTextsAsync(positions, cancellationToken);

        public ValueTask<IReadOnlyDictionary<UInt128, float[]>> GetEmbeddingsAsync(string embedder, IReadOnlyCollection<UInt128> textHashes, CancellationToken cancellationToken = default) => inner.GetEmbeddingsAsync(embedder, textHashes, cancellationToken);

        public ValueTask PutEmbeddingsAsync(string embedder, IReadOnlyList<KeyValuePair<UInt128, float[]>> embeddings, CancellationToken cancellationToken = default) => inner.PutEmbeddingsAsync(embedder, embeddings, cancellationToken);

        public ValueTask<IReadOnlyList<IngestLogEntry>> GetIngestLogAsync(int limit = 50, CancellationToken cancellationToken = default) => inner.GetIngestLogAsync(limit, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
