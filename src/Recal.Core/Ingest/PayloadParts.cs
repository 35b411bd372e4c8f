namespace Recal.Ingest;

/// <summary>Something in a payload that could not be used, with where it is and why.</summary>
/// <param name="Code">A diagnostic code (RC20xx).</param>
/// <param name="Place">Inside the payload: "resourceSpans[0].scopeSpans[0].spans[3] (span 5fb3…)".</param>
public sealed record PayloadProblem(string Code, string Place, string Reason);

/// <summary>A span whose parent is not in its payload, remembered until the end of the file: the parent may come later.</summary>
public readonly record struct OrphanCandidate(string TraceId, string SpanId, string ParentSpanId, string Place);

/// <summary>What one payload (a line, a request body, a document) makes: trace parts, and what could not be used.</summary>
public sealed class PayloadParts
{
    public List<TracePart> Parts { get; } = [];

    public List<PayloadProblem> Problems { get; } = [];

    /// <summary>Values left out of a record that was kept (a feedback signal that cannot be read: RC2013).</summary>
    public List<PayloadProblem> Dropped { get; } = [];

    /// <summary>Records read: spans, runs, observations, scores, rows.</summary>
    public int Spans { get; set; }

    /// <summary>GenAI spans that carried no content (input messages or value): nothing to make a trace of.</summary>
    public int SpansWithoutContent { get; set; }

    /// <summary>Records (spans, log records) left out because they are invalid; each is also one of <see cref="Problems"/>.</summary>
    public int Rejected { get; set; }

    /// <summary>Whether the payload as a whole could not be read (not JSON or protobuf, not an OTLP object): nothing in it was used.</summary>
    public bool Unreadable { get; set; }

    /// <summary>Trace ids whose root span (no parent) was in the payload.</summary>
    public HashSet<string> Roots { get; } = new(StringComparer.Ordinal);

    /// <summary>The first span of each trace whose parent was not in the payload.</summary>
    public List<OrphanCandidate> Orphans { get; } = [];
}

