using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Ingest.Otel;
using Recal.Storage;

namespace Recal.Ingest;

/// <summary>The ingest of formats whose records are parts of traces: OTLP spans and logs, Langfuse and LangSmith exports, mapped JSON.</summary>
public static partial class IngestPipeline
{
    /// <summary>How many orphan candidates (spans whose parent is elsewhere) are remembered per file; beyond, they are not reported.</summary>
    private const int MaxOrphanCandidates = 1_000_000;

    /// <summary>
    /// Streams a file in the format <paramref name="options"/> names (or detects) into the store. Recal's JSONL goes
    /// through the JSONL pipeline unchanged; the other formats are parsed into trace parts, in parallel, and merged
    /// into the store in batches (<see cref="ITraceStore.MergeTracesAsync"/>), so a trace whose spans or feedback
    /// arrive in several lines or files is one stored trace, and a rerun changes nothing.
    /// </summary>
    public static async Task<IngestSummary> RunAsync(
        string path,
        IRecalStore store,
        Func<Trace, string, ClassifiedTrace> classify,
        string quarantinePath,
        IngestOptions options,
        IProgress<IngestProgress>? progress = null,
        CancellationToken cancellationToken = default,
        TimeProvider? time = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        var format = options.Format == TraceFormat.Auto ? TraceFormats.Detect(path) : options.Format;
        return await ObserveAsync(
            path,
            format,
            logger,
            log => format == TraceFormat.Jsonl
                ? RunJsonlAsync(path, store, classify, quarantinePath, progress, cancellationToken, time, log)
                : RunFormatAsync(path, format, store, classify, quarantinePath, options, progress, cancellationToken, time, log)).ConfigureAwait(false);
    }

    private static async Task<IngestSummary> RunFormatAsync(
        string path,
        TraceFormat format,
        IRecalStore store,
        Func<Trace, string, ClassifiedTrace> classify,
        string quarantinePath,
        IngestOptions options,
        IProgress<IngestProgress>? progress,
        CancellationToken cancellationToken,
        TimeProvider? time,
        ILogger logger)
    {

        var feedback = options.Feedback ?? FeedbackMap.Default;
        var otel = new OtelMappingOptions(options.Interaction, feedback);
        var parquet = format == TraceFormat.LangSmith && Exports.ParquetRows.IsParquet(path);
        var csv = format == TraceFormat.Langfuse && Exports.CsvRecords.IsCsv(path) ? new Exports.CsvRecords(path) : null;
        var framing = format == TraceFormat.OtlpProto ? PayloadReader.ProtobufFraming(path) : parquet ? PayloadFraming.Rows : csv is not null ? PayloadFraming.Lines : PayloadReader.JsonFraming(path);
        IPayloadParser parser = format switch
        {
            TraceFormat.Langfuse when csv is not null => new Exports.LangfuseCsvParser(csv.Header, feedback),
            TraceFormat.OtlpJson => new OtlpPayloadParser(protobuf: false, otel),
            TraceFormat.OtlpProto => new OtlpPayloadParser(protobuf: true, otel),
            TraceFormat.Langfuse => new Exports.LangfuseParser(feedback),
            TraceFormat.LangSmith => new Exports.LangSmithParser(feedback),
            _ => new Mapping.MappedJsonParser(options.Mapping ?? throw new ArgumentException("--format mapped needs the ingest: mapping of recal.yaml (docs/project-format.md#ingest)", nameof(options))),
        };

        using var reader = csv ?? (parquet ? (IPayloadSource)new Exports.ParquetRows(path) : new PayloadReader(path, framing));
        return await RunPartsAsync(path, format, framing, reader, parser, store, classify, quarantinePath, progress, cancellationToken, time, logger).ConfigureAwait(false);
    }

