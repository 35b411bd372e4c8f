using System.Text;
using System.Text.Json;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Project;

namespace Recal.Lifecycle;

/// <summary>The outcome of importing labels: new cases by pool, drafts still waiting, and located problems.</summary>
/// <param name="Unlabelled">Rows with no reference yet: their drafts stay drafts.</param>
public sealed record LabelImport(IReadOnlyList<EvalCase> Cases, IReadOnlyList<string> Unlabelled, IReadOnlyList<Diagnostic> Diagnostics);

/// <summary>
/// The labelling round trip (docs/lifecycle.md#labelling): drafts go out as JSONL or CSV with the production
/// answer and feedback as context; labelled rows come back, are validated like case files, and become cases.
/// A case needs at least one reference to leave the drafts: nothing without one ever enters gold.
/// </summary>
public static class Labelling
{
    /// <summary>
    /// The columns of a labelling CSV; the labeller fills the last six. <c>trace_id</c> is the production trace the
    /// draft was drawn from, to look it up in the tracing tool; on import it is checked against the draft's (RC1603).
    /// </summary>
    public static IReadOnlyList<string> CsvColumns { get; } =
        ["id", "trace_id", "pool", "input", "production_output", "thumbs", "csat", "escalated", "completed", "intent", "reference_high", "reference_borderline", "contains", "difficulty", "valid_until"];

    public static string ToCsv(IEnumerable<Draft> drafts)
    {
        ArgumentNullException.ThrowIfNull(drafts);
        var text = new StringBuilder().AppendLine(Text.Csv.Line(CsvColumns));
        foreach (var draft in drafts)
        {
            text.AppendLine(Text.Csv.Line([
                draft.Id,
                draft.TraceId,
                draft.Pool,
                InputText(draft),
                draft.Context.Output,
                draft.Context.Thumbs?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                draft.Context.Csat?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Flag(draft.Context.Escalated),
                Flag(draft.Context.Completed),
                draft.Intent,
                string.Empty,
                string.Empty,
                string.Empty,
                string.Empty,
                string.Empty]));
        }

        return text.ToString();
    }

    /// <summary>One JSON object per draft: the draft and empty <c>references</c> and <c>assertions</c> to fill.</summary>
    public static string ToJsonl(IEnumerable<Draft> drafts)
    {
        ArgumentNullException.ThrowIfNull(drafts);
        var text = new StringBuilder();
        foreach (var draft in drafts)
        {
            var node = JsonSerializer.SerializeToNode(draft, DraftFile.Json)!.AsObject();
            node["references"] = new System.Text.Json.Nodes.JsonArray();
            node["assertions"] = new System.Text.Json.Nodes.JsonArray();
            text.AppendLine(node.ToJsonString(DraftFile.Json));
        }

        return text.ToString();
    }

    /// <summary>
    /// Reads a labelled file (<c>.csv</c>, else JSONL) against the drafts and the project: every row is validated
    /// like a case-file line and located at its line; good rows become cases, bad rows are reported and their
    /// drafts kept. <paramref name="display"/> names the file in the problems' locations (default: its name).
    /// </summary>
    public static LabelImport Import(string path, IReadOnlyList<Draft> drafts, EvalProject project, DateOnly today, string? display = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        display ??= Path.GetFileName(path);
        var diagnostics = new DiagnosticBag();
        return Import(path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? ReadCsvFile(path, display, diagnostics) : ReadJsonl(path, display, diagnostics), diagnostics, drafts, project, today);
    }

    /// <summary>Labelled rows given as CSV text (the dashboard's review form), read and validated as a labelled CSV file is, located at <paramref name="display"/>.</summary>
    public static LabelImport ImportCsv(TextReader csv, string display, IReadOnlyList<Draft> drafts, EvalProject project, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(csv);
        ArgumentNullException.ThrowIfNull(display);
        var diagnostics = new DiagnosticBag();
        return Import(ReadCsv(csv, display, diagnostics), diagnostics, drafts, project, today);
    }

