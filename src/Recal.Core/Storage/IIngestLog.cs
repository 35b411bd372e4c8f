namespace Recal.Storage;

/// <summary>
/// An ingest in progress, as <see cref="IIngestLog.BeginIngestAsync"/> starts it: the handle a writer passes with each batch
/// it stores, so the traces are tagged with this ingest and no other (two ingests into one store, at once, keep their own).
/// </summary>
/// <param name="Id">The ingest log entry's id (<see cref="IngestLogEntry.Id"/>).</param>
public sealed record IngestSession(long Id, string Source, DateTimeOffset Started);

/// <summary>A record of one ingest of one file.</summary>
public sealed record IngestLogEntry(long Id, string Source, DateTimeOffset Started, DateTimeOffset? Finished, long Read, long Added, long Duplicates, long Quarantined);

/// <summary>The log of ingests: when each file was ingested, with its counts, and which traces each one stored.</summary>
public interface IIngestLog
{
    /// <summary>
    /// Starts an ingest log entry and returns the session to store its batches with. The store keeps no current ingest:
    /// any number may be open at once.
    /// </summary>
    ValueTask<IngestSession> BeginIngestAsync(string source, CancellationToken cancellationToken = default);

    /// <summary>Completes an ingest log entry with its counts.</summary>
    ValueTask EndIngestAsync(IngestSession ingest, long read, long added, long duplicates, long quarantined, CancellationToken cancellationToken = default);

    /// <summary>
    /// How many stored traces each ingest added, by ingest id (<see cref="IngestSession.Id"/>); traces stored outside any
    /// ingest are not counted, ingests that added none are absent.
    /// </summary>
    ValueTask<IReadOnlyDictionary<long, long>> CountTracesByIngestAsync(CancellationToken cancellationToken = default);

    /// <summary>The ingest log, newest first.</summary>
    ValueTask<IReadOnlyList<IngestLogEntry>> GetIngestLogAsync(int limit = 50, CancellationToken cancellationToken = default);
}
