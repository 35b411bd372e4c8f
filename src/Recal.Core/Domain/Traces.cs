namespace Recal.Domain;

/// <summary>One chat message of a trace or case input.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>The input of a trace or an eval case: plain text or chat messages.</summary>
public sealed record TraceInput
{
    private TraceInput(string? text, IReadOnlyList<ChatMessage>? messages)
    {
        Text = text;
        Messages = messages;
    }

    /// <summary>The plain-text input, when the input is text.</summary>
    public string? Text { get; }

    /// <summary>The chat messages, when the input is a conversation.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; }

    public static TraceInput FromText(string text) => new(text ?? throw new ArgumentNullException(nameof(text)), null);

    public static TraceInput FromMessages(IReadOnlyList<ChatMessage> messages) =>
        new(null, messages ?? throw new ArgumentNullException(nameof(messages)));

    /// <summary>
    /// The text the classifier and embedder see: the text itself, or the user turns joined by newlines
    /// (the user's words carry the intent; system prompts are the product's, not the user's); all turns when none is
    /// the user's. Joined once per input: the classifier, the sampler and the store all read it.
    /// </summary>
    public string ClassificationText => Text ?? (_joined ??= Join(Messages!));

    // Not part of the record's value (Equals below): the joined turns, computed on first use. Messages cannot change.
    private string? _joined;

    public bool Equals(TraceInput? other) =>
        other is not null && string.Equals(Text, other.Text, StringComparison.Ordinal) && Equals(Messages, other.Messages);

    public override int GetHashCode() => HashCode.Combine(Text, Messages);

    private static string Join(IReadOnlyList<ChatMessage> messages)
    {
        var user = string.Join('\n', Contents(messages, userOnly: true));
        return user.Length > 0 ? user : string.Join('\n', Contents(messages, userOnly: false));
    }

    private static IEnumerable<string> Contents(IReadOnlyList<ChatMessage> messages, bool userOnly)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            if (!userOnly || string.Equals(messages[i].Role, "user", StringComparison.OrdinalIgnoreCase))
            {
                yield return messages[i].Content;
            }
        }
    }
}

/// <summary>What users did with an answer: the online signals.</summary>
/// <param name="Thumbs">+1 for thumbs up, -1 for thumbs down, null when not given.</param>
/// <param name="Csat">Customer satisfaction score, 1 to 5.</param>
/// <param name="Escalated">The user asked for a human.</param>
/// <param name="Continued">The session went on after the answer.</param>
/// <param name="Completed">The user's task completed.</param>
/// <param name="FollowUp">The user asked a follow-up question on the same topic.</param>
public sealed record Feedback(int? Thumbs = null, double? Csat = null, bool? Escalated = null, bool? Continued = null, bool? Completed = null, bool? FollowUp = null)
{
    public static Feedback None { get; } = new();
}

/// <summary>One production interaction as read from a trace file.</summary>
/// <param name="Id">The trace id; null when the source has none (a content hash is used to deduplicate then).</param>
/// <param name="Metadata">Scalar metadata values as strings (numbers and booleans in their JSON spelling; nested values as JSON text).</param>
/// <param name="Intent">An intent label supplied by the source, if any.</param>
public sealed record Trace(
    string? Id,
    DateTimeOffset Timestamp,
    TraceInput Input,
    string? Output,
    string? Model,
    IReadOnlyDictionary<string, string> Metadata,
    Feedback Feedback,
    string? Intent)
{
    /// <summary>
    /// The metadata object as it arrived, in UTF-8, when the reader kept it: stores write it as is instead of
    /// serialising <see cref="Metadata"/> again.
    /// </summary>
    public byte[]? MetadataUtf8 { get; init; }
}

/// <summary>Where a trace's intent came from.</summary>
public enum IntentSource
{
    /// <summary>The trace carried its own label.</summary>
    Label,

    /// <summary>The built-in classifier assigned it.</summary>
    Classifier,

    /// <summary>The classifier was not confident enough: the intent is <see cref="Taxonomy.UnknownIntent"/>.</summary>
    Unknown,
}

/// <summary>A trace after classification, ready to store.</summary>
/// <param name="Key">The deduplication key: <c>id:</c> + trace id, or <c>sha256:</c> + content hash.</param>
/// <param name="CohortKey">The cohort values in taxonomy order, as <c>dim=value|dim=value</c>.</param>
public sealed record ClassifiedTrace(
    Trace Trace,
    string Key,
    string Intent,
    IntentSource IntentSource,
    double Confidence,
    string CohortKey);
