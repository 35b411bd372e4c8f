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
        var channel = Channel.CreateBounded<ParsedBatch>(new BoundedChannelOptions(1) { SingleReader = true, SingleWriter = true });

        var producer = Task.Run(() => Produce(reader, classify, channel.Writer, cancellationToken), CancellationToken.None);
        long lines = 0, added = 0, duplicates = 0, blank = 0;
        try
        {
            await foreach (var batch in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                // The batch is committed whole even when a stop was requested meanwhile: it is completed work.
                var result = await store.AddTracesAsync(batch.Traces, CancellationToken.None).ConfigureAwait(false);
                foreach (var reject in batch.Rejects)
                {
                    quarantine.Write(source, reject.Line, reject.Code, reject.Reason, reject.Raw.Span);
                }

                quarantine.Flush();
                lines = batch.LastLine;
                blank += batch.Blank;
                added += result.Added;
                duplicates += result.Duplicates;
                progress?.Report(new IngestProgress(batch.Position, reader.Length, lines, added, quarantine.Count));
            }
        }
        finally
        {
            await producer.ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        await store.EndIngestAsync(ingestId, lines, added, duplicates, quarantine.Count, CancellationToken.None).ConfigureAwait(false);
        return new IngestSummary(source, lines, added, duplicates, quarantine.Count, blank, watch.Elapsed);
    }

    private static void Produce(TraceFileReader reader, Func<Trace, string, ClassifiedTrace> classify, ChannelWriter<ParsedBatch> writer, CancellationToken cancellationToken)
    {
        try
        {
            var raw = new List<RawLine>(BatchLines);
            while (!cancellationToken.IsCancellationRequested)
            {
                // Each batch gets its own arena: the consumer may still be reading the previous one.
                var arena = new byte[1 << 20];
                if (!reader.ReadBatch(raw, ref arena, BatchLines, BatchBytes))
                {
                    break;
                }

                var results = new ClassifiedTrace?[raw.Count];
                var errors = new (string Code, string Reason)?[raw.Count];
                var blanks = new bool[raw.Count];
                Parallel.For(0, raw.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
                {
                    var line = raw[i];
                    if (line.TooLong)
                    {
                        errors[i] = ("RC2006", $"the line is longer than {TraceFileReader.MaxLineBytes / (1024 * 1024)} MiB");
                        return;
                    }

                    if (IsBlank(line.Bytes.Span))
                    {
                        blanks[i] = true;
                        return;
                    }

                    var parsed = TraceLineParser.Parse(line.Bytes);
                    if (parsed.Trace is { } trace)
                    {
                        results[i] = classify(trace, TraceKeys.For(trace));
                    }
                    else
                    {
                        errors[i] = (parsed.ErrorCode!, parsed.Hint is null ? parsed.Error! : $"{parsed.Error} ({parsed.Hint})");
                    }
                });

                var traces = new List<ClassifiedTrace>(raw.Count);
                var rejects = new List<Reject>();
                var blankCount = 0;
                for (var i = 0; i < raw.Count; i++)
                {
                    if (results[i] is { } trace)
                    {
                        traces.Add(trace);
                    }
                    else if (errors[i] is { } error)
                    {
                        rejects.Add(new Reject(raw[i].Number, error.Code, error.Reason, raw[i].Bytes));
                    }
                    else if (blanks[i])
                    {
                        blankCount++;
                    }
                }

                var batch = new ParsedBatch(traces, rejects, blankCount, raw[^1].Number, reader.Position);
                writer.WriteAsync(batch, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }

            writer.Complete();
        }
        catch (Exception e)
        {
            writer.Complete(e);
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

    private sealed record ParsedBatch(List<ClassifiedTrace> Traces, List<Reject> Rejects, int Blank, long LastLine, long Position);
}
