using System.Globalization;
using System.Text.Json;
using Recal.Diagnostics;

namespace Recal.Judging;

/// <summary>
/// Reads labelled judgments from JSON Lines, a JSON array, or a JSON object with an <c>items</c> array. Each item carries
/// one judge's verdict (<c>judge</c>, optional <c>judge_id</c>) or several (<c>judges</c>: judge id → verdict or
/// {judge, judge_swapped}); docs/judging.md. Bad items are reported with their line and skipped.
/// </summary>
public static class JudgeAgreementReader
{
    private const string Example = "e.g. {\"id\":\"q1\",\"segment\":\"billing\",\"human\":\"pass\",\"judge\":\"fail\"}";
    private const string DocumentHint = "a whole-file JSON document must be an array of items or {\"items\": [...]}; JSON Lines give one item per line";

    public static IReadOnlyList<LabelledJudgment> Read(string path, DiagnosticBag diagnostics)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var bytes = File.ReadAllBytes(path);
        var start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        var items = new List<LabelledJudgment>();
        var seen = new Dictionary<(string Judge, string Id), int>();
        var sink = new ItemSink(path, items, seen, diagnostics);
        var first = FirstNonWhitespace(bytes, start);
        if (first < 0)
        {
            return items;
        }

        if (bytes[first] == (byte)'[' || (bytes[first] == (byte)'{' && !FirstLineIsAnObject(bytes, first)))
        {
            ReadDocument(bytes, start, sink);
        }
        else
        {
            ReadLines(bytes, start, sink);
        }

