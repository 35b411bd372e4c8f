using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Recal.Lifecycle;

namespace Recal.Validation;

/// <summary>Writes a scenario's eval project: recal.yaml, taxonomy.yaml, policy.yaml and the gold cases.</summary>
public static class ValidationProject
{
    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string GoldPath(string root) => Path.Combine(root, "cases", "gold.jsonl");

    /// <summary>The project files, with an empty gold file: the set is drawn once traffic is stored.</summary>
    public static void Write(string root, string name, TrafficDesign design)
    {
        ArgumentNullException.ThrowIfNull(design);
        Directory.CreateDirectory(Path.Combine(root, "cases"));
        File.WriteAllText(Path.Combine(root, "recal.yaml"), $"""
            version: 1
            name: {name}
            store: .recal/recal.db
            taxonomy: taxonomy.yaml
            policy: policy.yaml
            cases: cases

            """);
        File.WriteAllText(Path.Combine(root, "taxonomy.yaml"), Taxonomy(design));
        File.WriteAllText(Path.Combine(root, "policy.yaml"), Policy(design));
        File.WriteAllText(GoldPath(root), string.Empty);
    }

    /// <summary>
    /// The drawn traces become gold cases labelled with their true intent (what the team's labelling gives them), added
    /// on the day of their trace.
    /// </summary>
    public static void WriteGold(string root, IEnumerable<SampledTrace> drawn, IReadOnlyDictionary<string, string> trueIntent)
    {
        using var writer = new StreamWriter(GoldPath(root), append: false, new UTF8Encoding(false));
        using var buffer = new MemoryStream();
        var number = 0;
        foreach (var sampled in drawn.OrderBy(d => d.Trace.Key, StringComparer.Ordinal))
        {
            var trace = sampled.Trace.Trace;
            var intent = trueIntent[trace.Id!];
            buffer.SetLength(0);
            using (var json = new Utf8JsonWriter(buffer, Json))
            {
                json.WriteStartObject();
                json.WriteString("id", string.Create(CultureInfo.InvariantCulture, $"gold-{++number:0000}"));
                json.WriteString("input", trace.Input.ClassificationText);
                json.WriteStartArray("references");
                json.WriteStartObject();
                json.WriteString("text", $"A helpful answer for {intent.Replace('_', ' ')}.");
                json.WriteString("grade", "high");
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteString("intent", intent);
                json.WriteStartObject("provenance");
                json.WriteString("kind", "sampled");
                json.WriteString("trace_id", trace.Id);
                json.WriteEndObject();
                json.WriteString("added", trace.Timestamp.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                json.WriteString("pool", "gold");
                json.WriteEndObject();
            }

            writer.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            writer.Write('\n');
        }
    }

    private static string Taxonomy(TrafficDesign design)
    {
        var yaml = new StringBuilder("""
            version: 1

            classifier:
              unknown_below: 0.2

            intents:

            """);
        foreach (var intent in design.Taxonomy)
        {
            yaml.Append(CultureInfo.InvariantCulture, $"  - name: {intent.Name}\n    group: {intent.Group}\n    description: {Quote(intent.Name.Replace('_', ' '))}\n    examples:\n");
            foreach (var example in intent.Examples)
            {
                yaml.Append("      - ").Append(Quote(example)).Append('\n');
            }
        }

        return yaml.ToString();
    }

    /// <summary>
    /// The bundled sample's policy (samples/clinc150-support/policy.yaml), alarm thresholds included, with the scenario's
    /// size and floor and no fixed weight: every intent gets its traffic share. The gap timeline's thresholds are left at
    /// their defaults, as the sample leaves them.
    /// </summary>
    private static string Policy(TrafficDesign design)
    {
        var sample = File.ReadAllText(Path.Combine(SharedData.RepositoryRoot, "samples", "clinc150-support", "policy.yaml"));
        string Set(string text, string key, string value) =>
            Regex.Replace(text, $@"^(\s*){key}:.*$", m => $"{m.Groups[1].Value}{key}: {value}", RegexOptions.Multiline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var policy = Set(sample, "size", design.GoldSize.ToString(CultureInfo.InvariantCulture));
        policy = Set(policy, "floor", design.Floor.ToString(CultureInfo.InvariantCulture));
        return Set(policy, "weights", "{}");
    }

    /// <summary>A YAML double-quoted scalar (JSON string escapes are valid YAML).</summary>
    private static string Quote(string text) => JsonSerializer.Serialize(text);
}
