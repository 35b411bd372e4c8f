using FluentAssertions;
using Recal.Domain;
using Recal.Embeddings;
using Recal.Ingest;
using Recal.Running;
using Recal.Storage;
using Xunit;

namespace Recal.Testing;

/// <summary>
/// What every store must do, through <see cref="IRecalStore"/>'s role interfaces alone: a store passes it by deriving a
/// test class that opens a fresh, empty store (SQLite in tests/Recal.Storage.Sqlite.Tests, PostgreSQL in
/// tests/Recal.Storage.Postgres.Tests, <see cref="InMemoryStore"/> in tests/Recal.Storage.Contract.Tests). Timestamps
/// are whole milliseconds, the precision stores keep.
/// </summary>
public abstract class StoreContract
{
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A fresh, empty store of the kind under test.</summary>
    protected abstract Task<IRecalStore> OpenEmptyAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_trace_stored_twice_is_kept_once()
    {
        await using var store = await OpenEmptyAsync();
        var trace = Trace("t-1", Monday, "balance");

        var first = await store.AddTracesAsync([trace, trace], Token);
        var second = await store.AddTracesAsync([trace], Token);

        first.Should().Be(new StoreBatchResult(1, 1));
        second.Should().Be(new StoreBatchResult(0, 1));
        (await store.GetTrafficSpanAsync(Token)).Should().Be(new TrafficSpan(Monday, Monday, 1));
    }

    [Fact]
    public async Task Two_interleaved_ingests_keep_their_own_traces()
    {
        // Given two ingests open at once on one store
        await using var store = await OpenEmptyAsync();
        var first = await store.BeginIngestAsync("first.jsonl", Token);
        var second = await store.BeginIngestAsync("second.jsonl", Token);

        // When their batches are stored in turns, the second's as merged parts, and a batch is stored outside both
        await store.AddTracesAsync([Trace("a1", Monday, "x"), Trace("a2", Monday, "x")], first, Token);
        await store.MergeTracesAsync([Part(Trace("b1", Monday, "x"))], (_, _) => null, second, Token);
        await store.AddTracesAsync([Trace("a3", Monday, "x")], first, Token);
        await store.EndIngestAsync(first, 3, 3, 0, 0, Token);
        await store.AddTracesAsync([Trace("c1", Monday, "x")], Token);
        await store.MergeTracesAsync([Part(Trace("b2", Monday, "x"))], (_, _) => null, second, Token);

        // Then each ingest is credited with its own traces only
        first.Id.Should().NotBe(second.Id);
        (await store.CountTracesByIngestAsync(Token)).Should().BeEquivalentTo(new Dictionary<long, long> { [first.Id] = 3, [second.Id] = 2 });
    }

    [Fact]
    public async Task The_ingest_log_lists_ingests_newest_first_with_their_counts()
    {
        await using var store = await OpenEmptyAsync();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var done = await store.BeginIngestAsync("/data/week-1.jsonl", Token);
        await store.EndIngestAsync(done, read: 10, added: 7, duplicates: 2, quarantined: 1, Token);
        var open = await store.BeginIngestAsync("/data/week-2.jsonl", Token);

        var log = await store.GetIngestLogAsync(cancellationToken: Token);

        log.Select(e => (e.Id, e.Source)).Should().Equal((open.Id, "/data/week-2.jsonl"), (done.Id, "/data/week-1.jsonl"));
        log[0].Finished.Should().BeNull();
        log[1].Should().BeEquivalentTo(new { Read = 10L, Added = 7L, Duplicates = 2L, Quarantined = 1L });
        log[1].Started.Should().BeOnOrAfter(before).And.Be(done.Started);
        log[1].Finished.Should().BeOnOrAfter(log[1].Started);
        (await store.GetIngestLogAsync(1, Token)).Should().ContainSingle().Which.Id.Should().Be(open.Id);
    }

    [Fact]
    public async Task Merging_parts_adds_new_traces_updates_stored_ones_and_names_feedback_without_a_trace()
    {
        // Given a stored trace
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([Trace("t-1", Monday, "balance")], Token);
        ClassifiedTrace? seen = null;
        ClassifiedTrace? Merge(ClassifiedTrace stored, TraceUpdate update)
        {
            seen = stored;
            return update.Feedback == Feedback.None ? null : stored with { Trace = stored.Trace with { Feedback = update.Feedback } };
        }

        // When a batch brings a new trace, feedback for the stored one, a rerun of it, and feedback for a trace never stored
        var result = await store.MergeTracesAsync(
            [Part(Trace("t-2", Monday.AddHours(1), "card")), new TraceUpdate("id:t-1", null, new Feedback(Thumbs: 1)), new TraceUpdate("id:t-1", null, Feedback.None), new TraceUpdate("id:gone", null, new Feedback(Thumbs: -1))],
            Merge,
            null,
            Token);

        // Then each part is counted where it went, and the stored trace carries the feedback
        result.Should().BeEquivalentTo(new MergeBatchResult(1, 1, 1, [3]));
        seen!.Key.Should().Be("id:t-1");
        var scanned = await ScanAsync(store);
        scanned.Select(t => (t.Key, t.Trace.Feedback.Thumbs)).Should().Equal(("id:t-1", 1), ("id:t-2", null));
    }

    [Fact]
    public async Task Metadata_for_a_trace_not_stored_yet_is_kept_and_merged_in_when_the_trace_comes()
    {
        // Given metadata and a model for a trace the store has not seen (a root span ingested before its chat span)
        await using var store = await OpenEmptyAsync();
        var early = new TraceUpdate("id:t-1", null, Feedback.None, new Dictionary<string, string> { ["plan"] = "pro" }, "bot-3");
        ClassifiedTrace? Merge(ClassifiedTrace stored, TraceUpdate update) =>
            stored with { Trace = stored.Trace with { Metadata = new Dictionary<string, string>(stored.Trace.Metadata.Concat(update.Metadata ?? new Dictionary<string, string>())), Model = stored.Trace.Model ?? update.Model } };
        var first = await store.MergeTracesAsync([early], Merge, null, Token);
        var again = await store.MergeTracesAsync([early], Merge, null, Token);

        // When the trace comes in a later batch
        var later = await store.MergeTracesAsync([Part(Trace("t-1", Monday, "balance"))], Merge, null, Token);

        // Then the early part was missing, kept once, and is in the stored trace
        first.Missing.Should().Equal(0);
        again.Missing.Should().Equal(0);
        later.Added.Should().Be(1);
        var stored = (await ScanAsync(store)).Should().ContainSingle().Subject.Trace;
        stored.Metadata.Should().Contain("plan", "pro");
        stored.Model.Should().Be("bot-3");
    }

