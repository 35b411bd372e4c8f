using System.Globalization;
using System.Text.Json;
using Recal.Diagnostics;
using Recal.Domain;
using Recal.Text;

namespace Recal.Project;

/// <summary>Reads eval cases from a JSONL file, one case per line, reporting every bad line and keeping the good ones.</summary>
public static class CaseFileReader
{
    private static readonly string[] Fields = ["id", "input", "messages", "references", "assertions", "intent", "cohort", "difficulty", "provenance", "added", "valid_until", "pool", "tags"];

    public static IReadOnlyList<EvalCase> Read(string path, string displayPath, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var cases = new List<EvalCase>();
        var lineNumber = 0;

        // Read as bytes: a decoder would turn bytes that are not UTF-8 into U+FFFD without a word.
        ReadOnlySpan<byte> rest = File.ReadAllBytes(path);
        if (rest.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            rest = rest[3..];
        }

        while (!rest.IsEmpty)
        {
            lineNumber++;
            var end = rest.IndexOf((byte)'\n');
            var bytes = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            if (!System.Text.Unicode.Utf8.IsValid(bytes))
            {
                diagnostics.Error("RC1210", "the line is not valid UTF-8", new SourceLocation(displayPath, lineNumber, FirstInvalidColumn(bytes)), "save the case file as UTF-8");
                continue;
            }

            var line = System.Text.Encoding.UTF8.GetString(bytes).TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            if (Parse(line, new SourceLocation(displayPath, lineNumber), diagnostics) is { } evalCase)
            {
                cases.Add(evalCase);
            }
        }

        return cases;
    }

    /// <summary>The 1-based column (in characters) of the first byte that does not start or continue UTF-8.</summary>
    internal static int FirstInvalidColumn(ReadOnlySpan<byte> bytes)
    {
        var column = 1;
        while (!bytes.IsEmpty)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes, out _, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return column;
            }