    private static LabelImport Import(IEnumerable<LabelRow> rows, DiagnosticBag diagnostics, IReadOnlyList<Draft> drafts, EvalProject project, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(drafts);
        ArgumentNullException.ThrowIfNull(project);
        var byId = drafts.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var cases = new List<EvalCase>();
        var unlabelled = new List<string>();
        foreach (var row in rows)
        {
            if (row.Id is null || !byId.TryGetValue(row.Id, out var draft))
            {
                diagnostics.Error("RC1601", row.Id is null ? "the row has no id" : $"'{row.Id}' is not a draft id", row.Location, "keep the id column as exported; the drafts are in drafts/*.jsonl");
                continue;
            }

            // A row whose trace id is not its draft's was most likely pasted onto the wrong id: its labels are not trusted.
            if (row.TraceId is { } traceId && !string.Equals(traceId, draft.TraceId, StringComparison.Ordinal))
            {
                diagnostics.Error("RC1603",
                    draft.TraceId is null ? $"draft '{draft.Id}' was drawn from a trace without an id, but the row's trace_id is '{traceId}'" : $"the row's trace_id '{traceId}' is not the trace draft '{draft.Id}' was drawn from ('{draft.TraceId}')",
                    row.Location with { CaseId = draft.Id },
                    "keep the id and trace_id of each row as exported (or leave trace_id empty); the draft stays a draft");
                continue;
            }

            if (row.References.Count == 0)
            {
                unlabelled.Add(draft.Id);
                continue;
            }

            var line = ToCaseJson(draft, row, today);
            var bag = new DiagnosticBag();
            var evalCase = CaseFileReader.Parse(line, row.Location, bag);
            if (evalCase is not null)
            {
                CaseChecks.Run([.. project.Cases, .. cases, evalCase], project.Taxonomy, bag);
            }

            // Only this row's problems: the project's own were reported when it loaded.
            var mine = bag.Items.Where(d => (d.Location?.File == row.Location.File && d.Location?.Line == row.Location.Line) || d.Location?.CaseId == draft.Id).ToList();
            // Positions inside the case line built from the row mean nothing to the labeller: point at the row.
            diagnostics.AddRange(mine.Select(d => d with { Location = row.Location with { CaseId = draft.Id } }));
            if (evalCase is not null && !mine.Any(d => d.Severity == Severity.Error))
            {
                cases.Add(evalCase);
            }
        }

        return new LabelImport(cases, unlabelled, diagnostics.Items);
    }

    private static string ToCaseJson(Draft draft, LabelRow row, DateOnly today)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("id", draft.Id);
            if (draft.Input is { } input)
            {
                json.WriteString("input", input);
            }
            else
            {
                json.WritePropertyName("input");
                JsonSerializer.Serialize(json, draft.Messages);
            }

