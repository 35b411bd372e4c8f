using System.Text;
using Recal.Domain;
using Recal.Storage;

namespace Recal.Workflows;

/// <summary>
/// A filter over stored traces, as the dashboard's trace view takes it. Every condition given must hold; none given
/// matches every trace of the window.
/// </summary>
/// <param name="From">Start of the window (inclusive); null: <see cref="DefaultDays"/> days before <paramref name="To"/>, or before the newest trace.</param>
/// <param name="To">End of the window (exclusive); null: past the newest trace.</param>
/// <param name="Intent">The trace's intent, exactly (<c>unknown</c> for the unclassified).</param>
/// <param name="Cohort">A cohort value as <c>dimension=value</c>, one of the trace's.</param>
/// <param name="Feedback"><c>up</c>, <c>down</c>, <c>escalated</c> or <c>none</c> (no signal at all).</param>
/// <param name="Text">Words the input contains, case-insensitively.</param>
/// <param name="Uncertain">Only traces the classifier labelled unknown or placed with a confidence below <paramref name="ConfidenceBelow"/>.</param>
/// <param name="ConfidenceBelow">With <paramref name="Uncertain"/>: the confidence under which a classified trace counts as uncertain; null: unknown ones only.</param>
/// <param name="Limit">The most traces returned, newest first.</param>
public sealed record TraceSearch(
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Intent = null,
    string? Cohort = null,
    string? Feedback = null,
    string? Text = null,
    bool Uncertain = false,
    double? ConfidenceBelow = null,
    int Limit = TraceSearch.DefaultLimit)
{
    public const int DefaultLimit = 200;

    /// <summary>The window's length when no start is given.</summary>
    public const int DefaultDays = 7;

    /// <summary>The feedback values the filter knows.</summary>
    public static IReadOnlyList<string> FeedbackValues { get; } = ["up", "down", "escalated", "none"];

    public bool Matches(ClassifiedTrace trace)
    {
        ArgumentNullException.ThrowIfNull(trace);
        return MatchesStratum(trace.Intent, trace.CohortKey)
            && MatchesRest(trace.Trace.Feedback, trace.IntentSource, trace.Confidence)
            && MatchesText(trace.Trace.Input.ClassificationText);
    }

    /// <summary>Whether the intent and cohort conditions hold (what a trace's head tells).</summary>
    public bool MatchesStratum(string intent, string cohortKey)
    {
        ArgumentNullException.ThrowIfNull(cohortKey);
        return (Intent is not { Length: > 0 } wanted || string.Equals(intent, wanted, StringComparison.Ordinal))
            && (Cohort is not { Length: > 0 } cohort || cohortKey.Split('|').Contains(cohort, StringComparer.Ordinal));
    }

    /// <summary>Whether the feedback and certainty conditions hold.</summary>
    public bool MatchesRest(Feedback feedback, IntentSource source, double confidence)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        var feedbackHolds = Feedback switch
        {
            null or "" => true,
            "up" => feedback.Thumbs > 0,
            "down" => feedback.Thumbs < 0,
            "escalated" => feedback.Escalated == true,
            "none" => feedback == Domain.Feedback.None,
            _ => false,
        };
        return feedbackHolds
            && (!Uncertain || source == IntentSource.Unknown || (ConfidenceBelow is { } below && source == IntentSource.Classifier && confidence < below));
    }

    /// <summary>Whether the input holds the words searched for (always, when none are).</summary>
    public bool MatchesText(string classificationText) =>
        Text is not { Length: > 0 } text || classificationText.Contains(text, StringComparison.OrdinalIgnoreCase);

    /// <summary>Why the filter cannot run, in words, or null when it can.</summary>
    public string? Problem =>
        Feedback is { Length: > 0 } f && !FeedbackValues.Contains(f, StringComparer.Ordinal) ? $"feedback '{f}' is not one of {string.Join(", ", FeedbackValues)}"
        : Cohort is { Length: > 0 } c && !c.Contains('=', StringComparison.Ordinal) ? $"cohort '{c}' is not dimension=value (for example plan=pro)"
        : ConfidenceBelow is < 0 or > 1 ? "the confidence bound lies between 0 and 1"
        : From >= To ? "the window's start is not before its end"
        : Limit < 1 ? "the limit is at least 1"
        : null;
}

/// <summary>The newest matching traces, how many matched in all, and how many the window held.</summary>
/// <param name="To">The window's end; null when it runs past the newest trace.</param>
public sealed record TraceSearchResult(IReadOnlyList<ClassifiedTrace> Traces, long Matched, long Scanned, DateTimeOffset From, DateTimeOffset? To);