            bytes = bytes[consumed..];
            column++;
        }

        return column;
    }

    /// <summary>Parses one case line; returns null (with diagnostics) when the line cannot make a case.</summary>
    public static EvalCase? Parse(string line, SourceLocation location, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(line);
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(diagnostics);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            diagnostics.Error("RC1201", $"not valid JSON: {FirstSentence(e.Message)}", location with { Column = (int)(e.BytePositionInLine ?? 0) + 1 }, "each line must be one JSON object");
            return null;
        }

        try
        {
            return ParseCase(document, line, location, diagnostics);
        }
        catch (InvalidOperationException)
        {
            // JSON checks \u escapes only when a string is decoded: "\ud800" alone parses but is not text.
            diagnostics.Error("RC1201", "a string holds an escaped lone surrogate (such as \\ud800), which is not valid Unicode text", location with { Column = 1 }, Ingest.TraceLineParser.LoneSurrogateHint);
            return null;
        }
        finally
        {
            document.Dispose();
        }
    }

    private static EvalCase? ParseCase(JsonDocument document, string line, SourceLocation location, DiagnosticBag diagnostics)
    {
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            diagnostics.Error("RC1201", "a case must be a JSON object", location with { Column = 1 });
            return null;
        }

        var errorsBefore = diagnostics.ErrorCount;
        SourceLocation At(string field) => location with { Column = Column(line, field) };
        void Error(string code, string field, string message, string? hint = null) => diagnostics.Error(code, message, At(field), hint);

        foreach (var property in root.EnumerateObject())
        {
            if (!Fields.Contains(property.Name))
            {
                Error("RC1208", property.Name, $"unknown field '{property.Name}'", Spelling.Hint(property.Name, Fields));
            }
        }

        var id = String(root, "id");
        if (string.IsNullOrWhiteSpace(id))
        {
            Error("RC1004", "id", "'id' is required and must be a non-empty string");
        }

        var withId = location with { CaseId = id };
        var input = ReadInput(root, line, withId, diagnostics);
        var intent = String(root, "intent");
        if (string.IsNullOrWhiteSpace(intent))
        {
            Error("RC1004", "intent", "'intent' is required and must be a non-empty string");
        }

        var references = new List<Reference>();
        if (root.TryGetProperty("references", out var refs))
        {
            if (refs.ValueKind != JsonValueKind.Array)
            {
                Error("RC1005", "references", "'references' must be a list of {text, grade} objects");
            }
            else
            {
                var index = 0;
                foreach (var reference in refs.EnumerateArray())
                {
                    index++;
                    var text = reference.ValueKind == JsonValueKind.Object ? String(reference, "text") : null;
                    var grade = reference.ValueKind == JsonValueKind.Object ? String(reference, "grade") : null;
                    if (text is null)
                    {
                        Error("RC1204", "references", $"reference {index} needs a 'text' string");
                    }
                    else if (grade is null)
                    {
                        Error("RC1204", "references", $"reference {index} has no grade", "add \"grade\": \"high\" or \"grade\": \"borderline\"");
                    }
                    else if (!EnumNames.TryParse<ReferenceGrade>(grade, out var parsed))
                    {
                        Error("RC1204", "references", $"reference {index} has the unknown grade '{grade}'", Spelling.Hint(grade, EnumNames.Of<ReferenceGrade>()));
                    }
                    else
                    {
                        references.Add(new Reference(text, parsed));
                    }
                }
            }
        }

        var assertions = new List<Assertion>();
        if (root.TryGetProperty("assertions", out var asserts))
        {
            if (asserts.ValueKind != JsonValueKind.Array)
            {
                Error("RC1005", "assertions", "'assertions' must be a list of {type, value} objects");
            }
            else
            {
                foreach (var assertion in asserts.EnumerateArray())
                {
                    var type = assertion.ValueKind == JsonValueKind.Object ? String(assertion, "type") : null;
                    if (type is null)
                    {
                        Error("RC1005", "assertions", "every assertion needs a 'type' string, e.g. {\"type\": \"contains\", \"value\": \"refund\"}");
                        continue;
                    }

                    if (!Recal.Scoring.AssertionScorer.Types.Contains(type))
                    {
                        Error("RC1209", "assertions", $"unknown assertion type '{type}'", Spelling.Hint(type, Recal.Scoring.AssertionScorer.Types));
                        continue;
                    }

                    JsonElement? value = assertion.TryGetProperty("value", out var v) ? v.Clone() : null;
                    if (type == "regex" && value is { ValueKind: JsonValueKind.String } pattern && InvalidRegex(pattern.GetString()!) is { } problem)
                    {
                        Error("RC1006", "assertions", $"the regex assertion's pattern /{pattern.GetString()}/ is not a valid .NET regular expression: {problem}", "escape literal characters such as [ ( . + with a backslash");
                        continue;
                    }

                    var arguments = assertion.EnumerateObject().Where(p => p.Name is not ("type" or "value"))
                        .ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
                    assertions.Add(new Assertion(type, value, arguments));
                }
            }
        }

        if (references.Count == 0 && assertions.Count == 0 && diagnostics.ErrorCount == errorsBefore)
        {
            Error("RC1205", "id", $"case '{id}' has neither references nor assertions: nothing could grade an output", "add a graded reference or an assertion");
        }

        var cohort = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.TryGetProperty("cohort", out var cohortElement) && cohortElement.ValueKind != JsonValueKind.Null)
        {
            if (cohortElement.ValueKind != JsonValueKind.Object)
            {
                Error("RC1005", "cohort", "'cohort' must be an object of dimension: value");
            }
            else
            {
                foreach (var property in cohortElement.EnumerateObject())
                {
                    cohort[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
            }
        }

        var difficulty = Enum<Difficulty>(root, "difficulty", At, diagnostics);
        var pool = Enum<Pool>(root, "pool", At, diagnostics) ?? Pool.Gold;
        var provenance = ReadProvenance(root, At, diagnostics);
        var added = Date(root, "added", At, diagnostics);
        if (added is null && !root.TryGetProperty("added", out _))
        {
            Error("RC1004", "id", "'added' is required: the date the case joined the set (YYYY-MM-DD)");
        }

        var validUntil = Date(root, "valid_until", At, diagnostics);
        if (added is { } a && validUntil is { } u && u < a)
        {
            Error("RC1207", "valid_until", $"'valid_until' {u:yyyy-MM-dd} is before 'added' {a:yyyy-MM-dd}");
        }

        var tags = root.TryGetProperty("tags", out var tagsElement) && tagsElement.ValueKind == JsonValueKind.Array
            ? tagsElement.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList()
            : [];

        if (diagnostics.ErrorCount > errorsBefore || input is null)
        {
            return null;
        }

        return new EvalCase(id!, input, references, assertions, intent!, cohort, difficulty, provenance, added ?? default, validUntil, pool, tags, withId);
    }

    /// <summary>Why a pattern does not compile; null when it does.</summary>
    private static string? InvalidRegex(string pattern)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    private static TraceInput? ReadInput(JsonElement root, string line, SourceLocation location, DiagnosticBag diagnostics)
    {
        var hasInput = root.TryGetProperty("input", out var input);
        if (!hasInput && root.TryGetProperty("messages", out var messages))
        {
            input = messages;
            hasInput = true;
        }

        var at = location with { Column = Column(line, "input") };
        if (!hasInput)
        {
            diagnostics.Error("RC1004", "'input' is required: a string or a list of {role, content} messages", at);
            return null;
        }

        if (input.ValueKind == JsonValueKind.String && input.GetString() is { Length: > 0 } text)
        {
            return TraceInput.FromText(text);
        }

        if (input.ValueKind == JsonValueKind.Array)
        {
            var list = new List<ChatMessage>();
            foreach (var message in input.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object || String(message, "role") is not { } role || String(message, "content") is not { } content)
                {
                    diagnostics.Error("RC1005", "every message needs 'role' and 'content' strings", at);
                    return null;
                }

                list.Add(new ChatMessage(role, content));
            }

            if (list.Count > 0)
            {
                return TraceInput.FromMessages(list);
            }
        }

        diagnostics.Error("RC1005", "'input' must be a non-empty string or a non-empty list of {role, content} messages", at);
        return null;
    }

    private static Provenance ReadProvenance(JsonElement root, Func<string, SourceLocation> at, DiagnosticBag diagnostics)
    {
        if (!root.TryGetProperty("provenance", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return new Provenance(ProvenanceKind.Manual);
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            diagnostics.Error("RC1005", "'provenance' must be an object {kind, trace_id, note}", at("provenance"));
            return new Provenance(ProvenanceKind.Manual);
        }

        var kind = Enum<ProvenanceKind>(element, "kind", _ => at("provenance"), diagnostics) ?? ProvenanceKind.Manual;
        return new Provenance(kind, String(element, "trace_id"), String(element, "note"));
    }

    private static T? Enum<T>(JsonElement element, string field, Func<string, SourceLocation> at, DiagnosticBag diagnostics)
        where T : struct, System.Enum
    {
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        if (EnumNames.TryParse<T>(text, out var parsed))
        {
            return parsed;
        }

        diagnostics.Error("RC1007", $"'{field}' has the unknown value '{text}'", at(field), Spelling.Hint(text, EnumNames.Of<T>()));
        return null;
    }

    private static DateOnly? Date(JsonElement element, string field, Func<string, SourceLocation> at, DiagnosticBag diagnostics)
    {
        if (!element.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.String && DateOnly.TryParseExact(value.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }

        diagnostics.Error("RC1005", $"'{field}' must be a date written YYYY-MM-DD", at(field), $"found {value.GetRawText()}");
        return null;
    }

    private static string? String(JsonElement element, string field) =>
        element.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The 1-based column of a field's name in the raw line, or 1 when it is absent.</summary>
    private static int Column(string line, string field)
    {
        var index = line.IndexOf('"' + field + '"', StringComparison.Ordinal);
        return index < 0 ? 1 : index + 1;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(". ", StringComparison.Ordinal);
        return cut < 0 ? message : message[..(cut + 1)];
    }
}
