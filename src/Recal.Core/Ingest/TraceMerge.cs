using Recal.Domain;

namespace Recal.Ingest;

/// <summary>
/// How a later part of an interaction updates its stored trace (docs/trace-format.md#parts-that-arrive-later). The rule
/// is idempotent, so ingesting the same file again changes nothing:
/// the earlier timestamp; the input with more messages (a later turn repeats the history, an agent's root span says
/// less than its model call) together with its answer and model; missing output and model filled in; metadata merged
/// (stored values kept); each feedback signal the part gives replaces the stored one (feedback is news).
/// </summary>
public static class TraceMerge
{
    /// <summary><paramref name="earlier"/> with every signal <paramref name="later"/> gives.</summary>
    public static Feedback Combine(Feedback earlier, Feedback later)
    {
        ArgumentNullException.ThrowIfNull(earlier);
        ArgumentNullException.ThrowIfNull(later);
        return new Feedback(
            later.Thumbs ?? earlier.Thumbs,
            later.Csat ?? earlier.Csat,
            later.Escalated ?? earlier.Escalated,
            later.Continued ?? earlier.Continued,
            later.Completed ?? earlier.Completed,
            later.FollowUp ?? earlier.FollowUp);
    }

    /// <summary>The stored trace updated by the part; null when the part changes nothing.</summary>
    /// <param name="classify">Classifies a merged trace whose input changed (the intent follows the input).</param>
    public static ClassifiedTrace? Merge(ClassifiedTrace stored, TraceUpdate update, Func<Trace, string, ClassifiedTrace> classify)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(update);
        ArgumentNullException.ThrowIfNull(classify);
        var s = stored.Trace;
        var feedback = Combine(s.Feedback, update.Feedback);
        if (update.Trace is not { } part)
        {
            var added = AddMissing(s.Metadata, update.Metadata);
            var filledModel = s.Model ?? update.Model;
            return feedback == s.Feedback && added is null && filledModel == s.Model
                ? null
                : stored with { Trace = s with { Feedback = feedback, Model = filledModel, Metadata = added ?? s.Metadata, MetadataUtf8 = added is null ? s.MetadataUtf8 : null } };
        }

        var p = part.Trace;
        var partWins = Length(p.Input) > Length(s.Input);
        var input = partWins ? p.Input : s.Input;
        var output = partWins ? p.Output ?? s.Output : s.Output ?? p.Output;
        var model = partWins ? p.Model ?? s.Model : s.Model ?? p.Model;
        var timestamp = p.Timestamp < s.Timestamp ? p.Timestamp : s.Timestamp;
        var metadata = AddMissing(s.Metadata, p.Metadata);

        if (!partWins && output == s.Output && model == s.Model && timestamp == s.Timestamp && metadata is null && feedback == s.Feedback)
        {
            return null;
        }

        var merged = s with
        {
            Timestamp = timestamp,
            Input = input,
            Output = output,
            Model = model,
            Metadata = metadata ?? s.Metadata,
            Feedback = feedback,
            Intent = s.Intent ?? p.Intent,
            MetadataUtf8 = metadata is null ? s.MetadataUtf8 : null,
        };
        if (merged == s)
        {
            return null;
        }

        return partWins && !SameInput(p.Input, s.Input) ? classify(merged, stored.Key) : stored with { Trace = merged };
    }

    /// <summary>The stored metadata with the keys of <paramref name="more"/> it lacks; null when it lacks none.</summary>
    private static Dictionary<string, string>? AddMissing(IReadOnlyDictionary<string, string> stored, IReadOnlyDictionary<string, string>? more)
    {
        Dictionary<string, string>? metadata = null;
        foreach (var (key, value) in more ?? new Dictionary<string, string>())
        {
            if (!stored.ContainsKey(key))
            {
                metadata ??= new Dictionary<string, string>(stored, StringComparer.Ordinal);
                metadata[key] = value;
            }
        }

        return metadata;
    }

    private static int Length(TraceInput input) => input.Messages?.Count ?? 1;

    private static bool SameInput(TraceInput a, TraceInput b) =>
        a.Text == b.Text && (a.Messages is null ? b.Messages is null : b.Messages is not null && a.Messages.SequenceEqual(b.Messages));
}
