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
            if (feedback == s.Feedback && added is null && filledModel == s.Model)
            {
                return null;
            }

            var updated = s with { Feedback = feedback, Model = filledModel, Metadata = added ?? s.Metadata, MetadataUtf8 = added is null ? s.MetadataUtf8 : null };

            // Metadata the trace lacked may name its cohort.
            return added is null ? stored with { Trace = updated } : classify(updated, stored.Key);
        }

        var p = part.Trace;
        var (input, output, model) = Content(s, p);
        var inputChanged = !SameInput(input, s.Input);
        var timestamp = p.Timestamp < s.Timestamp ? p.Timestamp : s.Timestamp;
        var metadata = AddMissing(s.Metadata, p.Metadata);

        if (!inputChanged && output == s.Output && model == s.Model && timestamp == s.Timestamp && metadata is null && feedback == s.Feedback)
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

        // The intent follows the input, the cohort the metadata.
        return inputChanged || metadata is not null ? classify(merged, stored.Key) : stored with { Trace = merged };
    }

    /// <summary>
    /// The input, answer and model of two parts of one interaction. Parts asking the same (one's user messages are
    /// found in the other's: a turn repeating the history, an agent's root beside its model call's prompt) keep the one
    /// with more messages, with its answer and model (the other's fill in what it lacks). Parts asking different things
    /// are two turns: the earlier's messages and answer, then the later's messages; the answer and model are the later's.
    /// </summary>
    public static (TraceInput Input, string? Output, string? Model) Content(Trace stored, Trace part)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(part);
        if (SameTurn(stored.Input, part.Input))
        {
            var partWins = Length(part.Input) > Length(stored.Input);
            return partWins
                ? (part.Input, part.Output ?? stored.Output, part.Model ?? stored.Model)
                : (stored.Input, stored.Output ?? part.Output, stored.Model ?? part.Model);
        }

        var (earlier, later) = part.Timestamp < stored.Timestamp ? (part, stored) : (stored, part);
        var messages = new List<ChatMessage>(Length(earlier.Input) + Length(later.Input) + 1);
        messages.AddRange(Messages(earlier.Input));
        if (earlier.Output is { } answer)
        {
            messages.Add(new ChatMessage("assistant", answer));
        }

        messages.AddRange(Messages(later.Input));
        return (TraceInput.FromMessages(messages), later.Output, later.Model ?? earlier.Model);
    }

    /// <summary>The input's messages; a text input is one user message.</summary>
    public static IReadOnlyList<ChatMessage> Messages(TraceInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return input.Messages ?? [new ChatMessage("user", input.Text!)];
    }

    /// <summary>Whether every user message of one input is (inside) a user message of the other.</summary>
    private static bool SameTurn(TraceInput a, TraceInput b)
    {
        var left = UserTexts(a);
        var right = UserTexts(b);
        return Within(left, right) || Within(right, left);
    }

    private static List<string> UserTexts(TraceInput input) =>
        input.Text is { } text ? [text] : [.. input.Messages!.Where(m => string.Equals(m.Role, "user", StringComparison.OrdinalIgnoreCase)).Select(m => m.Content)];

    private static bool Within(List<string> these, List<string> those) =>
        these.TrueForAll(t => those.Exists(o => o.Contains(t, StringComparison.Ordinal)));


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
