using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Recal.Samples;

/// <summary>
/// Draws the eval set from the first four weeks of traffic: stratified by intent in proportion to traffic with a
/// floor of three per intent seen, plus cases written from escalations (bug reports) and a few retired ones.
/// </summary>
internal static class CaseGenerator
{
    public const int Size = 480;
    public const int Floor = 3;
    public const int BugReports = 20;
    public const int Retired = 5;

    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static List<string> Generate(Clinc clinc, IReadOnlyList<GeneratedTrace> traffic, Random random)
    {
        var early = traffic.Where(t => t.Week <= Scenario.EvalWeeks && !t.Internal).ToList();
        var byIntent = early.GroupBy(t => t.Intent).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        var lines = new List<string>();
        var usedTexts = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var group in byIntent)
        {
            var allocation = Math.Max(Floor, (int)Math.Round(Size * group.Count() / (double)early.Count));
            var candidates = group.Where(t => usedTexts.Add(t.Text)).ToList();
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(candidates));
            foreach (var trace in candidates.Take(allocation))
            {
                lines.Add(Case($"gold-{++number:0000}", trace, clinc, "gold", "sampled", null, random));
            }
        }

        // Escalated out-of-scope and hard conversations turned into cases by the support team.
        var escalations = early.Where(t => t.Escalated && (t.Intent == Scenario.OutOfScope || t.Perturbed) && usedTexts.Add(t.Text)).Take(BugReports).ToList();
        foreach (var trace in escalations)
        {
            lines.Add(Case($"bug-{++number:0000}", trace, clinc, "gold", "bug_report", "escalated to a human", random));
        }

        var retired = early.Where(t => usedTexts.Add(t.Text)).Take(Retired).ToList();
        foreach (var trace in retired)
        {
            lines.Add(Case($"retired-{++number:0000}", trace, clinc, "retired", "sampled", null, random));
        }

        return lines;
    }

    /// <summary>Cases drawn at random (so in traffic proportion) from the last two weeks: a fresh shadow pool.</summary>
    public const int ShadowSize = 300;

    public static List<string> Shadow(Clinc clinc, IReadOnlyList<GeneratedTrace> traffic, IReadOnlyCollection<string> goldTexts, Random random)
    {
        var recent = traffic.Where(t => t.Week > Scenario.Weeks - 2 && !t.Internal && !goldTexts.Contains(t.Text)).ToList();
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(recent));
        var used = new HashSet<string>(StringComparer.Ordinal);
        return [.. recent.Where(t => used.Add(t.Text)).Take(ShadowSize).OrderBy(t => t.Timestamp)
            .Select((t, i) => Case($"shadow-{i + 1:0000}", t, clinc, "shadow", "sampled", null, random, DateOnly.FromDateTime(t.Timestamp.UtcDateTime)))];
    }

    /// <summary>The holdout, drawn at random (in traffic proportion) from the same four weeks as gold, disjoint from it.</summary>
    public const int HoldoutSize = 100;

    public static List<string> Holdout(Clinc clinc, IReadOnlyList<GeneratedTrace> traffic, IReadOnlyCollection<string> usedTexts, Random random)
    {
        var early = traffic.Where(t => t.Week <= Scenario.EvalWeeks && !t.Internal && !usedTexts.Contains(t.Text)).ToList();
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(early));
        var used = new HashSet<string>(StringComparer.Ordinal);
        return [.. early.Where(t => used.Add(t.Text)).Take(HoldoutSize).OrderBy(t => t.Timestamp)
            .Select((t, i) => Case($"holdout-{i + 1:0000}", t, clinc, "holdout", "sampled", null, random))];
    }

    /// <summary>Hard when perturbed or very short, medium when short, else easy.</summary>
    public static string Difficulty(GeneratedTrace trace) =>
        trace.Perturbed || trace.Text.Length < 20 ? "hard" : trace.Text.Length < 40 ? "medium" : "easy";

    private static string Case(string id, GeneratedTrace trace, Clinc clinc, string pool, string provenance, string? note, Random random, DateOnly? addedOn = null)
    {
        var domain = clinc.DomainOf[trace.Intent];
        var added = addedOn ?? new DateOnly(2026, 6, 15).AddDays(random.Next(14));
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Json))
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("input", trace.Text);
            json.WriteStartArray("references");
            WriteReference(json, Answers.For(trace.Intent, domain, high: true), "high");
            WriteReference(json, Answers.For(trace.Intent, domain, high: false), "borderline");
            json.WriteEndArray();
            json.WriteStartArray("assertions");
            if (Answers.Keyword(trace.Intent, domain) is { } keyword)
            {
                json.WriteStartObject();
                json.WriteString("type", "contains");
                json.WriteString("value", keyword);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("intent", trace.Intent);
            json.WriteStartObject("cohort");
            json.WriteString("plan", trace.Plan);
            json.WriteString("locale", trace.Locale);
            json.WriteString("surface", trace.Surface);
            json.WriteEndObject();
            json.WriteString("difficulty", Difficulty(trace));
            json.WriteStartObject("provenance");
            json.WriteString("kind", provenance);
            json.WriteString("trace_id", trace.Id);
            if (note is not null)
            {
                json.WriteString("note", note);
            }

            json.WriteEndObject();
            json.WriteString("added", added.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            json.WriteNull("valid_until");
            json.WriteString("pool", pool);
            json.WriteStartArray("tags");
            json.WriteStringValue(domain);
            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteReference(Utf8JsonWriter json, string text, string grade)
    {
        json.WriteStartObject();
        json.WriteString("text", text);
        json.WriteString("grade", grade);
        json.WriteEndObject();
    }
}
