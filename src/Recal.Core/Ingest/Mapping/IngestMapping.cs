namespace Recal.Ingest.Mapping;

/// <summary>
/// The <c>ingest:</c> section of recal.yaml: the defaults of <c>recal ingest</c> and the mapping that reads any JSON
/// (docs/project-format.md#ingest). Command-line options override the defaults.
/// </summary>
/// <param name="Format">The format when <c>--format</c> is not given; null for auto.</param>
/// <param name="Interaction">The interaction rule when <c>--interaction</c> is not given.</param>
/// <param name="Feedback">Feedback names to signals, added to the built-in names; <c>--feedback</c> adds to these.</param>
/// <param name="Mapping">How to read records of <c>--format mapped</c>; null when the project has none.</param>
public sealed record IngestSettings(TraceFormat? Format, Otel.InteractionRule? Interaction, IReadOnlyList<KeyValuePair<string, FeedbackSignal>> Feedback, IngestMapping? Mapping);

/// <summary>JSON paths to a trace's fields in each record of an arbitrary JSON or JSONL file.</summary>
/// <param name="Records">Where the list of records is inside a document; null: the document is a record, or a list of them.</param>
/// <param name="Id">The trace id; null to key traces by their content.</param>
/// <param name="Input">Text, or a list of <c>{role, content}</c> messages (or any shape <see cref="Exports.ExportRecords.Input"/> reads).</param>
/// <param name="Metadata">Metadata keys (cohort dimensions among them) and their paths.</param>
/// <param name="Feedback">Each signal's path.</param>
public sealed record IngestMapping(
    JsonPath? Records,
    JsonPath? Id,
    JsonPath Timestamp,
    JsonPath Input,
    JsonPath? Output,
    JsonPath? Model,
    IReadOnlyList<KeyValuePair<string, JsonPath>> Metadata,
    IReadOnlyList<KeyValuePair<FeedbackSignal, JsonPath>> Feedback);