    [Fact]
    public async Task A_scan_reads_a_window_oldest_first_with_every_field_as_stored()
    {
        // Given traces with text and chat input, output, model, metadata and every feedback signal
        await using var store = await OpenEmptyAsync();
        var chat = new ClassifiedTrace(
            new Trace("chat", Monday.AddHours(2), TraceInput.FromMessages([new ChatMessage("system", "be brief"), new ChatMessage("user", "freeze my card")]), "frozen", "bot-2", new Dictionary<string, string> { ["plan"] = "pro", ["turns"] = "3" }, new Feedback(1, 4.5, false, true, true, false), "freeze"),
            "id:chat",
            "freeze",
            IntentSource.Label,
            1.0,
            "plan=pro");
        await store.AddTracesAsync([Trace("late", Monday.AddDays(3), "balance"), chat, Trace("early", Monday.AddHours(1), "card"), Trace("before", Monday.AddDays(-1), "card")], Token);

        // When the first two days are scanned
        var scanned = await ScanAsync(store, Monday, Monday.AddDays(2));

        // Then the window's traces come oldest first, whole
        scanned.Select(t => t.Key).Should().Equal("id:early", "id:chat");
        var read = scanned[1];
        read.Should().BeEquivalentTo(chat, o => o.Excluding(t => t.Trace.MetadataUtf8));
        read.Trace.Input.Messages.Should().Equal(chat.Trace.Input.Messages);
        (await ScanAsync(store)).Should().HaveCount(4);
    }

    [Fact]
    public async Task Traffic_is_counted_by_period_intent_and_cohort_and_spans_its_traces()
    {
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync(
            [Trace("a", Monday, "balance"), Trace("b", Monday.AddDays(1), "balance"), Trace("c", Monday.AddDays(2), "card", "plan=pro"), Trace("d", Monday.AddDays(8), "balance")],
            Token);

        var weekly = await store.CountTrafficAsync(new TrafficQuery(Period: Period.Week), Token);
        var window = await store.CountTrafficAsync(new TrafficQuery(Monday.AddDays(1), Monday.AddDays(8)), Token);

        weekly.Should().Equal(
            new TrafficCount(Monday, "balance", "plan=free", 2),
            new TrafficCount(Monday, "card", "plan=pro", 1),
            new TrafficCount(Monday.AddDays(7), "balance", "plan=free", 1));
        window.Should().BeEquivalentTo([new TrafficCount(null, "balance", "plan=free", 1), new TrafficCount(null, "card", "plan=pro", 1)]);
        (await store.GetTrafficSpanAsync(Token)).Should().Be(new TrafficSpan(Monday, Monday.AddDays(8), 4));
    }

