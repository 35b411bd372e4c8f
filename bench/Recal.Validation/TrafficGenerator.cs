using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Recal.Validation;

/// <summary>One generated trace with its true intent and its plan.</summary>
public sealed record GeneratedTrace(string Id, int Week, DateTimeOffset Timestamp, string Text, string Intent, string Plan);

/// <summary>Draws each week's traces from the scenario's mix and writes them in Recal's trace format.</summary>
public static class TrafficGenerator
{
    private static readonly JsonWriterOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// About <see cref="TrafficDesign.TracesPerWeek"/> a week (±10%), each a real text of its component, at a uniform time
    /// in the week, with a plan drawn from the week's plan mix (its own random stream, independent of the intent).
    /// </summary>
    public static List<GeneratedTrace> Generate(TrafficDesign design, int seed)
    {
        ArgumentNullException.ThrowIfNull(design);
        var random = new Random(unchecked((seed * 7919) + 104729));
        var plans = new Random(unchecked((seed * 6271) + 15485863));
        var traces = new List<GeneratedTrace>(design.TracesPerWeek * Timeline.Weeks * 11 / 10);
        for (var week = 1; week <= Timeline.Weeks; week++)
        {
            var mix = design.Week(week);
            var total = mix.Sum(c => c.Weight);
            var planMix = design.Plans(week);
            var planTotal = planMix.Sum(p => p.Weight);
            var count = (int)Math.Round(design.TracesPerWeek * (0.9 + (0.2 * random.NextDouble())));
            var start = Timeline.WeekStart(week);
            var week0 = new List<GeneratedTrace>(count);
            for (var i = 0; i < count; i++)
            {
                var component = Pick(mix, c => c.Weight, random.NextDouble() * total);
                var text = component.Texts[random.Next(component.Texts.Count)];
                var time = start.AddSeconds(Math.Floor(random.NextDouble() * 7 * 24 * 3600));
                var plan = Pick(planMix, p => p.Weight, plans.NextDouble() * planTotal).Plan;
                week0.Add(new GeneratedTrace(string.Create(CultureInfo.InvariantCulture, $"t-{week:00}-{i:00000}"), week, time, text, component.Intent, plan));
            }

            traces.AddRange(week0.OrderBy(t => t.Timestamp));
        }

        return traces;
    }

    /// <summary>Writes the traces as JSONL, each with its plan in its metadata; those of a <paramref name="labelled"/> intent carry it.</summary>
    public static void Write(string path, IEnumerable<GeneratedTrace> traces, IReadOnlySet<string> labelled)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        using var buffer = new MemoryStream();
        foreach (var trace in traces)
        {
            buffer.SetLength(0);
            using (var json = new Utf8JsonWriter(buffer, Json))
            {
                json.WriteStartObject();
                json.WriteString("id", trace.Id);
                json.WriteString("timestamp", trace.Timestamp.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
                json.WriteString("input", trace.Text);
                if (labelled.Contains(trace.Intent))
                {
                    json.WriteString("intent", trace.Intent);
                }

                json.WriteStartObject("metadata");
                json.WriteString(PlanCohort.Dimension, trace.Plan);
                json.WriteEndObject();

                json.WriteEndObject();
            }

            writer.Write(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
            writer.Write('\n');
        }
    }

    private static T Pick<T>(IReadOnlyList<T> mix, Func<T, double> weight, double roll)
    {
        foreach (var component in mix)
        {
            if ((roll -= weight(component)) < 0)
            {
                return component;
            }
        }

        return mix[^1];
    }
}