/// <summary>Finds stored traces by window, intent, cohort, feedback, text and classifier certainty (the dashboard's trace view).</summary>
public static class TraceSearchUseCase
{
    public static async Task<TraceSearchResult> RunAsync(TraceSearch search, IRecalStore store, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(store);
        if (search.Problem is { } problem)
        {
            throw new ArgumentException(problem, nameof(search));
        }

        // Without an end, the window runs past the newest trace (outliers the anchored span leaves out included).
        var span = await store.GetTrafficSpanAsync(cancellationToken).ConfigureAwait(false);
        var to = search.To;
        var from = search.From ?? (to ?? span?.Last ?? DateTimeOffset.UtcNow).AddDays(-TraceSearch.DefaultDays);

        if (search is { Feedback: null or "", Text: null or "", Uncertain: false })
        {
            return await ByHeadsAsync(search, store, from, to, cancellationToken).ConfigureAwait(false);
        }

        return await ByRowsAsync(search, store, from, to, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A filter on feedback, certainty or text reads what it filters on of each trace of the window (the store's
    /// search rows: no output, messages or metadata), keeps the newest matches, and fetches only those whole. The
    /// text is decoded only for a trace whose other conditions hold.
    /// </summary>
    private static async Task<TraceSearchResult> ByRowsAsync(TraceSearch search, IRecalStore store, DateTimeOffset from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var newest = new PriorityQueue<TraceRef, (long Ticks, long Position, string Key)>(new NewestLast());
        long matched = 0, scanned = 0;
        await store.ScanSearchRowsAsync(from, to, (in SearchRow row) =>
        {
            scanned++;
            if (!search.MatchesStratum(row.Intent, row.CohortKey) || !search.MatchesRest(row.Feedback, row.Source, row.Confidence)
                || (search.Text is { Length: > 0 } && !search.MatchesText(Encoding.UTF8.GetString(row.Input))))
            {
                return;
            }

            matched++;
            var key = Encoding.UTF8.GetString(row.Key);
            var order = (row.Timestamp.UtcTicks, row.Position, key);
            if (newest.Count < search.Limit)
            {
                newest.Enqueue(new TraceRef(key, row.Position), order);
            }
            else if (newest.TryPeek(out _, out var oldest) && new NewestLast().Compare(order, oldest) > 0)
            {
                newest.EnqueueDequeue(new TraceRef(key, row.Position), order);
            }
        }, cancellationToken).ConfigureAwait(false);

        // Newest first, as the scan in time order kept them: by time, then the store's position, then the key.
        var order = newest.UnorderedItems.ToDictionary(i => i.Element.Key, i => i.Priority, StringComparer.Ordinal);
        var traces = await store.GetTracesAsync([.. order.Keys.Select(k => new TraceRef(k, order[k].Position))], cancellationToken).ConfigureAwait(false);
        var comparer = new NewestLast();
        return new TraceSearchResult([.. traces.Where(t => order.ContainsKey(t.Key)).OrderByDescending(t => order[t.Key], comparer)], matched, scanned, from, to);
    }

    /// <summary>Orders matches as a scan by time and position visits them (the key breaks ties where a store has no positions).</summary>
    private sealed class NewestLast : IComparer<(long Ticks, long Position, string Key)>
    {
        public int Compare((long Ticks, long Position, string Key) x, (long Ticks, long Position, string Key) y)
        {
            var byTime = x.Ticks.CompareTo(y.Ticks);
            if (byTime != 0)
            {
                return byTime;
            }

            var byPosition = x.Position.CompareTo(y.Position);
            return byPosition != 0 ? byPosition : string.CompareOrdinal(x.Key, y.Key);
        }
    }

    /// <summary>
    /// A filter on the window, the intent and the cohort alone reads the traces' heads (the store's index, no input or
    /// metadata), keeps the newest matches' positions, and fetches only those whole.
    /// </summary>
    private static async Task<TraceSearchResult> ByHeadsAsync(TraceSearch search, IRecalStore store, DateTimeOffset from, DateTimeOffset? to, CancellationToken cancellationToken)
    {
        var newest = new PriorityQueue<long, (long Ticks, long Position)>();
        long matched = 0, scanned = 0;
        await store.ScanTraceHeadsAsync(from, to, withKeys: false, head =>
        {
            scanned++;
            if (!search.MatchesStratum(head.Intent, head.CohortKey))
            {
                return;
            }

            matched++;
            var order = (head.Timestamp.UtcTicks, head.Position);
            if (newest.Count < search.Limit)
            {
                newest.Enqueue(head.Position, order);
            }
            else if (newest.TryPeek(out _, out var oldest) && order.CompareTo(oldest) > 0)
            {
                newest.EnqueueDequeue(head.Position, order);
            }
        }, cancellationToken).ConfigureAwait(false);

        var positions = newest.UnorderedItems.Select(i => i.Element).ToList();
        var texts = await store.GetClassificationTextsAsync(positions, cancellationToken).ConfigureAwait(false);
        var traces = await store.GetTracesAsync([.. texts.Select(t => new TraceRef(t.Value.Key, t.Key))], cancellationToken).ConfigureAwait(false);
        return new TraceSearchResult([.. traces.OrderByDescending(t => t.Trace.Timestamp).ThenByDescending(t => t.Key, StringComparer.Ordinal)], matched, scanned, from, to);
    }
}