    private static async Task<IngestSummary> RunPartsAsync(
        string path,
        TraceFormat format,
        PayloadFraming framing,
        IPayloadSource reader,
        IPayloadParser parser,
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
        var check = new PartCheck(parser, classify, now, source, framing);
        var ingest = await store.BeginIngestAsync(Path.GetFullPath(path), cancellationToken).ConfigureAwait(false);
        using var quarantine = new QuarantineWriter(quarantinePath, source, logger);
        var raw = Channel.CreateBounded<RawBatch>(new BoundedChannelOptions(2) { SingleWriter = true });
        var parsed = Channel.CreateBounded<PartBatch>(new BoundedChannelOptions(2) { SingleReader = true });
        using var abort = new CancellationTokenSource();
        // Parsing spans costs several times what storing them does, so every core parses; the store thread mostly waits.
        var workers = Math.Max(2, Environment.ProcessorCount);
        // Arenas a little above a batch's bytes: a batch stops at the first payload past PartBatchBytes, so most fit without growing.
        var arenas = new ArenaPool(PartBatchBytes * 3 / 2);
        var readerTask = Dedicated(() => Read(reader, raw.Writer, PartBatchBytes, arenas, cancellationToken, abort.Token));
        var parserTasks = Enumerable.Range(0, workers).Select(_ => Dedicated(() => ParseParts(raw.Reader, parsed.Writer, check, arenas, abort.Token))).ToArray();
        var completion = Task.WhenAll(parserTasks).ContinueWith(t => parsed.Writer.TryComplete(t.Exception?.GetBaseException()), TaskScheduler.Default);

        long payloads = 0, records = 0, added = 0, merged = 0, unchanged = 0, blank = 0, position = 0, batches = 0, attached = 0, withoutContent = 0;
        var roots = new HashSet<ulong>();
        var notices = new NoticeList(path);
        var pending = new List<(TraceUpdate Update, (long Line, string Place) Place)>();
        var orphans = new Dictionary<ulong, (long Line, OrphanCandidate Candidate)>();
        var storeTime = TimeSpan.Zero;
        Exception? failure = null;
        var failedWhileStoring = false;
        Func<ClassifiedTrace, TraceUpdate, ClassifiedTrace?> merge = (stored, update) => TraceMerge.Merge(stored, update, classify);
        try
        {
            await foreach (var batch in parsed.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                var storing = System.Diagnostics.Stopwatch.GetTimestamp();
                MergeBatchResult result;
                try
                {
                    result = batch.Updates.Count == 0
                        ? new MergeBatchResult(0, 0, 0, [])
                        : await store.MergeTracesAsync(batch.Updates, merge, ingest, CancellationToken.None).ConfigureAwait(false);
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
                    quarantine.Write(reject.Line, reject.Code, reject.Reason, reject.Raw.Span, reject.Place);
                }

                // A part for a trace not stored yet may precede its trace in the file: it is tried again at the end.
                foreach (var index in result.Missing)
                {
                    if (pending.Count < MaxPendingParts)
                    {
                        pending.Add((batch.Updates[index], batch.Places[index]));
                    }
                    else
                    {
                        QuarantineMissing(quarantine, batch.Updates[index], batch.Places[index], source, framing);
                    }
                }

                attached += batch.Updates.Count(u => u.Feedback != Feedback.None) - result.Missing.Count(i => batch.Updates[i].Feedback != Feedback.None);
                foreach (var (line, root) in batch.Roots)
                {
                    roots.Add(root);
                    orphans.Remove(root);
                }

                foreach (var (line, candidate) in batch.Orphans)
                {
                    var id = TraceNumber(candidate.TraceId);
                    if (!roots.Contains(id) && orphans.Count < MaxOrphanCandidates)
                    {
                        orphans.TryAdd(id, (line, candidate));
                    }
                }

                quarantine.Flush();
                foreach (var (line, place, reason) in batch.Dropped)
                {
                    notices.Add(framing == PayloadFraming.Lines ? line : null, place, reason);
                }

                batches++;
                payloads = Math.Max(payloads, batch.LastLine);
                position = Math.Max(position, batch.Position);
                records += batch.Records;
                blank += batch.Blank;
                withoutContent += batch.SpansWithoutContent;
                added += result.Added;
                merged += result.Merged;
                unchanged += result.Unchanged;
                progress?.Report(new IngestProgress(position, reader.Length, payloads, added, quarantine.Count));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
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

        // Spans whose parent never arrived, in traces whose root never did either: stored from what came, and said so.
        var orphanCount = 0L;
        if (failure is null && !cancellationToken.IsCancellationRequested)
        {
            try
            {
                for (var start = 0; start < pending.Count; start += BatchLines)
                {
                    var chunk = pending.GetRange(start, Math.Min(BatchLines, pending.Count - start));
                    var result = await store.MergeTracesAsync([.. chunk.Select(p => p.Update)], merge, ingest, CancellationToken.None).ConfigureAwait(false);
                    merged += result.Merged;
                    unchanged += result.Unchanged;
                    attached += chunk.Count(p => p.Update.Feedback != Feedback.None) - result.Missing.Count(i => chunk[i].Update.Feedback != Feedback.None);
                    foreach (var index in result.Missing)
                    {
                        QuarantineMissing(quarantine, chunk[index].Update, chunk[index].Place, source, framing);
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failure = e;
                failedWhileStoring = true;
            }
        }

        if (failure is null && !cancellationToken.IsCancellationRequested)
        {
            foreach (var (line, candidate) in orphans.Values.OrderBy(o => o.Line))
            {
                orphanCount++;
                quarantine.Write(
                    line,
                    "RC2010",
                    $"warning: span {candidate.SpanId} names parent {candidate.ParentSpanId}, which never arrived, and no root span of trace {candidate.TraceId} did either; the trace is stored from the spans that did, and ingesting the file with the rest of it completes it",
                    default,
                    PlaceOf(source, framing, line, candidate.Place));
            }

            quarantine.Flush();
        }

        var summary = new IngestSummary(source, payloads, added, unchanged, quarantine.Count, blank, watch.Elapsed)
        {
            StoreTime = storeTime,
            Format = format,
            Records = records,
            Merged = merged,
            FeedbackAttached = attached,
            Orphans = orphanCount,
            SpansWithoutContent = withoutContent,
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
                    $"{stage} after {batches:N0} committed batch(es) ({added:N0} new, {merged:N0} updated and {unchanged:N0} already stored traces): {failure.Message}",
                    new SourceLocation(Path.GetFullPath(path)),
                    "everything committed is kept; fix the cause and run the same ingest again: stored parts are skipped and the file is completed without duplicates"),
            };
        }

        cancellationToken.ThrowIfCancellationRequested();
        await store.EndIngestAsync(ingest, payloads, added, unchanged, quarantine.Count, CancellationToken.None).ConfigureAwait(false);
        return summary;
    }

    /// <summary>
    /// The bytes of payloads read per batch: a span's trace part holds far more than its bytes (its attributes, messages,
    /// metadata), so batches are smaller than JSONL's to keep memory bounded: every parsed span in flight survives the collections
    /// that run meanwhile. 512 KiB is about 350 OTLP/JSON or 650 protobuf spans; a larger request is a batch of its own.
    /// </summary>
    private const int PartBatchBytes = 512 * 1024;

    /// <summary>How many parts for traces not stored yet are kept to try again at the end of the file.</summary>
    private const int MaxPendingParts = 200_000;

    /// <summary>Feedback whose trace is not stored is quarantined; metadata alone (a non-GenAI root span) is not worth a record.</summary>
    private static void QuarantineMissing(QuarantineWriter quarantine, TraceUpdate update, (long Line, string Place) place, string source, PayloadFraming framing)
    {
        if (update.Feedback != Feedback.None)
        {
            quarantine.Write(
                place.Line,
                "RC2011",
                $"feedback for trace '{update.Key[TraceKeys.IdPrefix.Length..]}', which is not stored: its interaction is in no file ingested so far (ingest that file, then this one again)",
                default,
                PlaceOf(source, framing, place.Line, place.Place));
        }
    }

    /// <summary>A trace id's low 64 bits (8 bytes a trace in the sets of roots and orphans, where a rare collision costs only a warning).</summary>
    private static ulong TraceNumber(string traceId) =>
        traceId.Length >= 16 && ulong.TryParse(traceId.AsSpan(traceId.Length - 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var n)
            ? n
            : (ulong)traceId.GetHashCode(StringComparison.Ordinal);

    internal static string PlaceOf(string source, PayloadFraming framing, long line, string inner) => framing switch
    {
        PayloadFraming.Document => $"{source} {inner}",
        PayloadFraming.LengthPrefixed => $"{source} message {line} {inner}",
        PayloadFraming.Rows => $"{source} row {line} {inner}",
        _ => $"{source}:{line} {inner}",
    };

    private static void ParseParts(ChannelReader<RawBatch> reader, ChannelWriter<PartBatch> writer, PartCheck check, ArenaPool arenas, CancellationToken abort)
    {
        try
        {
            while (reader.WaitToReadAsync(abort).AsTask().GetAwaiter().GetResult())
            {
                while (reader.TryRead(out var batch))
                {
                    var result = new PartBatch(batch.Lines[^1].Number, batch.Position);
                    foreach (var line in batch.Lines)
                    {
                        if (IsBlank(line.Bytes.Span) && !line.TooLong)
                        {
                            result.Blank++;
                            continue;
                        }

                        check.Check(line, result);
                    }

                    // The batch's bytes go back to the reader: a reject keeps a copy of its payload for the quarantine.
                    var detached = new DetachedBytes();
                    for (var i = 0; i < result.Rejects.Count; i++)
                    {
                        result.Rejects[i] = result.Rejects[i] with { Raw = detached.Of(result.Rejects[i].Raw) };
                    }

                    arenas.Return(batch.Lines, batch.Arena);
                    writer.WriteAsync(result, abort).AsTask().GetAwaiter().GetResult();
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Turns one payload into classified updates and rejects; never throws: the step a file ingest runs on each of its
    /// payloads and the OTLP/HTTP receiver on each request body.
    /// </summary>
    /// <param name="now">The ingest time: parts dated more than <see cref="FutureHorizon"/> after it are rejected (RC2007).</param>
    /// <param name="source">The file name (or the receiver's endpoint) places are spelled with.</param>
    public sealed class PartCheck(IPayloadParser parser, Func<Trace, string, ClassifiedTrace> classify, DateTimeOffset now, string source, PayloadFraming framing)
    {
        private readonly DateTimeOffset horizon = now + FutureHorizon;

        /// <summary>Checks one whole payload (a request body) as payload number 1.</summary>
        public PartBatch Check(ReadOnlyMemory<byte> payload)
        {
            var batch = new PartBatch(1, payload.Length);
            Check(new RawLine(1, payload, false), batch);
            return batch;
        }

        internal void Check(RawLine line, PartBatch batch)
        {
            if (line.TooLong)
            {
                var limit = framing == PayloadFraming.Lines ? $"the line is longer than {TraceFileReader.MaxLineBytes / (1024 * 1024)} MiB"
                    : framing == PayloadFraming.Document ? $"the document is larger than {PayloadReader.MaxDocumentBytes >> 30} GiB (export one record per line instead)"
                    : "the message's length prefix is damaged or above 256 MiB; nothing after it can be read";
                batch.Rejects.Add(new PartReject(line.Number, "RC2006", limit, line.Bytes, PlaceOf(source, framing, line.Number, string.Empty).TrimEnd()));
                return;
            }

            PayloadParts parts;
            try
            {
                parts = parser.Parse(line.Bytes);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                batch.Rejects.Add(new PartReject(line.Number, "RC2008", $"the record could not be processed: {e.Message}", line.Bytes, PlaceOf(source, framing, line.Number, string.Empty).TrimEnd()));
                return;
            }

            batch.Records += parts.Spans;
            batch.SpansWithoutContent += parts.SpansWithoutContent;
            batch.RejectedRecords += parts.Rejected;
            batch.Unreadable |= parts.Unreadable;
            var raw = framing is PayloadFraming.Lines or PayloadFraming.Rows ? line.Bytes : ReadOnlyMemory<byte>.Empty;
            foreach (var problem in parts.Problems)
            {
                batch.Rejects.Add(new PartReject(line.Number, problem.Code, problem.Reason, raw, PlaceOf(source, framing, line.Number, problem.Place)));
            }

            foreach (var dropped in parts.Dropped)
            {
                batch.Dropped.Add((line.Number, PlaceOf(source, framing, line.Number, dropped.Place).TrimEnd(), dropped.Reason));
            }

            foreach (var root in parts.Roots)
            {
                batch.Roots.Add((line.Number, TraceNumber(root)));
            }

            foreach (var orphan in parts.Orphans)
            {
                batch.Orphans.Add((line.Number, orphan));
            }

            foreach (var part in parts.Parts)
            {
                // The part's place in the file is spelled out only when something is reported about it.
                var place = part.Place;
                try
                {
                    if (part.Trace is { } trace)
                    {
                        if (trace.Timestamp > horizon)
                        {
                            batch.Rejects.Add(new PartReject(
                                line.Number,
                                "RC2007",
                                $"the trace's time ({trace.Timestamp.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}) is more than {FutureHorizon.TotalHours:0} hours after the ingest time ({now.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}) (check the exporter's clock and time zone)",
                                raw,
                                PlaceOf(source, framing, line.Number, place)));
                            continue;
                        }

                        batch.Updates.Add(new TraceUpdate(part.Key, classify(trace, part.Key), part.Feedback));
                    }
                    else
                    {
                        batch.Updates.Add(new TraceUpdate(part.Key, null, part.Feedback, part.Metadata, part.Model));
                    }

                    batch.Places.Add((line.Number, place));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    batch.Rejects.Add(new PartReject(line.Number, "RC2008", $"the record could not be processed: {e.Message}", raw, PlaceOf(source, framing, line.Number, place)));
                }
            }
        }
    }

    /// <summary>A record of a payload that is not stored: its payload number, code (RC20xx), reason, raw text (for line formats) and place.</summary>
    public sealed record PartReject(long Line, string Code, string Reason, ReadOnlyMemory<byte> Raw, string Place);

    /// <summary>What <see cref="PartCheck"/> made of one or more payloads: updates to merge and what was rejected.</summary>
    public sealed class PartBatch(long lastLine, long position)
    {
        public List<TraceUpdate> Updates { get; } = [];

        /// <summary>Each update's line and its place inside the payload (<see cref="PlaceOf"/> spells out the whole place).</summary>
        public List<(long Line, string Place)> Places { get; } = [];

        public List<PartReject> Rejects { get; } = [];

        public List<(long Line, string Place, string Reason)> Dropped { get; } = [];

        public List<(long Line, ulong TraceId)> Roots { get; } = [];

        public List<(long Line, OrphanCandidate Candidate)> Orphans { get; } = [];

        public long LastLine { get; } = lastLine;

        public long Position { get; } = position;

        public int Blank { get; set; }

        public long Records { get; set; }

        public long SpansWithoutContent { get; set; }

        /// <summary>Records (spans, log records) left out as invalid, each also among <see cref="Rejects"/> (<see cref="PayloadParts.Rejected"/>).</summary>
        public long RejectedRecords { get; set; }

        /// <summary>Whether a payload could not be read at all (not JSON, not protobuf, not an OTLP object): <see cref="PayloadParts.Unreadable"/>.</summary>
        public bool Unreadable { get; set; }
    }
}

/// <summary>Where payloads come from: a file cut by <see cref="PayloadFraming"/>, or the rows of a Parquet file.</summary>
internal interface IPayloadSource : IDisposable
{
    long Length { get; }

    long Position { get; }

    bool ReadBatch(List<RawLine> batch, ref byte[] arena, int maxPayloads, int maxBytes);
}