        return items;
    }

    private static void ReadLines(byte[] bytes, int start, ItemSink sink)
    {
        var line = 0;
        var hinted = false;
        var position = start;
        while (position < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', position);
            end = end < 0 ? bytes.Length : end;
            var text = bytes.AsSpan(position, end - position);
            position = end + 1;
            line++;
            if (text.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            var location = new SourceLocation(sink.Path, line);
            try
            {
                using var document = JsonDocument.Parse(text.ToArray());
                sink.Add(document.RootElement, location);
            }
            catch (JsonException e)
            {
                var hint = hinted ? null : "JSON Lines want one whole item per line; " + DocumentHint;
                hinted = true;
                sink.Diagnostics.Error("RC1401", $"not valid JSON: {e.Message}", location with { Column = (int)(e.BytePositionInLine ?? 0) + 1 }, hint);
            }
        }
    }

    private static void ReadDocument(byte[] bytes, int start, ItemSink sink)
    {
        var lines = new LineIndex(bytes);
        var reader = new Utf8JsonReader(bytes.AsSpan(start), new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        try
        {
            reader.Read();
            if (reader.TokenType == JsonTokenType.StartObject && !MoveToItems(ref reader))
            {
                sink.Diagnostics.Error("RC1403", "the file is one JSON object without an 'items' array", new SourceLocation(sink.Path, 1), DocumentHint);
                return;
            }

            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                var line = lines.LineOf(start + (int)reader.TokenStartIndex);
                using var element = JsonDocument.ParseValue(ref reader);
                sink.Add(element.RootElement, new SourceLocation(sink.Path, line));
            }
        }
        catch (JsonException e)
        {
            sink.Diagnostics.Error("RC1401", $"not valid JSON: {e.Message}", new SourceLocation(sink.Path, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1), DocumentHint);
        }
    }

    /// <summary>Positions the reader on the start of the top-level object's <c>items</c> array.</summary>
    private static bool MoveToItems(ref Utf8JsonReader reader)
    {
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isItems = reader.ValueTextEquals("items"u8);
            reader.Read();
            if (isItems && reader.TokenType == JsonTokenType.StartArray)
            {
                return true;
            }

            reader.Skip();
        }

        return false;
    }

    private static int FirstNonWhitespace(byte[] bytes, int start)
    {
        for (var i = start; i < bytes.Length; i++)
        {
            if (bytes[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Whether the first line is an item of its own (JSON Lines), not the start or whole of an {"items": [...]} document.</summary>
    private static bool FirstLineIsAnObject(byte[] bytes, int first)
    {
        var end = Array.IndexOf(bytes, (byte)'\n', first);
        var line = bytes.AsSpan(first, (end < 0 ? bytes.Length : end) - first);
        try
        {
            using var document = JsonDocument.Parse(line.ToArray());
            var root = document.RootElement;
            return root.ValueKind == JsonValueKind.Object && !(root.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array && !root.TryGetProperty("human", out _));
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A label as text: strings as they are, numbers and booleans as written; null for JSON null or absent.</summary>
    private static string? Label(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private static string? Verdict(JsonElement value) => value.ValueKind == JsonValueKind.Undefined ? null : Label(value) is { Length: > 0 } label ? label : JudgeAgreement.Unparsed;

    private sealed class LineIndex(byte[] bytes)
    {
        private int _position;
        private int _line = 1;

        /// <summary>The 1-based line of a byte offset; offsets are asked for in increasing order.</summary>
        public int LineOf(int offset)
        {
            for (; _position < offset && _position < bytes.Length; _position++)
            {
                _line += bytes[_position] == (byte)'\n' ? 1 : 0;
            }

            return _line;
        }
    }

    private sealed record ItemSink(string Path, List<LabelledJudgment> Items, Dictionary<(string Judge, string Id), int> Seen, DiagnosticBag Diagnostics)
    {
        public void Add(JsonElement root, SourceLocation location)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Diagnostics.Error("RC1401", $"each item must be a JSON object, not {root.ValueKind.ToString().ToLowerInvariant()}", location, Example);
                return;
            }

            JsonElement Get(JsonElement element, string name) => element.TryGetProperty(name, out var v) ? v : default;
            var human = Label(Get(root, "human"));
            var hasJudge = root.TryGetProperty("judge", out var judge);
            var hasJudges = root.TryGetProperty("judges", out var judges);
            if (human is null || (!hasJudge && !hasJudges))
            {
                Diagnostics.Error("RC1401", "each item needs a 'human' label and a 'judge' verdict (or 'judges': judge id → verdict)", location, Example);
                return;
            }

            if (hasJudge && hasJudges)
            {
                Diagnostics.Error("RC1401", "give either 'judge' (with an optional 'judge_id') or 'judges', not both", location);
                return;
            }

            if (hasJudges && judges.ValueKind != JsonValueKind.Object)
            {
                Diagnostics.Error("RC1401", "'judges' must be an object: judge id → verdict, or judge id → {\"judge\": …, \"judge_swapped\": …}", location);
                return;
            }

            var id = Label(Get(root, "id")) ?? $"line {location.Line}";
            var segment = Label(Get(root, "segment")) ?? "(none)";
            if (hasJudge)
            {
                var judgeId = Label(Get(root, "judge_id")) ?? JudgeAgreement.DefaultJudge;
                Keep(new LabelledJudgment(id, segment, human, Verdict(judge)!, Verdict(Get(root, "judge_swapped")), judgeId, location));
                return;
            }

            foreach (var entry in judges.EnumerateObject())
            {
                var value = entry.Value;
                var verdict = value.ValueKind == JsonValueKind.Object ? Verdict(Get(value, "judge")) ?? JudgeAgreement.Unparsed : Verdict(value)!;
                var swapped = value.ValueKind == JsonValueKind.Object ? Verdict(Get(value, "judge_swapped")) : null;
                Keep(new LabelledJudgment(id, segment, human, verdict, swapped, entry.Name, location));
            }
        }

        private void Keep(LabelledJudgment item)
        {
            if (Seen.TryGetValue((item.JudgeId, item.Id), out var firstLine))
            {
                var who = item.JudgeId == JudgeAgreement.DefaultJudge ? string.Empty : $" for judge '{item.JudgeId}'";
                Diagnostics.Error("RC1402", $"duplicate id '{item.Id}'{who}, first given at line {firstLine.ToString(CultureInfo.InvariantCulture)}; this one is skipped", item.Location, "give every item its own id");
                return;
            }

            Seen[(item.JudgeId, item.Id)] = item.Location?.Line ?? 0;
            Items.Add(item);
        }
    }
}
