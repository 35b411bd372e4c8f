using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Recal.Lifecycle;
using Recal.Project;

namespace Recal.Validation;

/// <summary>Writes a scenario's eval project: recal.yaml, taxonomy.yaml, policy.yaml and the gold cases.</summary>
public static class ValidationProject
{
    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly Lazy<string> Starter = new(StarterPolicy);

    public static string GoldPath(string root) => Path.Combine(root, "cases", "gold.jsonl");

    /// <summary>The starter policy's <c>alarms:</c> entries as written (<c>key: value</c>, comments dropped): the thresholds every scenario runs with.</summary>
    public static IReadOnlyList<string> StarterAlarms =>
    [
        .. Starter.Value.ReplaceLineEndings("\n").Split('\n')
            .SkipWhile(l => !l.StartsWith("alarms:", StringComparison.Ordinal)).Skip(1)
            .TakeWhile(l => l.Length == 0 || char.IsWhiteSpace(l[0]))
            .Select(l => l.Split('#')[0].Trim())
            .Where(l => l.Length > 0),
    ];

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
    /// The drawn traces become gold cases labelled with their true intent and their plan (what the team's labelling gives
    /// them), added on the day of their trace. A trace whose true intent is not in the taxonomy (an out-of-scope query
    /// where the taxonomy has no intent for them) cannot be labelled and is left out.
    /// </summary>
    /// <returns>The number of cases written.</returns>
    public static int WriteGold(string root, IEnumerable<SampledTrace> drawn, IReadOnlyDictionary<string, GeneratedTrace> truth, TrafficDesign design)
    {
        ArgumentNullException.ThrowIfNull(truth);
        ArgumentNullException.ThrowIfNull(design);
        var intents = design.Taxonomy.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        using var writer = new StreamWriter(GoldPath(root), append: false, new UTF8Encoding(false));
        using var buffer = new MemoryStream();
        var number = 0;
        foreach (var sampled in drawn.OrderBy(d => d.Trace.Key, StringComparer.Ordinal))
        {
            var trace = sampled.Trace.Trace;
            var (intent, plan) = (truth[trace.Id!].Intent, truth[trace.Id!].Plan);
            if (!intents.Contains(intent))
            {
                continue;
            }

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
                json.WriteStartObject("cohort");
                json.WriteString(PlanCohort.Dimension, plan);
                json.WriteEndObject();
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

        return number;
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

        yaml.Append(CultureInfo.InvariantCulture, $"""

            cohorts:
              - name: {PlanCohort.Dimension}
                field: {PlanCohort.Dimension}
                values: [{string.Join(", ", PlanCohort.Values)}]
                missing: {PlanCohort.Missing}

            """);
        return yaml.ToString();
    }

    /// <summary>
    /// The starter policy <c>recal init</c> writes, alarm thresholds included, with the scenario's size and floor and no
    /// fixed weight: every intent gets its traffic share. What is validated is what a new project starts with; the
    /// thresholds it leaves out (the gap timeline's) are at their defaults, as in a new project.
    /// </summary>
    private static string Policy(TrafficDesign design)
    {
        string Set(string text, string key, string value) =>
            Regex.Replace(text, $@"^(\s*){key}:.*$", m => $"{m.Groups[1].Value}{key}: {value}", RegexOptions.Multiline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        var policy = Set(Starter.Value, "size", design.GoldSize.ToString(CultureInfo.InvariantCulture));
        policy = Set(policy, "floor", design.Floor.ToString(CultureInfo.InvariantCulture));
        return Set(policy, "weights", "{}");
    }

    /// <summary>The policy.yaml of a project scaffolded as <c>recal init</c> scaffolds it, read once per process.</summary>
    private static string StarterPolicy()
    {
        var folder = Path.Combine(Path.GetTempPath(), "recal-validation-starter-" + Guid.NewGuid().ToString("N")[..12]);
        try
        {
            var diagnostics = ProjectScaffolder.Scaffold(folder, "starter");
            if (diagnostics.Count > 0)
            {
                throw new InvalidOperationException("recal init's scaffolder reported: " + string.Join("; ", diagnostics.Select(d => d.Message)));
            }

            return File.ReadAllText(Path.Combine(folder, "policy.yaml"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A YAML double-quoted scalar (JSON string escapes are valid YAML).</summary>
    private static string Quote(string text) => JsonSerializer.Serialize(text);
}
