using System.Text.Json;
using FluentAssertions;
using Recal.Ingest;
using Recal.Testing;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

/// <summary>Bad lines, bad clocks and failing stores: none may hang an ingest or cost it the rest of the file.</summary>
public sealed class IngestFaultTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("""{"id":"\ud800","timestamp":"2026-07-01T00:00:00Z","input":"x"}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":"\ud800"}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":[{"role":"user","content":"a\udc00b"}]}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":[{"role":"\ud800","content":"x"}]}""")]
    [InlineData("""{"id":"s","timestamp":"\ud800","input":"x"}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":"x","output":"\ud800"}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":"x","model":"\ud800"}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":"x","intent":"\ud800"}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":"x","metadata":{"\ud800":"v"}}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":"x","metadata":{"plan":"\ud800"}}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":"x","feedback":{"\ud800":true}}""")]
    [InlineData("""{"id":"s","timestamp":"2026-07-01T00:00:00Z","input":"x","feedback":{"thumbs":"\ud800"}}""")]
    public async Task A_lone_surrogate_in_any_string_field_quarantines_that_line_and_stores_the_rest(string bad)
    {
        // Given a file whose first line has an escaped lone surrogate
        var path = _fixture.WriteText("s.jsonl", bad + "\n" + StoreFixture.Line(1) + "\n" + StoreFixture.Line(2) + "\n");
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        // When it is ingested
        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        // Then that line is quarantined with its reason and the others are stored
        summary.Failure.Should().BeNull();
        summary.Added.Should().Be(2);
        summary.Quarantined.Should().Be(1);
        var entry = JsonDocument.Parse(File.ReadAllLines(_fixture.QuarantinePath).Single()).RootElement;
        entry.GetProperty("line").GetInt32().Should().Be(1);
        entry.GetProperty("code").GetString().Should().StartWith("RC200");
    }

    [Fact]
    public async Task A_store_that_fails_mid_file_ends_the_ingest_with_what_was_committed_instead_of_hanging()
    {
        // Given a file of 20 batches and a store whose writes fail after 3 (a full disk)
        var count = IngestPipeline.BatchLines * 20;
        var path = _fixture.WriteText("full.jsonl", string.Join('\n', Enumerable.Range(1, count).Select(i => StoreFixture.Line(i))));
        await using var real = await SqliteStore.OpenAsync(_fixture.StorePath, Token);
        var failing = FaultInjectingStore.Wrap(real, failAfterWrites: 3);

        // When it is ingested
        var summary = await IngestPipeline.RunAsync(path, failing, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        // Then the ingest ends with a located error saying how much was committed and how to resume
        summary.Failure.Should().NotBeNull();
        summary.Failure!.Code.Should().Be("RC3002");
        summary.Failure.Location!.File.Should().Be(Path.GetFullPath(path));
        summary.Failure.Message.Should().Contain("3 committed batch(es)").And.Contain(FaultInjectingStore.FailureMessage);
        summary.Failure.Hint.Should().Contain("run the same ingest again");
        summary.Added.Should().Be(3 * IngestPipeline.BatchLines);
        (await real.GetTrafficSpanAsync(Token))!.Count.Should().Be(3 * IngestPipeline.BatchLines);

        // And a rerun on a healthy store completes the file with no duplicates
        var rerun = await IngestPipeline.RunAsync(path, real, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);
        rerun.Failure.Should().BeNull();
        rerun.Added.Should().Be(count - (3 * IngestPipeline.BatchLines));
        (await real.GetTrafficSpanAsync(Token))!.Count.Should().Be(count);
    }

    [Fact]
    public async Task A_store_that_fails_on_the_first_batch_ends_the_ingest_too()
    {
        var path = _fixture.WriteText("first.jsonl", string.Join('\n', Enumerable.Range(1, IngestPipeline.BatchLines * 6).Select(i => StoreFixture.Line(i))));
        await using var real = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        var summary = await IngestPipeline.RunAsync(path, FaultInjectingStore.Wrap(real, failAfterWrites: 0), StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        summary.Failure!.Message.Should().Contain("0 committed batch(es)");
        summary.Added.Should().Be(0);
    }

    [Fact]
    public async Task One_bad_line_in_the_middle_of_a_long_file_costs_only_that_line()
    {
        // Given 30,000 lines with a lone surrogate on line 5,000
        const int count = 30_000;
        var lines = Enumerable.Range(1, count).Select(i => i == 5_000 ? """{"id":"bad","timestamp":"2026-07-01T00:00:00Z","input":"\ud800"}""" : StoreFixture.Line(i));
        var path = _fixture.WriteText("long.jsonl", string.Join('\n', lines));
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        // When it is ingested
        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        // Then every other record is stored
        summary.Should().BeEquivalentTo(new { LinesRead = (long)count, Added = count - 1L, Quarantined = 1L, Failure = (object?)null });
        (await store.GetTrafficSpanAsync(Token))!.Count.Should().Be(count - 1);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_byte_order_mark_at_the_start_of_a_trace_file_is_skipped(bool gzip)
    {
        var text = "\uFEFF" + StoreFixture.Line(1) + "\n" + StoreFixture.Line(2);
        var path = gzip ? _fixture.WriteGzip("bom.jsonl.gz", text) : _fixture.WriteText("bom.jsonl", text);
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        summary.Added.Should().Be(2);
        summary.Quarantined.Should().Be(0);
    }

    [Fact]
    public async Task Rerunning_an_ingest_quarantines_each_bad_line_once()
    {
        // Given a file with two bad lines, ingested twice
        var path = _fixture.WriteText("twice.jsonl", string.Join('\n', StoreFixture.Line(1), "{broken", StoreFixture.Line(2), "[1]"));
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);
        await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        // When it is ingested again
        var second = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        // Then the rerun still counts them, but the quarantine file holds each once
        second.Quarantined.Should().Be(2);
        File.ReadAllLines(_fixture.QuarantinePath).Should().HaveCount(2);
    }

    [Fact]
    public async Task A_trace_dated_beyond_the_horizon_is_quarantined_with_the_reason()
    {
        // Given an ingest at 2026-07-02 12:00 and traces dated a few hours later, two days later and in 9999
        var now = new DateTimeOffset(2026, 7, 2, 12, 0, 0, TimeSpan.Zero);
        var path = _fixture.WriteText("future.jsonl", string.Join('\n',
            StoreFixture.Line(1, now.AddHours(6)),
            StoreFixture.Line(2, now.AddDays(2)),
            """{"id":"far","timestamp":"9999-12-31T00:00:00Z","input":"x"}"""));
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        // When it is ingested
        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token, time: new FixedTime(now));

        // Then only the trace within a day of the ingest time is stored
        summary.Added.Should().Be(1);
        var quarantined = File.ReadAllLines(_fixture.QuarantinePath).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        quarantined.Select(q => q.GetProperty("code").GetString()).Should().Equal("RC2007", "RC2007");
        quarantined[1].GetProperty("reason").GetString().Should().Contain("9999-12-31").And.Contain("after the ingest time (2026-07-02T12:00:00Z)");
    }

    [Fact]
    public async Task A_truncated_gzip_file_ends_with_a_located_error_and_keeps_what_was_read()
    {
        // Given a gzip file cut in half
        var full = _fixture.WriteGzip("cut.jsonl.gz", string.Join('\n', Enumerable.Range(1, 20_000).Select(i => StoreFixture.Line(i))));
        var bytes = await File.ReadAllBytesAsync(full, Token);
        await File.WriteAllBytesAsync(full, bytes[..(bytes.Length / 2)], Token);
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, Token);

        // When it is ingested
        var summary = await IngestPipeline.RunAsync(full, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: Token);

        // Then it ends (with or without an error, as the decompressor sees the cut) and what it stored is consistent
        (await store.GetTrafficSpanAsync(Token))?.Count.Should().Be(summary.Added);
        if (summary.Failure is { } failure)
        {
            failure.Code.Should().Be("RC2009");
        }
    }

    /// <summary>A clock stopped at one instant.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
