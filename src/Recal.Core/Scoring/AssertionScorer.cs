using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using NJsonSchema;
using Recal.Domain;
using Recal.Text;

namespace Recal.Scoring;

/// <summary>
/// The deterministic checks (layer 1) a case lists in <c>assertions</c>: equals, contains, not_contains, regex,
/// json_schema, json_path, refusal and length (docs/scoring.md). A broken assertion is an error result, never a pass.
/// </summary>
public sealed partial class AssertionScorer : IScorer
{
    public static IReadOnlyList<string> Types { get; } = ["equals", "contains", "not_contains", "regex", "json_schema", "json_path", "refusal", "length"];

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    public async ValueTask<IReadOnlyList<ScoreResult>> ScoreAsync(EvalCase evalCase, string output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        ArgumentNullException.ThrowIfNull(output);
        var results = new List<ScoreResult>(evalCase.Assertions.Count);
        foreach (var assertion in evalCase.Assertions)
        {
            results.Add(await CheckAsync(assertion, output).ConfigureAwait(false));
        }

        return results;
    }

    public static async ValueTask<ScoreResult> CheckAsync(Assertion assertion, string output)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        ArgumentNullException.ThrowIfNull(output);
        var type = assertion.Type;
        return type switch
        {
            "equals" => Equal(assertion, output),
            "contains" => Contains(assertion, output, expectPresent: true),
            "not_contains" => Contains(assertion, output, expectPresent: false),
            "regex" => Regex(assertion, output),
            "json_schema" => await JsonSchemaCheckAsync(assertion, output).ConfigureAwait(false),
            "json_path" => JsonPathCheck(assertion, output),
            "refusal" => Refusal(assertion, output),
            "length" => Length(assertion, output),
            _ => ScoreResult.Error(type, $"unknown assertion type '{type}' ({Spelling.Hint(type, [.. Types])})"),
        };
    }

    private static ScoreResult Equal(Assertion assertion, string output)
    {
        if (assertion.Value is not { ValueKind: JsonValueKind.String } value)
        {
            return ScoreResult.Error("equals", "'value' must be the expected text");
        }

        var comparison = Flag(assertion, "ignore_case") ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return string.Equals(output.Trim(), value.GetString()!.Trim(), comparison)
            ? ScoreResult.Pass("equals")
            : ScoreResult.Fail("equals", $"expected exactly '{Cut(value.GetString()!)}', got '{Cut(output)}'");
    }

    /// <summary>Contains every listed text (or none, for not_contains); case-insensitive unless case_sensitive is true.</summary>
    private static ScoreResult Contains(Assertion assertion, string output, bool expectPresent)
    {
        var name = expectPresent ? "contains" : "not_contains";
        var needles = Texts(assertion.Value);
        if (needles is null || needles.Count == 0)
        {
            return ScoreResult.Error(name, "'value' must be a text or a list of texts");
        }

        var comparison = Flag(assertion, "case_sensitive") ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var wrong = needles.Where(n => output.Contains(n, comparison) != expectPresent).ToList();
        return wrong.Count == 0
            ? ScoreResult.Pass(name)
            : ScoreResult.Fail(name, expectPresent
                ? $"missing {string.Join(", ", wrong.Select(w => $"'{w}'"))}"
                : $"contains {string.Join(", ", wrong.Select(w => $"'{w}'"))}");
    }

    private static ScoreResult Regex(Assertion assertion, string output)
    {
        if (assertion.Value is not { ValueKind: JsonValueKind.String } value)
        {
            return ScoreResult.Error("regex", "'value' must be a regular expression");
        }

        try
        {
            var options = Flag(assertion, "ignore_case") ? RegexOptions.IgnoreCase : RegexOptions.None;
            return System.Text.RegularExpressions.Regex.IsMatch(output, value.GetString()!, options, RegexTimeout)
                ? ScoreResult.Pass("regex")
                : ScoreResult.Fail("regex", $"no match for /{value.GetString()}/");
        }
        catch (ArgumentException e)
        {
            return ScoreResult.Error("regex", $"invalid regular expression /{value.GetString()}/: {e.Message}");
        }
        catch (RegexMatchTimeoutException)
        {
            return ScoreResult.Error("regex", $"/{value.GetString()}/ took longer than {RegexTimeout.TotalSeconds:0} s on this output");
        }
    }

    private static async ValueTask<ScoreResult> JsonSchemaCheckAsync(Assertion assertion, string output)
    {
        if (assertion.Value is not { ValueKind: JsonValueKind.Object } value)
        {
            return ScoreResult.Error("json_schema", "'value' must be a JSON Schema object");
        }

        JsonSchema schema;
        try
        {
            schema = await JsonSchema.FromJsonAsync(value.GetRawText()).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Newtonsoft.Json.JsonException or InvalidOperationException or NotSupportedException)
        {
            return ScoreResult.Error("json_schema", $"the schema does not load: {e.Message}");
        }

        if (!TryParseJson(output, out _, out var parseError))
        {
            return ScoreResult.Fail("json_schema", $"the output is not JSON: {parseError}");
        }

        var errors = schema.Validate(ExtractJson(output));
        return errors.Count == 0
            ? ScoreResult.Pass("json_schema")
            : ScoreResult.Fail("json_schema", string.Join("; ", errors.Take(3).Select(e => $"{e.Path}: {e.Kind}")));
    }

    /// <summary>The value at <c>path</c> (<c>$.a.b[0]</c>) must equal <c>value</c> as JSON.</summary>
    private static ScoreResult JsonPathCheck(Assertion assertion, string output)
    {
        if (!assertion.Arguments.TryGetValue("path", out var pathElement) || pathElement.ValueKind != JsonValueKind.String || assertion.Value is not { } expected)
        {
            return ScoreResult.Error("json_path", "needs 'path' (e.g. \"$.order.status\") and the expected 'value'");
        }

        var path = pathElement.GetString()!;
        if (!PathPattern().IsMatch(path))
        {
            return ScoreResult.Error("json_path", $"invalid path '{path}': write it like $.order.items[0].sku");
        }

        if (!TryParseJson(output, out var document, out var parseError))
        {
            return ScoreResult.Fail("json_path", $"the output is not JSON: {parseError}");
        }

        using (document)
        {
            if (!TryResolve(document!.RootElement, path, out var actual, out var pathError))
            {
                return ScoreResult.Fail("json_path", pathError);
            }

            return JsonEquals(actual, expected)
                ? ScoreResult.Pass("json_path")
                : ScoreResult.Fail("json_path", $"{path} is {Cut(actual.GetRawText())}, expected {Cut(expected.GetRawText())}");
        }
    }

    /// <summary>With <c>value: true</c> the output must be a refusal; with <c>false</c> it must not be.</summary>
    private static ScoreResult Refusal(Assertion assertion, string output)
    {
        var expectRefusal = assertion.Value is not { ValueKind: JsonValueKind.False };
        var refused = IsRefusal(output);
        return refused == expectRefusal
            ? ScoreResult.Pass("refusal")
            : ScoreResult.Fail("refusal", expectRefusal ? "expected a refusal, the output answers" : "the output refuses");
    }

    /// <summary>Common refusal phrasings; see docs/scoring.md for the list.</summary>
    public static bool IsRefusal(string output) => RefusalPattern().IsMatch(output ?? string.Empty);

    private static ScoreResult Length(Assertion assertion, string output)
    {
        int? Bound(string name) => assertion.Arguments.TryGetValue(name, out var v) && v.TryGetInt32(out var n) ? n : null;
        var min = Bound("min");
        var max = Bound("max");
        if (min is null && max is null)
        {
            return ScoreResult.Error("length", "needs 'min' and/or 'max' (characters)");
        }

        var length = output.Trim().Length;
        return length < min ? ScoreResult.Fail("length", $"{length} characters, fewer than {min}")
            : length > max ? ScoreResult.Fail("length", $"{length} characters, more than {max}")
            : ScoreResult.Pass("length", string.Create(CultureInfo.InvariantCulture, $"{length} characters"));
    }

    private static bool TryParseJson(string output, out JsonDocument? document, out string error)
    {
        try
        {
            document = JsonDocument.Parse(ExtractJson(output));
            error = string.Empty;
            return true;
        }
        catch (JsonException e)
        {
            document = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>Models often fence JSON in ```json blocks; the fence is not part of the answer.</summary>
    private static string ExtractJson(string output)
    {
        var fenced = FencePattern().Match(output);
        return fenced.Success ? fenced.Groups[1].Value : output.Trim();
    }

    internal static bool TryResolve(JsonElement root, string path, out JsonElement value, out string error)
    {
        value = root;
        error = string.Empty;
        var match = PathPattern().Match(path);
        if (!match.Success)
        {
            error = $"invalid path '{path}': write it like $.order.items[0].sku";
            return false;
        }

        foreach (Capture step in match.Groups["step"].Captures)
        {
            var text = step.Value;
            if (text.StartsWith('['))
            {
                var index = int.Parse(text[1..^1], CultureInfo.InvariantCulture);
                if (value.ValueKind != JsonValueKind.Array || index >= value.GetArrayLength())
                {
                    error = $"{path}: no element {index}";
                    return false;
                }

                value = value[index];
            }
            else
            {
                var name = text.TrimStart('.');
                if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(name, out value))
                {
                    error = $"{path}: no property '{name}'";
                    return false;
                }
            }
        }

        return true;
    }

    private static bool JsonEquals(JsonElement a, JsonElement b) => a.ValueKind switch
    {
        JsonValueKind.Number when b.ValueKind == JsonValueKind.Number => a.GetDecimal() == b.GetDecimal(),
        _ => JsonElement.DeepEquals(a, b),
    };

    private static List<string>? Texts(JsonElement? value) => value switch
    {
        { ValueKind: JsonValueKind.String } s => [s.GetString()!],
        { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) => [.. a.EnumerateArray().Select(e => e.GetString()!)],
        _ => null,
    };

    private static bool Flag(Assertion assertion, string name) =>
        assertion.Arguments.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static string Cut(string text) => text.Length > 60 ? text[..60] + "…" : text;

    [GeneratedRegex(@"\b(I('m| am) (sorry|afraid),? (but )?I (can('|no)t|am unable|won't)|I (can('|no)t|am unable to|won't|will not) (help|assist|provide|do that|answer|comply)|I('m| am) not able to (help|assist|provide)|(as an AI|I must decline))", RegexOptions.IgnoreCase)]
    private static partial Regex RefusalPattern();

    [GeneratedRegex(@"```(?:json)?\s*([\s\S]*?)\s*```")]
    private static partial Regex FencePattern();

    [GeneratedRegex(@"^\$(?<step>\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$")]
    private static partial Regex PathPattern();
}
