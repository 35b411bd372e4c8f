using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Recal.Diagnostics;
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

    /// <summary>
    /// Why the ingest stopped before the end of the file (a store write or a read failed); null when it completed.
    /// The counts above are what was committed before it stopped.
    /// </summary>
    public Diagnostic? Failure { get; init; }

    /// <summary>The format the file was read as.</summary>
    public TraceFormat Format { get; init; } = TraceFormat.Jsonl;

    /// <summary>Records read (spans, log records, runs, observations, scores, rows) for multi-record formats; lines for JSONL.</summary>
    public long Records { get; init; }

    /// <summary>Parts that updated a stored trace: a later part of it or its feedback.</summary>
    public long Merged { get; init; }

    /// <summary>Parts that carried feedback and were attached to their trace (stored or in this file).</summary>
    public long FeedbackAttached { get; init; }

    /// <summary>Traces whose spans reference a parent that never arrived (RC2010 warnings in the quarantine).</summary>
    public long Orphans { get; init; }

    /// <summary>GenAI model-call spans without content (the producer did not record messages).</summary>
    public long SpansWithoutContent { get; init; }

    /// <summary>Feedback signals that could not be read and were left out of a trace that was kept (RC2013).</summary>
    public long SignalsDropped { get; init; }

    /// <summary>The first <see cref="IngestPipeline.NoticesKept"/> dropped signals, located (RC2013 warnings).</summary>
    public IReadOnlyList<Diagnostic> Notices { get; init; } = [];
}

/// <summary>How <c>recal ingest</c> reads a file (docs/cli.md#ingest).</summary>
/// <param name="Mapping">The <c>ingest:</c> mapping of recal.yaml, for <see cref="TraceFormat.Mapped"/>.</param>
public sealed record IngestOptions(TraceFormat Format = TraceFormat.Auto, Otel.InteractionRule Interaction = Otel.InteractionRule.Trace, FeedbackMap? Feedback = null, Mapping.IngestMapping? Mapping = null);

/// <summary>
/// Streams a trace file into the store: read → parse and classify (in parallel) → store in batches, one
/// transaction each. Memory stays bounded (two batches in flight); a stop or a crash loses nothing committed,
/// and rerunning the same file completes it because stored keys are skipped. A fault in any stage stops the
/// others and ends the ingest with <see cref="IngestSummary.Failure"/>; a bad line never stops it.
/// </summary>
public static partial class IngestPipeline
{
    public const int BatchLines = 4096;

    /// <summary>How many RC2013 notices a summary keeps with their place; the rest are counted.</summary>
    public const int NoticesKept = 20;
    private const int BatchBytes = 32 * 1024 * 1024;

    /// <summary>How far after the ingest time a trace may be dated; later ones are quarantined (RC2007).</summary>
    public static readonly TimeSpan FutureHorizon = TimeSpan.FromDays(1);

    /// <summary>Streams a file of Recal's JSONL into the store.</summary>
    /// <param name="logger">Receives the start and end summary (Information) and every quarantined record and failure (Warning).</param>
    public static Task<IngestSummary> RunAsync(
        string path,
        IRecalStore store,
        Func<Trace, string, ClassifiedTrace> classify,
        string quarantinePath,
        IProgress<IngestProgress>? progress = null,
        CancellationToken cancellationToken = default,
        TimeProvider? time = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ObserveAsync(path, TraceFormat.Jsonl, logger, log => RunJsonlAsync(path, store, classify, quarantinePath, progress, cancellationToken, time, log));
    }

    /// <summary>One ingest inside its <c>recal.ingest</c> activity, with its start and end logged.</summary>
    private static async Task<IngestSummary> ObserveAsync(string path, TraceFormat format, ILogger? logger, Func<ILogger, Task<IngestSummary>> ingest)
    {
        logger ??= NullLogger.Instance;
        using var activity = RecalTelemetry.StartIngest(path, format);
        var file = Path.GetFileName(path);
        RecalLog.IngestStarted(logger, file, TraceFormats.Name(format));
        IngestSummary summary;
        try
        {
            summary = await ingest(logger).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            RecalTelemetry.Fail(activity, e);
            throw;
        }

        RecalTelemetry.EndIngest(activity, summary);
        if (summary.Failure is { } failure)
        {
            RecalLog.IngestFailed(logger, file, failure.Code, failure.Message);
        }

        RecalLog.IngestFinished(logger, file, summary.LinesRead, summary.Added, summary.Duplicates, summary.Quarantined, (long)summary.Elapsed.TotalMilliseconds);
        return summary;
    }

