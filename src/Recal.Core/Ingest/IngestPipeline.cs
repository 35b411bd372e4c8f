using System.Threading.Channels;
using Recal.Domain;
using Recal.Storage;

namespace Recal.Ingest;

/// <summary>Progress of one file's ingest.</summary>
/// <param name="BytesRead">Position in the file on disk (compressed bytes for gzip).</param>
public sealed record IngestProgress(long BytesRead, long TotalBytes, long Lines, long Added, long Quarantined);

/// <summary>What one file's ingest did.</summary>
public sealed record IngestSummary(string Source, long LinesRead, long Added, long Duplicates, long Quarantined, long Blank, TimeSpan Elapsed)
{
    public double TracesPerSecond => Elapsed.TotalSeconds > 0 ? (Added + Duplicates) / Elapsed.TotalSeconds : 0;

    /// <summary>Time spent writing to the store; the rest of <see cref="Elapsed"/> went to reading, parsing and classifying.</summary>
    public TimeSpan StoreTime { get; init; }
}

/// <summary>
/// Streams a trace file into the store: read → parse and classify (in parallel) → store in batches, one
/// transaction each. Memory stays bounded (two batches in flight); a stop or a crash loses nothing committed,
/// and rerunning the same file completes it because stored keys are skipped.
/// </summary>
public static class IngestPipeline
{
    public const int BatchLines = 4096;
    private const int BatchBytes = 32 * 1024 * 1024;

    public static async Task<IngestSummary> RunAsync(
        string path,
        IRecalStore store,
        Func<Trace, string, ClassifiedTrace> classify,
        string quarantinePath,
        IProgress<IngestProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(classify);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var source = Path.GetFileName(path);
        var ingestId = await store.BeginIngestAsync(Path.GetFullPath(path), cancellationToken).ConfigureAwait(false);
        using var reader = new TraceFileReader(path);
        using var quarantine = new QuarantineWriter(quarantinePath);
        var raw = Channel.CreateBounded<RawBatch>(new BoundedChannelOptions(2) { SingleWriter = true });
        var parsed = Channel.CreateBounded<ParsedBatch>(new BoundedChannelOptions(2) { SingleReader = true });

        // Dedicated threads: one reads, one per core parses and classifies, and this method stores. Batches may be
        // stored out of file order; keys make that harmless.
        var workers = Math.Max(1, Environment.ProcessorCount - 1);
        var readerTask = Dedicated(() => Read(reader, raw.Writer, cancellationToken));
        var parserTasks = Enumerable.Range(0, workers).Select(_ => Dedicated(() => Parse(raw.Reader, parsed.Writer, classify))).ToArray();
        var completion = Task.WhenAll(parserTasks).ContinueWith(t => parsed.Writer.Complete(t.Exception), TaskScheduler.Default);

        long lines = 0, added = 0, duplicates = 0, blank = 0, position = 0;
        var storeTime = TimeSpan.Zero;
        try
        {
            await foreach (var batch in parsed.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                // The batch is committed whole even when a stop was requested meanwhile: it is completed work.
                var storing = System.Diagnostics.Stopwatch.GetTimestamp();
                var result = await store.AddTracesAsync(batch.Traces, CancellationToken.None).ConfigureAwait(false);
                storeTime += System.Diagnostics.Stopwatch.GetElapsedTime(storing);
                foreach (var reject in batch.Rejects)
                {
                    quarantine.Write(source, reject.Line, reject.Code, reject.Reason, reject.Raw.Span);
                }

                quarantine.Flush();
                lines = Math.Max(lines, batch.LastLine);
                position = Math.Max(position, batch.Position);
                blank += batch.Blank;
                added += result.Added;
                duplicates += result.Duplicates;
                progress?.Report(new IngestProgress(position, reader.Length, lines, added, quarantine.Count));
            }
        }
        finally
        {
            await readerTask.ConfigureAwait(false);
            await completion.ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        await store.EndIngestAsync(ingestId, lines, added, duplicates, quarantine.Count, CancellationToken.None).ConfigureAwait(false);
        return new IngestSummary(source, lines, added, duplicates, quarantine.Count, blank, watch.Elapsed) { StoreTime = storeTime };
    }

    private static Task Dedicated(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static void Read(TraceFileReader reader, ChannelWriter<RawBatch> writer, CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Each batch owns its lines and arena: a parser may still be reading the previous one.
                var lines = new List<RawLine>(BatchLines);
                var arena = new byte[1 << 20];
                if (!reader.ReadBatch(lines, ref arena, BatchLines, BatchBytes))
                {
                    break;
                }

                writer.WriteAsync(new RawBatch(lines, reader.Position), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }

            writer.Complete();
        }
        catch (Exception e)
        {
            writer.Complete(e);
        }
    }

    private static void Parse(ChannelReader<RawBatch> reader, ChannelWriter<ParsedBatch> writer, Func<Trace, string, ClassifiedTrace> classify)
    {
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            while (reader.TryRead(out var batch))
            {
                var traces = new List<ClassifiedTrace>(batch.Lines.Count);
                var rejects = new List<Reject>();
                var blank = 0;
                foreach (var line in batch.Lines)
                {
                    if (line.TooLong)
                    {
                        rejects.Add(new Reject(line.Number, "RC2006", $"the line is longer than {TraceFileReader.MaxLineBytes / (1024 * 1024)} MiB", line.Bytes));
                        continue;
                    }

                    if (IsBlank(line.Bytes.Span))
                    {
                        blank++;
                        continue;
                    }

                    var result = TraceLineParser.Parse(line.Bytes);
                    if (result.Trace is { } trace)
                    {
                        traces.Add(classify(trace, TraceKeys.For(trace)));
                    }
                    else
                    {
                        rejects.Add(new Reject(line.Number, result.ErrorCode!, result.Hint is null ? result.Error! : $"{result.Error} ({result.Hint})", line.Bytes));
                    }
                }

                writer.WriteAsync(new ParsedBatch(traces, rejects, blank, batch.Lines[^1].Number, batch.Position), CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (var b in line)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r'))
            {
                return false;
            }
        }

        return true;
    }

    private sealed record Reject(long Line, string Code, string Reason, ReadOnlyMemory<byte> Raw);

    private sealed record RawBatch(List<RawLine> Lines, long Position);

    private sealed record ParsedBatch(List<ClassifiedTrace> Traces, List<Reject> Rejects, int Blank, long LastLine, long Position);
}