    [Fact]
    public async Task An_empty_store_has_no_span_no_traffic_and_no_runs()
    {
        await using var store = await OpenEmptyAsync();

        (await store.GetTrafficSpanAsync(Token)).Should().BeNull();
        (await store.CountTrafficAsync(new TrafficQuery(), Token)).Should().BeEmpty();
        (await store.QueryRunsAsync(new RunQuery(), Token)).Should().BeEmpty();
        (await store.GetRunAsync("none", Token)).Should().BeNull();
        (await store.GetIngestLogAsync(cancellationToken: Token)).Should().BeEmpty();
        (await store.CountTracesByIngestAsync(Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task Feedback_is_counted_per_window_cell_segment_and_model()
    {
        // Given rated, escalated, not escalated and silent traces of two models (silent ones say nothing of escalation)
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync(
            [
                Trace("up", Monday.AddHours(1), "balance", feedback: new Feedback(Thumbs: 1, Escalated: false, Continued: true), model: "m1"),
                Trace("down", Monday.AddHours(2), "balance", feedback: new Feedback(Thumbs: -1, Escalated: true, Completed: false), model: "m1"),
                Trace("silent", Monday.AddHours(3), "card", "plan=pro", model: "m2"),
                Trace("later", Monday.AddDays(1), "card", "plan=pro", feedback: new Feedback(Thumbs: 1, Completed: true), model: "m2"),
                Trace("other", Monday.AddDays(1).AddHours(1), "card", model: "m3"),
            ],
            Token);

        // When they are counted every way the interface offers
        var day = await store.CountFeedbackAsync(Monday, Monday.AddDays(1), Token);
        var cells = await store.CountFeedbackByCellAsync(Monday, Monday.AddDays(1), Token);
        var segments = await store.CountFeedbackBySegmentsAsync([(Monday, Monday.AddDays(1)), (Monday.AddDays(1), Monday.AddDays(2))], Token);
        var models = await store.CountFeedbackByModelAsync(["m1", "m2"], Token);

        // Then every count agrees with the traces
        day.Should().Be(new FeedbackCount(3, 2, 1, 1) { EscalationKnown = 2 });
        cells.Should().BeEquivalentTo([new FeedbackCell("balance", "plan=free", new FeedbackCount(2, 2, 1, 1) { EscalationKnown = 2 }), new FeedbackCell("card", "plan=pro", new FeedbackCount(1, 0, 0, 0))]);
        segments.Should().HaveCount(2);
        segments[0].Should().BeEquivalentTo(cells);
        segments[1].Should().BeEquivalentTo([new FeedbackCell("card", "plan=pro", new FeedbackCount(1, 1, 1, 0)), new FeedbackCell("card", "plan=free", new FeedbackCount(1, 0, 0, 0))]);
        models.Should().BeEquivalentTo(
        [
            new ModelFeedbackCell("m1", "balance", "plan=free", new FeedbackCount(2, 2, 1, 1) { EscalationKnown = 2, ContinuedKnown = 1, Continued = 1, CompletedKnown = 1 }, Monday.AddHours(1), Monday.AddHours(2)),
            new ModelFeedbackCell("m2", "card", "plan=pro", new FeedbackCount(2, 1, 1, 0) { CompletedKnown = 1, Completed = 1 }, Monday.AddHours(3), Monday.AddDays(1)),
        ]);
    }

    [Fact]
    public async Task Counts_over_whole_days_and_parts_of_days_agree_with_the_traces_after_adds_and_merges()
    {
        // Given traffic over nine days at odd hours, in two adds and a merge that moves traces in time, intent, cohort and feedback
        await using var store = await OpenEmptyAsync();
        var random = new Random(7);
        string[] intents = ["balance", "card", "loan"];
        var traces = Enumerable.Range(0, 300).Select(i => Trace(
            $"r{i}",
            Monday.AddMinutes(random.Next(0, 9 * 24 * 60)).AddMilliseconds(random.Next(0, 60_000)),
            intents[random.Next(intents.Length)],
            random.Next(3) == 0 ? "plan=pro" : "plan=free",
            new Feedback(Thumbs: random.Next(3) - 1 is var t && t != 0 ? t : null, Escalated: random.Next(3) switch { 0 => true, 1 => false, _ => null }))).ToList();
        await store.AddTracesAsync(traces[..150], Token);
        await store.AddTracesAsync(traces[150..], Token);
        await store.MergeTracesAsync(
            [.. traces.Where((_, i) => i % 7 == 0).Select(t => new TraceUpdate(t.Key, null, new Feedback(Thumbs: 1, Escalated: true)))],
            (stored, update) => stored with { Trace = stored.Trace with { Timestamp = stored.Trace.Timestamp.AddHours(30), Feedback = update.Feedback }, Intent = "moved", CohortKey = "plan=pro" },
            null,
            Token);
        var stored = await ScanAsync(store);
        (await store.GetTrafficSpanAsync(Token)).Should().Be(new TrafficSpan(stored.Min(t => t.Trace.Timestamp), stored.Max(t => t.Trace.Timestamp), stored.Count));

        // When windows with and without whole days, touching and apart, are counted
        (DateTimeOffset From, DateTimeOffset To)[] segments =
        [
            (Monday.AddHours(-5), Monday.AddHours(13.5)),
            (Monday.AddHours(13.5), Monday.AddDays(3).AddMinutes(17)),
            (Monday.AddDays(3).AddMinutes(17), Monday.AddDays(4)),
            (Monday.AddDays(5), Monday.AddDays(8)),
            (Monday.AddDays(8).AddHours(2), Monday.AddDays(8).AddHours(3)),
            (Monday.AddDays(9), Monday.AddDays(11).AddSeconds(1)),
        ];
        var counted = await store.CountFeedbackBySegmentsAsync(segments, Token);

        // Then each agrees with counting the stored traces one by one
        static FeedbackCount Sum(IEnumerable<ClassifiedTrace> traces) => traces.Aggregate(default(FeedbackCount), (sum, t) => sum.Plus(FeedbackCount.Of(t.Trace.Feedback)));
        IEnumerable<ClassifiedTrace> In(DateTimeOffset from, DateTimeOffset to) => stored.Where(t => t.Trace.Timestamp >= from && t.Trace.Timestamp < to);
        for (var i = 0; i < segments.Length; i++)
        {
            var (from, to) = segments[i];
            var expected = In(from, to).GroupBy(t => (t.Intent, t.CohortKey)).Select(g => new FeedbackCell(g.Key.Intent, g.Key.CohortKey, Sum(g))).ToList();
            counted[i].Should().BeEquivalentTo(expected, $"segment {i} is [{from:O}, {to:O})");
            (await store.CountFeedbackAsync(from, to, Token)).Should().Be(Sum(In(from, to)));
            (await store.CountFeedbackByCellAsync(from, to, Token)).Should().BeEquivalentTo(expected);
        }

        foreach (var period in new[] { Period.None, Period.Day, Period.Week })
        {
            foreach (var (from, to) in new (DateTimeOffset?, DateTimeOffset?)[] { (null, null), (Monday.AddHours(7), null), (null, Monday.AddDays(6).AddHours(1)), (Monday.AddHours(7), Monday.AddDays(6).AddHours(1)) })
            {
                var expected = stored
                    .Where(t => (from is null || t.Trace.Timestamp >= from) && (to is null || t.Trace.Timestamp < to))
                    .GroupBy(t => (Bucket: period == Period.None ? (DateTimeOffset?)null : PeriodMath.Start(t.Trace.Timestamp, period), t.Intent, t.CohortKey))
                    .Select(g => new TrafficCount(g.Key.Bucket, g.Key.Intent, g.Key.CohortKey, g.Count()))
                    .OrderBy(c => c.BucketStart).ThenBy(c => c.Intent, StringComparer.Ordinal).ThenBy(c => c.CohortKey, StringComparer.Ordinal);
                (await store.CountTrafficAsync(new TrafficQuery(from, to, period), Token)).Should().Equal(expected, $"{period} over [{from:O}, {to:O})");
            }
        }
    }

    [Fact]
    public async Task The_lowest_heads_of_each_intent_in_a_window_are_those_of_lowest_stored_priority()
    {
        // Given 400 traces over four days of three intents in two cohorts (stored priorities spread over all 64 bits)
        await using var store = await OpenEmptyAsync();
        var random = new Random(11);
        string[] intents = ["balance", "card", "loan"];
        await store.AddTracesAsync(
            [.. Enumerable.Range(0, 400).Select(i => Trace($"p{i}", Monday.AddMinutes(random.Next(0, 4 * 24 * 60)), intents[random.Next(3)], random.Next(2) == 0 ? "plan=pro" : "plan=free"))],
            Token);
        var (from, to) = (Monday.AddHours(9), Monday.AddDays(3).AddHours(2));
        var limits = new Dictionary<string, int> { ["balance"] = 7, ["card"] = 1000, ["loan"] = 0, ["none"] = 5 };

        // When each intent's lowest heads are asked for
        var lowest = new List<TraceHead>();
        await store.ScanLowestHeadsAsync(from, to, limits, lowest.Add, Token);

        // Then they are each named intent's heads of lowest priority in the window, as many as its limit or all it has
        var heads = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(from, to, withKeys: false, heads.Add, Token);
        var expected = heads
            .Where(h => limits.ContainsKey(h.Intent))
            .GroupBy(h => h.Intent)
            .SelectMany(g => g.OrderBy(h => h.Priority).ThenBy(h => h.Position).Take(limits[g.Key]));
        lowest.Select(h => h with { TextHash = default }).Should().BeEquivalentTo(expected.Select(h => h with { TextHash = default }));
        lowest.Where(h => h.Intent == "balance").Should().HaveCount(7);

        // And a head that carries its text's hash carries the hash of the text stored (the embedding cache's key)
        var texts = await store.GetHeadTextsAsync(lowest, Token);
        lowest.Where(h => h.TextHash != default && h.TextHash != TextHash.Of(texts[h.Position].Text)).Should().BeEmpty();
        lowest.Where(h => h.Intent == "card").Should().HaveCount(heads.Count(h => h.Intent == "card")).And.NotBeEmpty();
        heads.Select(h => h.Priority).Should().Contain(p => p >= 1UL << 63).And.Contain(p => p < 1UL << 63);
    }

    [Fact]
    public async Task Heads_give_positions_that_read_back_keys_and_classification_texts()
    {
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([Trace("a", Monday, "balance"), Trace("b", Monday.AddHours(1), "card", "plan=pro"), Trace("c", Monday.AddDays(5), "card")], Token);

        var heads = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(Monday, Monday.AddDays(1), withKeys: true, heads.Add, Token);
        var bare = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(null, null, withKeys: false, bare.Add, Token);
        var texts = await store.GetClassificationTextsAsync([.. heads.Select(h => h.Position), -42], Token);

        heads.OrderBy(h => h.Timestamp).Select(h => (h.Key, h.Timestamp, h.Intent, h.CohortKey, h.Priority)).Should().Equal(
            ("id:a", Monday, "balance", "plan=free", SamplePriority.Of(SamplePriority.StoredSeed, "id:a")),
            ("id:b", Monday.AddHours(1), "card", "plan=pro", SamplePriority.Of(SamplePriority.StoredSeed, "id:b")));
        bare.Should().HaveCount(3).And.OnlyContain(h => h.Key == null);
        texts.Should().HaveCount(2);
        foreach (var head in heads)
        {
            texts[head.Position].Should().Be(new TraceText(head.Key!, "x " + head.Key![3..]));
        }
    }

    [Fact]
    public async Task Production_outputs_are_read_by_trace_id()
    {
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([Trace("a", Monday, "balance", output: "your balance is 3"), Trace("b", Monday, "balance")], Token);

        var outputs = await store.GetTraceOutputsAsync(["a", "b", "missing"], Token);

        outputs.Should().BeEquivalentTo(new Dictionary<string, string> { ["a"] = "your balance is 3" });
    }

    [Fact]
    public async Task A_run_keeps_its_facts_and_one_result_per_case_in_case_order()
    {
        // Given a run with a result, then a batch replacing it and adding two more
        await using var store = await OpenEmptyAsync();
        var run = Run("r1", Monday, pools: [Pool.Shadow, Pool.Gold]);
        await store.CreateRunAsync(run, Token);
        await store.AddRunCaseAsync(run.Id, Result("c2", "gold", "first"), Token);
        await store.AddRunCasesAsync(run.Id, [Result("c3", "shadow", "c"), Result("c2", "gold", "second"), Result("c1", "gold", "a")], Token);

        // When it finishes
        await store.FinishRunAsync(run.Id, RunStatus.Degraded, Monday.AddHours(1), Token);

        // Then the run reads back as stored, pools as a set in the order given, and each case once, newest result
        var stored = await store.GetRunAsync(run.Id, Token);
        stored.Should().Be(run with { Status = RunStatus.Degraded, Finished = Monday.AddHours(1) });
        stored!.Pools.Should().BeEquivalentTo([Pool.Gold, Pool.Shadow]);
        stored.Pools.ToString().Should().Be("shadow,gold");
        var results = await store.GetRunCasesAsync(run.Id, Token);
        results.Select(r => (r.CaseId, r.Output)).Should().Equal(("c1", "a"), ("c2", "second"), ("c3", "c"));
        results[0].Should().BeEquivalentTo(Result("c1", "gold", "a"));
        (await store.GetPoolResultIdsAsync("gold", Token)).Should().BeEquivalentTo([("r1", "c1"), ("r1", "c2")]);
        (await store.GetRunCasesAsync("none", Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_run_query_filters_in_the_store_so_an_older_match_is_not_dropped()
    {
        // Given an old finished run of both pools behind sixty newer ones that do not match
        await using var store = await OpenEmptyAsync();
        await store.CreateRunAsync(Run("old", Monday, "bot", [Pool.Gold, Pool.Shadow]), Token);
        await store.FinishRunAsync("old", RunStatus.Completed, Monday.AddHours(1), Token);
        for (var i = 0; i < 60; i++)
        {
            await store.CreateRunAsync(Run($"new-{i:00}", Monday.AddDays(1).AddMinutes(i), i % 2 == 0 ? "bot" : "other", i == 59 ? [Pool.Gold, Pool.Shadow] : [Pool.Gold], suite: i == 58 ? "v2" : "v1"), Token);
        }

        await store.FinishRunAsync("new-58", RunStatus.Completed, Monday.AddDays(2), Token);
        await store.FinishRunAsync("new-57", RunStatus.Interrupted, null, Token);

        // When runs are queried by status, pools, target, start, suite and limit
        async Task<IEnumerable<string>> Ids(RunQuery query) => (await store.QueryRunsAsync(query, Token)).Select(r => r.Id);

        // Then each query gets every match, newest first
        (await Ids(new RunQuery(Pools: PoolSet.Of([Pool.Shadow]), Statuses: RunQuery.Finished))).Should().Equal("old");
        (await Ids(new RunQuery(Pools: PoolSet.Of([Pool.Gold, Pool.Shadow])))).Should().Equal("new-59", "old");
        (await Ids(new RunQuery(Statuses: RunQuery.Finished))).Should().Equal("new-58", "old");
        (await Ids(new RunQuery(Statuses: RunQuery.Resumable, Limit: 2))).Should().Equal("new-59", "new-57");
        (await Ids(new RunQuery(Target: "bot", Since: Monday.AddDays(1).AddMinutes(55)))).Should().Equal("new-58", "new-56");
        (await Ids(new RunQuery(SuiteVersion: "v2"))).Should().Equal("new-58");
        (await Ids(new RunQuery(Limit: 3))).Should().Equal("new-59", "new-58", "new-57");
        (await Ids(new RunQuery())).Should().HaveCount(61).And.EndWith("old");
        (await store.ListRunsAsync(2, Token)).Select(r => r.Id).Should().Equal("new-59", "new-58");
    }

    [Fact]
    public async Task A_run_lease_is_held_by_one_owner_until_it_expires_is_released_or_is_taken_over()
    {
        await using var store = await OpenEmptyAsync();
        await store.CreateRunAsync(Run("r1", Monday), Token);
        var now = Monday.AddHours(1);

        (await store.ClaimRunAsync("r1", "host-a", now, now.AddMinutes(1), cancellationToken: Token)).Should().BeNull();
        (await store.ClaimRunAsync("r1", "host-a", now.AddSeconds(30), now.AddMinutes(2), cancellationToken: Token)).Should().BeNull();
        (await store.ClaimRunAsync("r1", "host-b", now.AddSeconds(40), now.AddMinutes(3), cancellationToken: Token)).Should().Be(new RunLeaseHolder("host-a", now.AddMinutes(2)));
        (await store.ClaimRunAsync("r1", "host-b", now.AddSeconds(40), now.AddMinutes(3), takeOverFrom: "host-a", cancellationToken: Token)).Should().BeNull();
        (await store.ClaimRunAsync("r1", "host-c", now.AddMinutes(4), now.AddMinutes(5), cancellationToken: Token)).Should().BeNull("host-b's lease expired");
        await store.ReleaseRunAsync("r1", "host-b", Token);
        (await store.ClaimRunAsync("r1", "host-b", now.AddMinutes(4), now.AddMinutes(5), cancellationToken: Token)).Should().Be(new RunLeaseHolder("host-c", now.AddMinutes(5)), "only the holder releases");
        await store.ReleaseRunAsync("r1", "host-c", Token);
        (await store.ClaimRunAsync("r1", "host-b", now.AddMinutes(4), now.AddMinutes(5), cancellationToken: Token)).Should().BeNull();
        (await store.ClaimRunAsync("none", "host-b", now, now.AddMinutes(1), cancellationToken: Token))!.Owner.Should().StartWith("nobody");
    }

    [Fact]
    public async Task Artefacts_and_cached_responses_are_kept_by_key_and_responses_expire()
    {
        await using var store = await OpenEmptyAsync();
        await store.PutBlobAsync("classifier", [1, 2, 3], Token);
        await store.PutBlobAsync("classifier", [4, 5], Token);
        await store.PutCachedResponseAsync("kept", [7], Monday, null, Token);
        await store.PutCachedResponseAsync("expiring", [8], Monday, Monday.AddDays(1), Token);

        (await store.GetBlobAsync("classifier", Token)).Should().Equal(4, 5);
        (await store.GetBlobAsync("other", Token)).Should().BeNull();
        (await store.GetCachedResponseAsync("kept", Monday.AddYears(5), Token)).Should().Equal(7);
        (await store.GetCachedResponseAsync("expiring", Monday.AddHours(23), Token)).Should().Equal(8);
        (await store.GetCachedResponseAsync("expiring", Monday.AddDays(1), Token)).Should().BeNull();
        (await store.GetCachedResponseAsync("missing", Monday, Token)).Should().BeNull();
    }

    [Fact]
    public async Task Embeddings_are_cached_per_embedder_and_text_hash_and_replaced_when_stored_again()
    {
        await using var store = await OpenEmptyAsync();
        await store.PutEmbeddingsAsync("hashed-256", [new(1, [0.5f, -1f]), new(2, [0.25f, 0f])], Token);
        await store.PutEmbeddingsAsync("hashed-256", [new(2, [1f, 1f])], Token);
        await store.PutEmbeddingsAsync("minilm", [new(1, [9f])], Token);

        var found = await store.GetEmbeddingsAsync("hashed-256", [1, 2, 3], Token);

        found.Keys.Should().BeEquivalentTo([(UInt128)1, (UInt128)2]);
        found[1].Should().Equal(0.5f, -1f);
        found[2].Should().Equal(1f, 1f);
        (await store.GetEmbeddingsAsync("minilm", [1, 2], Token))[1].Should().Equal(9f);
        (await store.GetEmbeddingsAsync("other", [1], Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task A_sound_store_reports_its_schema_version_and_no_problem()
    {
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([Trace("a", Monday, "balance")], Token);

        store.SchemaVersion.Should().BePositive();
        (await store.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();
        (await store.CheckIntegrityAsync(quick: true, cancellationToken: Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task Pruning_deletes_the_raw_traces_before_the_cutoff_and_keeps_the_rollup_the_keys_and_a_sound_store()
    {
        // Given 120 traces every 8 hours over 40 days from 20 May, with feedback, over two months, one made of parts
        await using var store = await OpenEmptyAsync();
        var start = Monday.AddDays(-12);
        var traces = Enumerable.Range(0, 120).Select(i => Trace(
            $"p{i:000}",
            start.AddHours(8 * i),
            i % 3 == 0 ? "card" : "balance",
            i % 2 == 0 ? "plan=free" : "plan=pro",
            new Feedback(Thumbs: i % 4 == 0 ? 1 : i % 4 == 1 ? -1 : null, Escalated: i % 5 == 0 ? true : null))).ToList();
        await store.AddTracesAsync(traces[1..], Token);
        await store.MergeTracesAsync([Part(traces[0])], (stored, _) => stored, null, Token);
        (DateTimeOffset, DateTimeOffset)[] days = [(start, start.AddDays(9)), (start.AddDays(9), start.AddDays(16)), (start.AddDays(16), start.AddDays(40))];
        var weekly = await store.CountTrafficAsync(new TrafficQuery(Period: Period.Week), Token);
        var feedback = await store.CountFeedbackBySegmentsAsync(days, Token);
        var span = await store.GetTrafficSpanAsync(Token);
        (await store.GetPrunedBeforeAsync(Token)).Should().BeNull();

        // When a prune before 4 June 05:00 is planned, then run (a cutoff within a day prunes up to its midnight)
        var cutoff = Monday.AddDays(3);
        var gone = traces.Where(t => t.Trace.Timestamp < cutoff).ToList();
        var plan = await store.PlanPruneAsync(cutoff.AddHours(5), Token);
        var reports = new List<PruneSummary>();
        var pruned = await store.PruneTracesAsync(cutoff.AddHours(5), new SynchronousProgress<PruneSummary>(reports.Add), Token);

        // Then the plan named what went: the traces before midnight, their days and months
        (plan.Before, plan.Traces, plan.Days).Should().Be((cutoff, (long)gone.Count, 15));
        plan.Months.Should().Equal("2026-05", "2026-06");
        (pruned.Before, pruned.Traces, pruned.Days).Should().Be((plan.Before, plan.Traces, plan.Days));
        pruned.Months.Should().Equal(plan.Months);
        reports.Should().NotBeEmpty().And.Subject.Last().Traces.Should().Be(gone.Count);
        (await store.GetPrunedBeforeAsync(Token)).Should().Be(cutoff);

        // And no raw trace before the cutoff is read any more, while the later ones are all there
        (await ScanAsync(store)).Select(t => t.Key).Should().Equal(traces.Where(t => t.Trace.Timestamp >= cutoff).Select(t => t.Key));
        var heads = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(start, cutoff, withKeys: true, heads.Add, Token);
        heads.Should().BeEmpty();
        (await store.FindTraceAsync(gone[5].Key, Token)).Should().BeNull();
        var search = await Workflows.TraceSearchUseCase.RunAsync(new Workflows.TraceSearch(start, cutoff), store, Token);
        search.Scanned.Should().Be(0);
        search.Traces.Should().BeEmpty();
        Retention.PrunedNote(await store.GetPrunedBeforeAsync(Token), start, cutoff, "coverage", out var whole).Should().Contain("were pruned");
        whole.Should().BeTrue("the window lies before the cutoff: an instrument that reads raw traces says so");

        // And the counts of whole days, the feedback and the span are what they were
        (await store.CountTrafficAsync(new TrafficQuery(Period: Period.Week), Token)).Should().Equal(weekly);
        var after = await store.CountFeedbackBySegmentsAsync(days, Token);
        for (var i = 0; i < days.Length; i++)
        {
            after[i].Should().BeEquivalentTo(feedback[i], $"segment {i}");
        }

        (await store.GetTrafficSpanAsync(Token)).Should().Be(span);

        // And a pruned trace sent again, whole or as a part with new feedback, is not stored or counted a second time
        (await store.AddTracesAsync(gone, Token)).Should().Be(new StoreBatchResult(0, gone.Count));
        var merged = await store.MergeTracesAsync(
            [Part(gone[0]), new TraceUpdate(gone[1].Key, null, new Feedback(Thumbs: 1))],
            (stored, update) => stored with { Trace = stored.Trace with { Feedback = update.Feedback } },
            null,
            Token);
        (merged.Added, merged.Merged, merged.Unchanged).Should().Be((0, 0, 2));
        (await store.CountTrafficAsync(new TrafficQuery(Period: Period.Week), Token)).Should().Equal(weekly);
        (await ScanAsync(store)).Should().HaveCount(traces.Count - gone.Count);

        // And new traffic is stored as before, the store is sound, and a second prune finds nothing left to do
        (await store.AddTracesAsync([Trace("new", Monday.AddDays(40), "card")], Token)).Added.Should().Be(1);
        (await store.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();
        (await store.PruneTracesAsync(cutoff, cancellationToken: Token)).Traces.Should().Be(0);
        (await store.GetPrunedBeforeAsync(Token)).Should().Be(cutoff);
    }

    [Fact]
    public async Task Pruning_every_trace_keeps_the_rollups_span_and_later_traces_are_stored_and_read_back()
    {
        // Given three days of traffic, all pruned
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([Trace("a", Monday.AddHours(1), "card"), Trace("b", Monday.AddDays(1).AddHours(2), "card"), Trace("c", Monday.AddDays(2).AddHours(3), "balance")], Token);
        (await store.PruneTracesAsync(Monday.AddDays(5), cancellationToken: Token)).Traces.Should().Be(3);

        // When later traces come, one of them a pruned one sent again
        var result = await store.AddTracesAsync([Trace("b", Monday.AddDays(1).AddHours(2), "card"), Trace("d", Monday.AddDays(6), "card"), Trace("e", Monday.AddDays(6).AddHours(1), "card")], Token);

        // Then only the new ones are stored and read back, and the span runs from the first pruned day to the last trace
        result.Should().Be(new StoreBatchResult(2, 1));
        (await ScanAsync(store)).Select(t => t.Key).Should().Equal("id:d", "id:e");
        var merged = await store.MergeTracesAsync([new TraceUpdate("id:d", null, new Feedback(Thumbs: 1))], (stored, update) => stored with { Trace = stored.Trace with { Feedback = update.Feedback } }, null, Token);
        merged.Merged.Should().Be(1);
        (await store.FindTraceAsync("id:d", Token))!.Trace.Feedback.Thumbs.Should().Be(1);
        (await store.GetTrafficSpanAsync(Token)).Should().Be(new TrafficSpan(Monday, Monday.AddDays(6).AddHours(1), 5));
        (await store.CheckIntegrityAsync(cancellationToken: Token)).Should().BeEmpty();
    }

    [Fact]
    public async Task Artefacts_are_listed_by_prefix_with_their_size_and_deleted_by_key()
    {
        await using var store = await OpenEmptyAsync();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await store.PutBlobAsync("view:a", [1, 2, 3], Token);
        await store.PutBlobAsync("view:b", [4], Token);
        await store.PutBlobAsync("view_c", [5], Token);
        await store.PutBlobAsync("classifier", [6], Token);

        var listed = await store.ListBlobsAsync("view:", Token);
        await store.DeleteBlobsAsync(["view:a", "absent"], Token);

        listed.Select(b => (b.Key, b.Bytes)).Should().BeEquivalentTo([("view:a", 3L), ("view:b", 1L)]);
        listed.Should().OnlyContain(b => b.Updated >= before);
        (await store.ListBlobsAsync("view", Token)).Select(b => b.Key).Should().BeEquivalentTo(["view:b", "view_c"]);
        (await store.GetBlobAsync("view:a", Token)).Should().BeNull();
        (await store.GetBlobAsync("classifier", Token)).Should().Equal(6);
    }

    /// <summary>A progress that reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private static async Task<List<ClassifiedTrace>> ScanAsync(IRecalStore store, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        var traces = new List<ClassifiedTrace>();
        await store.ScanTracesAsync(from, to, traces.Add, Token);
        return traces;
    }

    [Fact]
    public async Task Sample_rows_carry_each_traces_key_stratum_priority_text_and_metadata_and_name_it_for_a_whole_fetch()
    {
        // Given traces in and out of a window, one with metadata and a text beyond ASCII
        await using var store = await OpenEmptyAsync();
        var withMetadata = new ClassifiedTrace(
            new Trace("m", Monday.AddHours(2), TraceInput.FromText("café 😀 question"), "answer", "bot", new Dictionary<string, string> { ["plan"] = "pro", ["note"] = "a \"quoted\" value" }, Feedback.None, null),
            TraceKeys.IdPrefix + "m", "card", IntentSource.Classifier, 0.75, "plan=pro");
        await store.AddTracesAsync([Trace("a", Monday.AddHours(1), "balance"), withMetadata, Trace("late", Monday.AddDays(2), "balance")], Token);

        // When the window's rows are read, and the traces they name fetched whole
        var rows = new List<(string Key, string Intent, string Cohort, ulong Priority, string Input, Dictionary<string, string>? Metadata, long Position)>();
        await store.ScanSampleRowsAsync(Monday, Monday.AddDays(1), (in SampleRow row) => rows.Add((
            System.Text.Encoding.UTF8.GetString(row.Key), row.Intent, row.CohortKey, row.StoredPriority, System.Text.Encoding.UTF8.GetString(row.Input),
            row.Metadata.IsEmpty ? null : System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(row.Metadata), row.Position)), Token);
        var whole = await store.GetTracesAsync([.. rows.Select(r => new TraceRef(r.Key, r.Position)), new TraceRef("id:absent", 999_999)], Token);

        // Then each row is its trace's, with the priority of the stored seed, and the fetch returns the traces whole
        rows.Select(r => r.Key).Should().BeEquivalentTo(["id:a", "id:m"]);
        var m = rows.Single(r => r.Key == "id:m");
        (m.Intent, m.Cohort, m.Input).Should().Be(("card", "plan=pro", "café 😀 question"));
        m.Metadata.Should().BeEquivalentTo(withMetadata.Trace.Metadata);
        rows.Single(r => r.Key == "id:a").Metadata.Should().BeNull();
        rows.Should().OnlyContain(r => r.Priority == Recal.Ingest.SamplePriority.Of(Recal.Ingest.SamplePriority.StoredSeed, r.Key));
        whole.Select(t => t.Key).Should().BeEquivalentTo(["id:a", "id:m"]);
        whole.Single(t => t.Key == "id:m").Trace.Metadata.Should().BeEquivalentTo(withMetadata.Trace.Metadata);
    }

    [Fact]
    public async Task A_trace_is_found_whole_by_its_key_and_an_absent_key_finds_nothing()
    {
        // Given three stored traces
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([Trace("a", Monday, "balance"), Trace("b", Monday.AddHours(1), "card", output: "the answer"), Trace("c", Monday.AddHours(2), "balance")], Token);

        // When one is looked up by its key, and a key no trace has
        var found = await store.FindTraceAsync("id:b", Token);
        var absent = await store.FindTraceAsync("id:zz", Token);

        // Then the trace comes back whole, and the absent key gives null
        found.Should().NotBeNull();
        (found!.Key, found.Intent, found.Trace.Output, found.Trace.Input.Text).Should().Be(("id:b", "card", "the answer", "x b"));
        absent.Should().BeNull();
    }

    [Fact]
    public async Task Traces_are_found_whole_by_their_keys_at_once_and_keys_no_trace_has_are_left_out()
    {
        // Given traces in three different months
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([Trace("a", Monday, "balance"), Trace("b", Monday.AddDays(35), "card", output: "the answer"), Trace("c", Monday.AddDays(70), "balance")], Token);

        // When two stored keys (one named twice) and an absent one are looked up together, and none at all
        var found = await store.FindTracesAsync(["id:c", "id:zz", "id:b", "id:c"], Token);
        var none = await store.FindTracesAsync([], Token);

        // Then each stored trace comes back once and whole, the absent key adds nothing
        found.Select(t => (t.Key, t.Intent, t.Trace.Timestamp, t.Trace.Output, t.Trace.Input.Text)).Should().BeEquivalentTo(
            [("id:b", "card", Monday.AddDays(35), (string?)"the answer", "x b"), ("id:c", "balance", Monday.AddDays(70), (string?)null, "x c")]);
        none.Should().BeEmpty();
    }

    [Fact]
    public async Task Heads_read_back_their_texts_by_position_and_timestamp_as_by_position_alone()
    {
        // Given traces in different months, and their heads
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([Trace("a", Monday, "balance"), Trace("b", Monday.AddDays(35), "card"), Trace("c", Monday.AddDays(70), "card"), Trace("d", Monday.AddDays(70), "loan")], Token);
        var heads = new List<TraceHead>();
        await store.ScanTraceHeadsAsync(null, null, withKeys: false, heads.Add, Token);

        // When three of them (one given twice) and a position no trace holds are read by head
        TraceHead[] asked = [heads[2], heads[0], heads[3], heads[0], heads[0] with { Position = -42 }];
        var texts = await store.GetHeadTextsAsync(asked, Token);

        // Then the texts are those read by position alone, the unknown position absent
        var byPosition = await store.GetClassificationTextsAsync([heads[0].Position, heads[2].Position, heads[3].Position], Token);
        texts.Should().BeEquivalentTo(byPosition).And.HaveCount(3);
        texts.Keys.Should().BeEquivalentTo(new[] { heads[0].Position, heads[2].Position, heads[3].Position });
    }

    [Fact]
    public async Task A_trace_search_on_feedback_certainty_and_text_read_from_the_search_rows_finds_what_the_filter_finds_on_whole_traces()
    {
        // Given 90 traces over four days with every kind of feedback, classifier certainty and texts beyond ASCII
        await using var store = await OpenEmptyAsync();
        Feedback[] feedback = [Feedback.None, new(Thumbs: 1), new(Thumbs: -1), new(Escalated: true), new(Csat: 4), new(Thumbs: -1, Escalated: false)];
        string[] texts = ["where is my Card", "café balance ÉTÉ", "reset PIN please", "x"];
        var traces = Enumerable.Range(0, 90).Select(i => new ClassifiedTrace(
            new Trace($"q{i:00}", Monday.AddHours(i * 1.05), TraceInput.FromText($"{texts[i % texts.Length]} {i}"), "answer", "bot", new Dictionary<string, string>(), feedback[i % feedback.Length], null),
            TraceKeys.IdPrefix + $"q{i:00}",
            i % 7 == 0 ? Taxonomy.UnknownIntent : i % 3 == 0 ? "card" : "balance",
            i % 7 == 0 ? IntentSource.Unknown : i % 5 == 0 ? IntentSource.Label : IntentSource.Classifier,
            i % 7 == 0 ? 0 : (i % 10) / 10.0,
            i % 2 == 0 ? "plan=free" : "plan=pro")).ToList();
        await store.AddTracesAsync(traces, Token);

        // When searches filter on feedback, certainty and text, alone and with the window, intent and cohort
        Workflows.TraceSearch[] searches =
        [
            new(Monday, null, Feedback: "up"),
            new(Monday, null, Feedback: "down", Limit: 4),
            new(Monday, null, Feedback: "escalated", Cohort: "plan=pro"),
            new(Monday, null, Feedback: "none"),
            new(Monday, null, Uncertain: true),
            new(Monday.AddDays(1), Monday.AddDays(3), Uncertain: true, ConfidenceBelow: 0.45),
            new(Monday, null, Text: "CAFÉ", Limit: 3),
            new(Monday, null, Intent: "card", Text: "card"),
            new(Monday, null, Text: "nothing has this"),
        ];
        foreach (var search in searches)
        {
            var found = await Workflows.TraceSearchUseCase.RunAsync(search, store, Token);

            // Then each finds what the filter finds on the whole traces of its window: the count, the newest first, whole
            var window = traces.Where(t => t.Trace.Timestamp >= search.From && (search.To is null || t.Trace.Timestamp < search.To)).ToList();
            var expected = window.Where(search.Matches).OrderByDescending(t => t.Trace.Timestamp).ToList();
            (found.Matched, found.Scanned).Should().Be((expected.Count, window.Count), search.ToString());
            found.Traces.Select(t => t.Key).Should().Equal(expected.Take(search.Limit).Select(t => t.Key), search.ToString());
            found.Traces.Where(t => t.Trace.Output != "answer").Should().BeEmpty("a found trace comes back whole");
        }
    }

    [Fact]
    public async Task A_trace_search_on_intent_and_cohort_read_from_the_heads_finds_what_a_scan_of_whole_traces_finds()
    {
        // Given 60 traces over three days, two intents and two cohorts
        await using var store = await OpenEmptyAsync();
        await store.AddTracesAsync([.. Enumerable.Range(0, 60).Select(i => Trace($"s{i:00}", Monday.AddHours(i * 1.2), i % 3 == 0 ? "card" : "balance", i % 2 == 0 ? "plan=free" : "plan=pro"))], Token);

        // When the same filters are searched through the heads (no text filter) and through whole traces (a text every input has)
        foreach (var (intent, cohort, from, limit) in new[] { ("card", (string?)null, Monday, 5), ("balance", "plan=pro", Monday.AddDays(1), 200), (null, null, Monday, 7) })
        {
            var heads = await Workflows.TraceSearchUseCase.RunAsync(new Workflows.TraceSearch(from, null, intent, cohort, Limit: limit), store, Token);
            var whole = await Workflows.TraceSearchUseCase.RunAsync(new Workflows.TraceSearch(from, null, intent, cohort, Text: "x ", Limit: limit), store, Token);

            // Then both count the same matches and return the same newest traces, newest first, whole
            (heads.Matched, heads.Scanned).Should().Be((whole.Matched, whole.Scanned), $"{intent} {cohort}");
            heads.Traces.Select(t => t.Key).Should().Equal(whole.Traces.Select(t => t.Key), $"{intent} {cohort}");
            heads.Traces.Should().BeInDescendingOrder(t => t.Trace.Timestamp);
            heads.Traces.Should().OnlyContain(t => t.Trace.Input.Text!.StartsWith("x ", StringComparison.Ordinal));
        }
    }

    private static ClassifiedTrace Trace(string id, DateTimeOffset time, string intent, string cohort = "plan=free", Feedback? feedback = null, string? model = null, string? output = null) =>
        new(new Trace(id, time, TraceInput.FromText("x " + id), output, model, new Dictionary<string, string>(), feedback ?? Feedback.None, null), TraceKeys.IdPrefix + id, intent, IntentSource.Classifier, 0.75, cohort);

    private static TraceUpdate Part(ClassifiedTrace trace) => new(trace.Key, trace, trace.Trace.Feedback);

    private static RunInfo Run(string id, DateTimeOffset started, string target = "bot", IReadOnlyList<Pool>? pools = null, string suite = "v1") =>
        new(id, "demo", target, "{\"name\":\"" + target + "\"}", suite, PoolSet.Of(pools ?? [Pool.Gold]), 3, null, started, null, RunStatus.Running);

    private static RunCaseRecord Result(string caseId, string pool, string output) =>
        new(caseId, "balance", "plan=free", "easy", pool, output, null, true, [new Scoring.ScoreResult("contains", 1, true, null)], null, 12.5, 10, 20, 0.001, 1, false, Monday.AddMinutes(5));
}