    private static async Task<IngestSummary> RunJsonlAsync(
        string path,
        IRecalStore store,
        Func<Trace, string, ClassifiedTrace> classify,
        string quarantinePath,
        IProgress<IngestProgress>? progress,
        CancellationToken cancellationToken,
        TimeProvider? time,
        ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(classify);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var source = Path.GetFileName(path);
        var now = (time ?? TimeProvider.System).GetUtcNow();
        var lineCheck = new LineCheck(classify, now + FutureHorizon, now);
        var ingest = await store.BeginIngestAsync(Path.GetFullPath(path), cancellationToken).ConfigureAwait(false);
        using var reader = new TraceFileReader(path);
        using var quarantine = new QuarantineWriter(quarantinePath, source, logger);
        var raw = Channel.CreateBounded<RawBatch>(new BoundedChannelOptions(2) { SingleWriter = true });
        var parsed = Channel.CreateBounded<ParsedBatch>(new BoundedChannelOptions(2) { SingleReader = true });

        // A stop (the caller's token) lets the stages drain what is in flight; an abort (a stage failed) unblocks
        // every stage at once, since nobody reads the bounded channels any more.
        using var abort = new CancellationTokenSource();

        // Dedicated threads: one reads, one per core parses and classifies, and this method stores. Batches may be
        // stored out of file order; keys make that harmless.
        var workers = Math.Max(1, Environment.ProcessorCount - 1);
        var arenas = new ArenaPool(1 << 20);
        var readerTask = Dedicated(() => Read(reader, raw.Writer, BatchBytes, arenas, cancellationToken, abort.Token));
        var parserTasks = Enumerable.Range(0, workers).Select(_ => Dedicated(() => Parse(raw.Reader, parsed.Writer, lineCheck, arenas, abort.Token))).ToArray();
        var completion = Task.WhenAll(parserTasks).ContinueWith(t => parsed.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);

        long lines = 0, added = 0, duplicates = 0, blank = 0, position = 0, batches = 0;
        var notices = new NoticeList(path);
        var storeTime = TimeSpan.Zero;
        Exception? failure = null;
        var failedWhileStoring = false;
        try
        {
            await foreach (var batch in parsed.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                // The batch is committed whole even when a stop was requested meanwhile: it is completed work.
                var storing = System.Diagnostics.Stopwatch.GetTimestamp();
                StoreBatchResult result;
                try
                {
                    result = await store.AddTracesAsync(batch.Traces, ingest, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    failure = e;
                    failedWhileStoring = true;
                    break;
                }

                storeTime += System.Diagnostics.Stopwatch.GetElapsedTime(storing);
                foreach (var reject in batch.Rejects)
                {
                    quarantine.Write(reject.Line, reject.Code, reject.Reason, reject.Raw.Span);
                }

                quarantine.Flush();
                foreach (var (line, reason) in batch.Dropped)
                {
                    notices.Add(line, null, reason);
                }

                batches++;
                lines = Math.Max(lines, batch.LastLine);
                position = Math.Max(position, batch.Position);
                blank += batch.Blank;
                added += result.Added;
                duplicates += result.Duplicates;
                progress?.Report(new IngestProgress(position, reader.Length, lines, added, quarantine.Count));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A reader or parser fault, passed on through the channels.
            failure = e;
        }
        finally
        {
            if (failure is not null)
            {
                await abort.CancelAsync().ConfigureAwait(false);
            }

            await readerTask.ConfigureAwait(false);
            await completion.ConfigureAwait(false);
        }

        var summary = new IngestSummary(source, lines, added, duplicates, quarantine.Count, blank, watch.Elapsed)
        {
            StoreTime = storeTime,
            SignalsDropped = notices.Count,
            Notices = notices.Kept,
        };
        if (failure is not null)
        {
            var stage = failedWhileStoring ? "storing a batch failed" : "reading the file failed";
            return summary with
            {
                Failure = new Diagnostic(
                    Severity.Error,
                    failedWhileStoring ? "RC3002" : "RC2009",
                    $"{stage} after {batches:N0} committed batch(es) ({added:N0} new and {duplicates:N0} already stored traces, through about line {lines:N0}): {failure.Message}",
                    new SourceLocation(Path.GetFullPath(path)),
                    "everything committed is kept; fix the cause (free disk space, permissions, a damaged file) and run the same ingest again: stored traces are skipped and the file is completed without duplicates"),
            };
        }

        cancellationToken.ThrowIfCancellationRequested();
        await store.EndIngestAsync(ingest, lines, added, duplicates, quarantine.Count, CancellationToken.None).ConfigureAwait(false);
        return summary;
    }

    private static Task Dedicated(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The reading stage of either pipeline: batches of lines or payloads of at most <paramref name="maxBytes"/>.</summary>
    private static void Read(IPayloadSource reader, ChannelWriter<RawBatch> writer, int maxBytes, ArenaPool arenas, CancellationToken stop, CancellationToken abort)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                // Each batch owns its lines and arena: a parser may still be reading the previous one.
                var (lines, arena) = arenas.Rent();
                if (!reader.ReadBatch(lines, ref arena, BatchLines, maxBytes))
                {
                    arenas.Return(lines, arena);
                    break;
                }

                writer.WriteAsync(new RawBatch(lines, reader.Position, arena), abort).AsTask().GetAwaiter().GetResult();
            }

            writer.TryComplete();
        }
        catch (OperationCanceledException)
        {
            writer.TryComplete();
        }
        catch (Exception e)
        {
            writer.TryComplete(e);
        }
    }

