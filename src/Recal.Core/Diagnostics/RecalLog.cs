using Microsoft.Extensions.Logging;

namespace Recal.Diagnostics;

/// <summary>
/// Recal's structured log messages, with stable event ids (docs/architecture.md#observability): 1xxx ingest, 2xxx runs.
/// Like activity tags, they carry names, counts, codes and ids, never input or output texts, prompts or keys.
/// </summary>
public static partial class RecalLog
{
    [LoggerMessage(EventId = 1001, EventName = "IngestStarted", Level = LogLevel.Information, Message = "Ingest of {File} started (format {Format})")]
    public static partial void IngestStarted(ILogger logger, string file, string format);

    [LoggerMessage(EventId = 1002, EventName = "IngestFinished", Level = LogLevel.Information, Message = "Ingest of {File} finished: {LinesRead} lines read, {Added} traces added, {Duplicates} already stored, {Quarantined} quarantined in {ElapsedMs} ms")]
    public static partial void IngestFinished(ILogger logger, string file, long linesRead, long added, long duplicates, long quarantined, long elapsedMs);

    [LoggerMessage(EventId = 1003, EventName = "RecordQuarantined", Level = LogLevel.Warning, Message = "{Place} quarantined ({Code}): {Reason}")]
    public static partial void RecordQuarantined(ILogger logger, string place, string code, string reason);

    [LoggerMessage(EventId = 1004, EventName = "IngestFailed", Level = LogLevel.Warning, Message = "Ingest of {File} stopped ({Code}): {Reason}")]
    public static partial void IngestFailed(ILogger logger, string file, string code, string reason);

    [LoggerMessage(EventId = 2001, EventName = "RunStarted", Level = LogLevel.Information, Message = "Run {RunId} started: target {Target}, pools {Pools}, {Remaining} of {Cases} cases to run")]
    public static partial void RunStarted(ILogger logger, string runId, string target, string pools, int remaining, int cases);

    [LoggerMessage(EventId = 2002, EventName = "RunFinished", Level = LogLevel.Information, Message = "Run {RunId} {Status}: {Passed} passed, {Failed} failed, {Errors} errors, {Calls} calls, {CacheHits} cache hits")]
    public static partial void RunFinished(ILogger logger, string runId, string status, int passed, int failed, int errors, int calls, int cacheHits);

    [LoggerMessage(EventId = 2003, EventName = "CaseFailed", Level = LogLevel.Warning, Message = "Run {RunId}: case {CaseId} has no verdict: {Error}")]
    public static partial void CaseFailed(ILogger logger, string runId, string caseId, string error);

    [LoggerMessage(EventId = 2004, EventName = "RunInterrupted", Level = LogLevel.Warning, Message = "Run {RunId} interrupted; the completed cases are stored")]
    public static partial void RunInterrupted(ILogger logger, string runId);
}
