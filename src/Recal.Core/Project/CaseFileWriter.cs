using System.Text;
using System.Text.Json;
using Recal.Domain;

namespace Recal.Project;

/// <summary>Writes eval cases as JSONL lines in the documented field order.</summary>
public static class CaseFileWriter
{
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string ToJson(EvalCase evalCase)
    {
        ArgumentNullException.ThrowIfNull(evalCase);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            json.WriteString("id", evalCase.Id);
            if (evalCase.Input.Text is { } text)
            {
                json.WriteString("input", text);
            }
            else
            {
                json.WriteStartArray("input");
                foreach (var message in evalCase.Input.Messages!)
                {
                    json.WriteStartObject();
                    json.WriteString("role", message.Role);
                    json.WriteString("content", message.Content);
                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            json.WriteStartArray("references");
            foreach (var reference in evalCase.References)
            {
                json.WriteStartObject();
                json.WriteString("text", reference.Text);
                json.WriteString("grade", EnumNames.Name(reference.Grade));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("assertions");
            foreach (var assertion in evalCase.Assertions)
            {
                json.WriteStartObject();
                json.WriteString("type", assertion.Type);
                if (assertion.Value is { } value)
                {
                    json.WritePropertyName("value");
                    value.WriteTo(json);
                }

                foreach (var (name, argument) in assertion.Arguments)
                {
                    json.WritePropertyName(name);
                    argument.WriteTo(json);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("intent", evalCase.Intent);
            json.WriteStartObject("cohort");
            foreach (var (dimension, value) in evalCase.Cohort)
            {
                json.WriteString(dimension, value);
            }

            json.WriteEndObject();
            if (evalCase.Difficulty is { } difficulty)
            {
                json.WriteString("difficulty", EnumNames.Name(difficulty));
            }
            else
            {
                json.WriteNull("difficulty");
            }

            json.WriteStartObject("provenance");
            json.WriteString("kind", EnumNames.Name(evalCase.Provenance.Kind));
            if (evalCase.Provenance.TraceId is { } traceId)
            {
                json.WriteString("trace_id", traceId);
            }

            if (evalCase.Provenance.Note is { } note)
            {
                json.WriteString("note", note);
            }

            json.WriteEndObject();
            json.WriteString("added", evalCase.Added.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            if (evalCase.ValidUntil is { } validUntil)
            {
                json.WriteString("valid_until", validUntil.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                json.WriteNull("valid_until");
            }

            json.WriteString("pool", EnumNames.Name(evalCase.Pool));
            json.WriteStartArray("tags");
            foreach (var tag in evalCase.Tags)
            {
                json.WriteStringValue(tag);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
