using System.Text;
using System.Text.Json;
using FluentAssertions;
using Recal.Ingest;
using Xunit;

namespace Recal.Storage.Sqlite.Tests;

public sealed class IngestPipelineTests : IDisposable
{
    private readonly StoreFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    [Fact]
    public async Task Quarantines_bad_lines_with_line_number_and_reason_and_stores_the_rest()
    {
        // Given a file with good lines, invalid JSON, a wrong type, a missing field and a blank line, with CRLF endings
        var path = _fixture.WriteText("mixed.jsonl", string.Join("\r\n",
            StoreFixture.Line(1),
            "{\"id\":\"bad-json\",",
            "{\"id\":\"wrong\",\"timestamp\":\"2026-06-01T00:00:00Z\",\"input\":42}",
            "   ",
            "{\"id\":\"no-ts\",\"input\":\"hello\"}",
            StoreFixture.Line(2)) + "\r\n");
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // When it is ingested
        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        // Then the good lines are stored, the bad ones quarantined with where and why
        summary.Should().BeEquivalentTo(new { LinesRead = 6L, Added = 2L, Duplicates = 0L, Quarantined = 3L, Blank = 1L });
        var quarantined = File.ReadAllLines(_fixture.QuarantinePath).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        quarantined.Select(q => q.GetProperty("line").GetInt32()).Should().Equal(2, 3, 5);
        quarantined.Select(q => q.GetProperty("code").GetString()).Should().Equal("RC2001", "RC2003", "RC2004");
        quarantined[1].GetProperty("reason").GetString().Should().Contain("'input' must be a string");
        quarantined[0].GetProperty("raw").GetString().Should().Be("{\"id\":\"bad-json\",");
        quarantined[0].GetProperty("source").GetString().Should().Be("mixed.jsonl");
    }

    [Fact]
    public async Task A_quarantined_line_keeps_its_own_bytes_though_the_reader_reuses_its_batch_s_buffer()
    {
        // Given a file of many batches (4,096 lines each) whose batches each hold bad lines of their own text
        var lines = new List<string>();
        var bad = new Dictionary<int, string>();
        for (var i = 1; i <= 12 * IngestPipeline.BatchLines; i++)
        {
            if (i % 997 == 0)
            {
                bad[i] = $"{{\"id\":\"bad-{i}\",\"input\":";
                lines.Add(bad[i]);
            }
            else
            {
                lines.Add(StoreFixture.Line(i));
            }
        }

        var path = _fixture.WriteText("many.jsonl", string.Join("\n", lines) + "\n");
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // When it is ingested (the read stage refills buffers that parsed batches gave back while the store writes)
        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        // Then every quarantined record holds exactly its own line
        summary.Quarantined.Should().Be(bad.Count);
        var quarantined = File.ReadAllLines(_fixture.QuarantinePath).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        quarantined.Should().HaveCount(bad.Count);
        foreach (var record in quarantined)
        {
            record.GetProperty("raw").GetString().Should().Be(bad[record.GetProperty("line").GetInt32()]);
        }
    }