    private static void Parse(ChannelReader<RawBatch> reader, ChannelWriter<ParsedBatch> writer, LineCheck check, ArenaPool arenas, CancellationToken abort)
    {
        try
        {
            while (reader.WaitToReadAsync(abort).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var batch))
                {
                    var traces = new List<ClassifiedTrace>(batch.Lines.Count);
                    var rejects = new List<Reject>();
                    var dropped = new List<(long Line, string Reason)>();
                    var blank = 0;
                    foreach (var line in batch.Lines)
                    {
                        if (IsBlank(line.Bytes.Span) && !line.TooLong)
                        {
                            blank++;
                            continue;
                        }

                        var (trace, reject, signals) = check.Check(line);
                        if (trace is not null)
                        {
                            traces.Add(trace);
                            foreach (var signal in signals ?? [])
                            {
                                dropped.Add((line.Number, signal));
                            }
                        }
                        else
                        {
                            rejects.Add(reject!);
                        }
                    }

                    // The batch's bytes go back to the reader: a reject keeps a copy of its line for the quarantine.
                    var detached = new DetachedBytes();
                    for (var i = 0; i < rejects.Count; i++)
                    {
                        rejects[i] = rejects[i] with { Raw = detached.Of(rejects[i].Raw) };
                    }

                    var last = batch.Lines[^1].Number;
                    arenas.Return(batch.Lines, batch.Arena);
                    writer.WriteAsync(new ParsedBatch(traces, rejects, dropped, blank, last, batch.Position), abort).AsTask().GetAwaiter().GetResult();
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Another stage failed; it reports why.
        }
    }