            json.WriteStartArray("references");
            foreach (var (text, grade) in row.References)
            {
                json.WriteStartObject();
                json.WriteString("text", text);
                json.WriteString("grade", grade);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WritePropertyName("assertions");
            if (row.Assertions is { } assertions)
            {
                assertions.WriteTo(json);
            }
            else
            {
                json.WriteStartArray();
                json.WriteEndArray();
            }

            json.WriteString("intent", string.IsNullOrWhiteSpace(row.Intent) ? draft.Intent : row.Intent.Trim());
            json.WritePropertyName("cohort");
            JsonSerializer.Serialize(json, draft.Cohort);
            if (!string.IsNullOrWhiteSpace(row.Difficulty))
            {
                json.WriteString("difficulty", row.Difficulty.Trim());
            }

            json.WriteStartObject("provenance");
            json.WriteString("kind", "sampled");
            if (draft.TraceId is not null)
            {
                json.WriteString("trace_id", draft.TraceId);
            }

            if (draft.Note is not null)
            {
                json.WriteString("note", draft.Note);
            }

            json.WriteEndObject();
            json.WriteString("added", today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            if (!string.IsNullOrWhiteSpace(row.ValidUntil))
            {
                json.WriteString("valid_until", row.ValidUntil.Trim());
            }
            else
            {
                json.WriteNull("valid_until");
            }

            json.WriteString("pool", draft.Pool);
            json.WriteStartArray("tags");
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static IEnumerable<LabelRow> ReadCsvFile(string path, string display, DiagnosticBag diagnostics)
    {
        using var reader = new StreamReader(path);
        foreach (var row in ReadCsv(reader, display, diagnostics))
        {
            yield return row;
        }
    }

    private static IEnumerable<LabelRow> ReadCsv(TextReader reader, string display, DiagnosticBag diagnostics)
    {
        Dictionary<string, int>? columns = null;
        foreach (var (line, fields) in Text.Csv.Read(reader))
        {
            var location = new SourceLocation(display, line, 1);
            if (columns is null)
            {
                columns = fields.Select((name, index) => (name: name.Trim(), index)).ToDictionary(c => c.name, c => c.index, StringComparer.OrdinalIgnoreCase);
                foreach (var required in new[] { "id", "reference_high" }.Where(r => !columns.ContainsKey(r)))
                {
                    diagnostics.Error("RC1602", $"the CSV has no '{required}' column", location, $"the header must name the columns: {string.Join(",", CsvColumns)}");
                }

                if (!columns.ContainsKey("id") || !columns.ContainsKey("reference_high"))
                {
                    yield break;
                }

                continue;
            }

            string Get(string column) => columns.TryGetValue(column, out var index) && index < fields.Count ? fields[index] : string.Empty;
            var references = new List<(string, string)>();
            if (Get("reference_high").Trim() is { Length: > 0 } high)
            {
                references.Add((high, "high"));
            }

            if (Get("reference_borderline").Trim() is { Length: > 0 } borderline)
            {
                references.Add((borderline, "borderline"));
            }

            JsonElement? assertions = null;
            if (Get("contains").Trim() is { Length: > 0 } contains)
            {
                assertions = JsonSerializer.SerializeToElement(new[] { new { type = "contains", value = contains } });
            }

            yield return new LabelRow(NullIfEmpty(Get("id")), NullIfEmpty(Get("trace_id")), Get("intent"), references, assertions, Get("difficulty"), Get("valid_until"), location);
        }
    }

    private static IEnumerable<LabelRow> ReadJsonl(string path, string display, DiagnosticBag diagnostics)
    {
        foreach (var (number, line) in Text.JsonLines.Read(path))
        {
            var location = new SourceLocation(display, number, 1);
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(line);
            }
            catch (JsonException e)
            {
                diagnostics.Error("RC1201", $"not valid JSON: {e.Message}", location, "each line must be one JSON object, as exported");
                continue;
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    diagnostics.Error("RC1201", "a row must be a JSON object", location);
                    continue;
                }

                string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var references = new List<(string, string)>();
                if (root.TryGetProperty("references", out var refs) && refs.ValueKind == JsonValueKind.Array)
                {
                    foreach (var reference in refs.EnumerateArray())
                    {
                        var text = reference.ValueKind == JsonValueKind.Object && reference.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : string.Empty;
                        var grade = reference.ValueKind == JsonValueKind.Object && reference.TryGetProperty("grade", out var g) && g.ValueKind == JsonValueKind.String ? g.GetString()! : string.Empty;
                        if (text.Trim().Length > 0)
                        {
                            references.Add((text, grade));
                        }
                    }
                }

                JsonElement? assertions = root.TryGetProperty("assertions", out var a) ? a.Clone() : null;
                yield return new LabelRow(Text("id"), Text("trace_id") is { } trace ? NullIfEmpty(trace) : null, Text("intent"), references, assertions, Text("difficulty"), Text("valid_until"), location);
            }
        }
    }

    /// <summary>A draft's input as a labeller reads it: the text, or the conversation's turns as "role: content" lines.</summary>
    public static string InputText(Draft draft) =>
        draft.Input ?? string.Join('\n', draft.Messages!.Select(m => $"{m.Role}: {m.Content}"));

    private static string? Flag(bool? value) => value is null ? null : value.Value ? "true" : "false";

    private static string? NullIfEmpty(string text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    /// <param name="TraceId">The row's trace id; null when the file has none (files exported before it was added) or it is empty.</param>
    private sealed record LabelRow(string? Id, string? TraceId, string? Intent, IReadOnlyList<(string Text, string Grade)> References, JsonElement? Assertions, string? Difficulty, string? ValidUntil, SourceLocation Location);
}