    [Fact]
    public async Task Ingesting_the_same_file_twice_adds_nothing_the_second_time()
    {
        var path = _fixture.WriteText("t.jsonl", string.Join('\n', Enumerable.Range(1, 50).Select(i => StoreFixture.Line(i))) + "\n" + StoreFixture.Line(7));
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var first = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);
        var second = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        first.Added.Should().Be(50);
        first.Duplicates.Should().Be(1);
        second.Added.Should().Be(0);
        second.Duplicates.Should().Be(51);
        (await store.GetIngestLogAsync(cancellationToken: TestContext.Current.CancellationToken)).Should().HaveCount(2).And.OnlyContain(e => e.Finished != null);
    }

    [Fact]
    public async Task Gzip_is_detected_by_content_not_extension()
    {
        var path = _fixture.WriteGzip("traces.data", StoreFixture.Line(1) + "\n" + StoreFixture.Line(2));
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        summary.Added.Should().Be(2);
    }

    [Fact]
    public async Task Empty_file_ingests_nothing_and_says_so()
    {
        var path = _fixture.WriteText("empty.jsonl", string.Empty);
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        summary.LinesRead.Should().Be(0);
        summary.Added.Should().Be(0);
        File.Exists(_fixture.QuarantinePath).Should().BeFalse();
    }

    [Fact]
    public async Task A_ten_megabyte_line_is_stored_and_the_next_line_too()
    {
        var big = "{\"id\":\"big\",\"timestamp\":\"2026-06-01T00:00:00Z\",\"input\":\"" + new string('x', 10 * 1024 * 1024) + "\"}";
        var path = _fixture.WriteText("big.jsonl", big + "\n" + StoreFixture.Line(1) + "\n");
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        summary.Added.Should().Be(2);
        summary.Quarantined.Should().Be(0);
    }

    [Fact]
    public async Task A_line_beyond_the_length_limit_is_quarantined_without_buffering_it()
    {
        var huge = "{\"id\":\"huge\",\"input\":\"" + new string('x', TraceFileReader.MaxLineBytes + 10) + "\"}";
        var path = _fixture.WriteText("huge.jsonl", StoreFixture.Line(1) + "\n" + huge + "\n" + StoreFixture.Line(2));
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        summary.Added.Should().Be(2);
        summary.Quarantined.Should().Be(1);
        File.ReadAllText(_fixture.QuarantinePath).Should().Contain("\"line\":2").And.Contain("RC2006");
    }

    [Fact]
    public async Task Invalid_utf8_is_quarantined_and_the_raw_line_kept_readable()
    {
        var bytes = Encoding.UTF8.GetBytes(StoreFixture.Line(1) + "\n").Concat(Encoding.UTF8.GetBytes("{\"id\":\"u\",\"timestamp\":\"2026-06-01T00:00:00Z\",\"input\":\"caf")).Concat(new byte[] { 0xE9, 0x22, 0x7D, 0x0A }).ToArray();
        var path = Path.Combine(_fixture.Folder, "latin1.jsonl");
        await File.WriteAllBytesAsync(path, bytes, TestContext.Current.CancellationToken);
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        summary.Added.Should().Be(1);
        var quarantined = JsonDocument.Parse(File.ReadAllLines(_fixture.QuarantinePath).Single()).RootElement;
        quarantined.GetProperty("reason").GetString().Should().Contain("UTF-8");
        quarantined.GetProperty("raw").GetString().Should().Contain("caf\uFFFD");
    }

    [Fact]
    public async Task Cancelled_ingest_keeps_committed_batches_and_a_rerun_completes_the_file()
    {
        // Given a file of several batches
        var count = (IngestPipeline.BatchLines * 30) + 17;
        var path = _fixture.WriteText("many.jsonl", string.Join('\n', Enumerable.Range(1, count).Select(i => StoreFixture.Line(i))));
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);

        // When the ingest is stopped after the first batch is stored
        using var stop = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Added > 0)
            {
                stop.Cancel();
            }
        });
        var act = () => IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, progress, stop.Token);
        await act.Should().ThrowAsync<OperationCanceledException>();
        var kept = (await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count;

        // Then what was committed is kept, and running again completes the file without duplicates
        kept.Should().BeGreaterThanOrEqualTo(IngestPipeline.BatchLines).And.BeLessThan(count);
        var rerun = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);
        rerun.Added.Should().Be(count - kept);
        (await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count.Should().Be(count);
    }

    [Fact]
    public async Task Store_abandoned_mid_ingest_reopens_consistent_and_a_rerun_completes_it()
    {
        // Given a store whose connection is dropped without disposing after one committed batch (as when the process is killed)
        var path = _fixture.WriteText("kill.jsonl", string.Join('\n', Enumerable.Range(1, 100).Select(i => StoreFixture.Line(i))));
        var abandoned = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var interrupted = await abandoned.BeginIngestAsync(path, TestContext.Current.CancellationToken);
        var firstHalf = Enumerable.Range(1, 40).Select(i => StoreFixture.Classify(TraceLineParser.Parse(Encoding.UTF8.GetBytes(StoreFixture.Line(i))).Trace!, "id:t-" + i)).ToList();
        await abandoned.AddTracesAsync(firstHalf, interrupted, TestContext.Current.CancellationToken);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();

        // When the store is reopened and the file ingested
        await using var store = await SqliteStore.OpenAsync(_fixture.StorePath, TestContext.Current.CancellationToken);
        var summary = await IngestPipeline.RunAsync(path, store, StoreFixture.Classify, _fixture.QuarantinePath, cancellationToken: TestContext.Current.CancellationToken);

        // Then the file is complete, with no duplicates, and the interrupted ingest shows as unfinished in the log
        summary.Added.Should().Be(60);
        summary.Duplicates.Should().Be(40);
        (await store.GetTrafficSpanAsync(TestContext.Current.CancellationToken))!.Count.Should().Be(100);
        (await store.GetIngestLogAsync(cancellationToken: TestContext.Current.CancellationToken)).Should().Contain(e => e.Finished == null);
        await abandoned.DisposeAsync();
    }

    /// <summary>Reports on the calling thread, so the test can cancel at a precise point.</summary>
    private sealed class SynchronousProgress(Action<IngestProgress> report) : IProgress<IngestProgress>
    {
        public void Report(IngestProgress value) => report(value);
    }
}