    /// <summary>Turns one raw line into a classified trace or the reason it is quarantined; never throws.</summary>
    private sealed class LineCheck(Func<Trace, string, ClassifiedTrace> classify, DateTimeOffset horizon, DateTimeOffset now)
    {
        public (ClassifiedTrace? Trace, Reject? Reject, IReadOnlyList<string>? Dropped) Check(RawLine line)
        {
            if (line.TooLong)
            {
                return (null, new Reject(line.Number, "RC2006", $"the line is longer than {TraceFileReader.MaxLineBytes / (1024 * 1024)} MiB", line.Bytes), null);
            }

            try
            {
                var result = TraceLineParser.Parse(line.Bytes);
                if (result.Trace is not { } trace)
                {
                    return (null, new Reject(line.Number, result.ErrorCode!, result.Hint is null ? result.Error! : $"{result.Error} ({result.Hint})", line.Bytes), null);
                }

                if (trace.Timestamp > horizon)
                {
                    // One trace from the far future would become the "current window" of every instrument.
                    return (null, new Reject(
                        line.Number,
                        "RC2007",
                        $"field 'timestamp' ({trace.Timestamp.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}) is more than {FutureHorizon.TotalHours:0} hours after the ingest time ({now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}) (check the exporter's clock and time zone)",
                        line.Bytes), null);
                }

                return (classify(trace, TraceKeys.For(trace)), null, result.Dropped);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A defect in parsing or classifying costs this line, never the rest of the file.
                return (null, new Reject(line.Number, "RC2008", $"the line could not be processed: {e.Message}", line.Bytes), null);
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

    /// <summary>A batch of payloads as read, and the arena their bytes are in (given back once they are parsed).</summary>
    private sealed record RawBatch(List<RawLine> Lines, long Position, byte[] Arena);

    /// <summary>
    /// Copies of payload bytes out of an arena, one copy for the rejects of one payload, and no more of it than the
    /// quarantine keeps (a byte beyond <see cref="QuarantineWriter.MaxRawBytes"/> still tells it the record was cut).
    /// </summary>
    private struct DetachedBytes
    {
        private ReadOnlyMemory<byte> _last;
        private ReadOnlyMemory<byte> _copy;

        public ReadOnlyMemory<byte> Of(ReadOnlyMemory<byte> raw)
        {
            if (raw.IsEmpty)
            {
                return raw;
            }

            if (!raw.Equals(_last))
            {
                (_last, _copy) = (raw, raw[..Math.Min(raw.Length, QuarantineWriter.MaxRawBytes + 1)].ToArray());
            }

            return _copy;
        }
    }

    /// <summary>
    /// The read stage's buffers (a batch's list of lines and the arena their bytes are in), handed from the parse stage
    /// back to the reader once a batch is parsed. Both are large objects (the list holds 4,096 lines, the arena a
    /// megabyte or more), so new ones per batch would cost a full collection now and then; the batches in flight are
    /// bounded by the channels, so a few buffers are enough.
    /// </summary>
    private sealed class ArenaPool(int size)
    {
        private const int Kept = 8;
        private readonly System.Collections.Concurrent.ConcurrentQueue<(List<RawLine> Lines, byte[] Arena)> _free = new();

        public (List<RawLine> Lines, byte[] Arena) Rent() => _free.TryDequeue(out var buffers) ? buffers : (new List<RawLine>(BatchLines), new byte[size]);

        public void Return(List<RawLine> lines, byte[] arena)
        {
            if (arena.Length > 0 && _free.Count < Kept)
            {
                lines.Clear();
                _free.Enqueue((lines, arena));
            }
        }
    }

    private sealed record ParsedBatch(List<ClassifiedTrace> Traces, List<Reject> Rejects, List<(long Line, string Reason)> Dropped, int Blank, long LastLine, long Position);

    /// <summary>The RC2013 notices of one file: all counted, the first <see cref="NoticesKept"/> kept with their place.</summary>
    internal sealed class NoticeList(string path)
    {
        private readonly List<Diagnostic> _kept = [];

        public long Count { get; private set; }

        public IReadOnlyList<Diagnostic> Kept => _kept;

        /// <param name="place">Inside the record, for formats whose records are parts of a line or document.</param>
        public void Add(long? line, string? place, string reason)
        {
            Count++;
            if (_kept.Count < NoticesKept)
            {
                var where = place is { Length: > 0 } ? $"{reason} (at {place})" : reason;
                _kept.Add(new Diagnostic(Severity.Warning, "RC2013", $"{where}; the trace is kept without this signal", new SourceLocation(Path.GetFullPath(path), line is { } n ? (int)n : null), "fix the exporter's value; docs/trace-format.md lists what each signal accepts"));
            }
        }
    }
}
