using System.Globalization;
using System.Text;
using System.Text.Json;
using Recal.Diagnostics;
using Recal.Domain;

namespace Recal.Project;

/// <summary>
/// Writes what <c>recal init --from-traces</c> proposes: a commented taxonomy.yaml for the user to edit, a policy
/// whose size fits one floor per proposed intent, and starter cases drawn from the proposed intents.
/// </summary>
public static class ProposalWriter
{
    /// <summary>The tag every case <c>recal init</c> writes carries, so validation can say where it came from.</summary>
    public const string StarterTag = "starter";

    private static readonly JsonSerializerOptions Quoting = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The comment-wrapped text of one input: on one line, at most this many characters.</summary>
    private const int CommentChars = 160;

    public static string Taxonomy(TaxonomyProposal proposal)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var text = new StringBuilder();
        void Line(string line) => text.Append(line).Append('\n');
        string Percent(double share) => (share * 100).ToString(share < 0.1 ? "0.0" : "0", CultureInfo.InvariantCulture) + "%";
        Line("# Intents and cohort dimensions (docs/project-format.md#taxonomyyaml), proposed by recal init --from-traces");
        Line(string.Create(CultureInfo.InvariantCulture, $"# from a sample of {proposal.Sample.Count:N0} of the {proposal.Read:N0} traces read ({proposal.EmbedderId}; docs/taxonomy-from-traces.md)."));
        Line("# Every intent below is one cluster of that sample. Edit freely: rename intents to what your team calls them,");
        Line("# write each description, merge clusters that are one intent (join their examples), delete loose ones, and add");
        Line("# examples in your users' words. Then run recal validate; cases/ names these intents, so rename them there too.");
        Line("version: 1");
        Line("");
        Line("classifier:");
        Line("  # Traces whose best intent has a probability below this are labelled 'unknown'. auto calibrates it on");
        Line("  # held-out examples so that about unknown_rate of in-taxonomy requests go unknown; a number fixes it.");
        Line("  unknown_below: auto");
        Line("  unknown_rate: 0.05");
        Line("");
        if (proposal.Unplaced > 0)
        {
            Line(string.Create(CultureInfo.InvariantCulture, $"# {proposal.Unplaced:N0} sampled trace(s) fell in clusters too small to propose an intent; recal drift counts what no intent fits as unknown."));
        }

        Line("# Each intent's examples train the built-in classifier for unlabelled traces: keep at least 5.");
        if (proposal.Intents.Count == 0)
        {
            Line("intents: []");
        }
        else
        {
            Line("intents:");
        }

        foreach (var intent in proposal.Intents)
        {
            Line("");
            Line(string.Create(CultureInfo.InvariantCulture, $"  # {intent.Members.Count:N0} sampled traces ({Percent(intent.Share)}), cohesion {intent.Cohesion:0.00}{(intent.Silhouette is { } s ? string.Create(CultureInfo.InvariantCulture, $", silhouette {s:0.00}") : "")}."));
            if (intent.Terms.Count > 0)
            {
                Line("  # Distinctive words (share of its traces vs of the sample): " + string.Join(", ", intent.Terms.Select(t => $"{t.Term} {Percent(t.BlindSpotShare)} vs {Percent(t.WindowShare)}")));
            }

            if (!intent.Focused)
            {
                Line("  # Loose: no word is in a third of its traces; it may be several intents, or none. Split, merge or delete it.");
            }

            if (intent.Edge.Count > 0)
            {
                Line("  # Farthest from its centre (check they belong):");
                foreach (var i in intent.Edge)
                {
                    Line("  #   " + OneLine(proposal.Sample[i].Text));
                }
            }

            Line("  - name: " + intent.Name);
            Line("    description: " + Quote(Description(intent)));
            Line("    examples:");
            foreach (var i in intent.Examples)
            {
                Line("      - " + Quote(proposal.Sample[i].Text));
            }
        }

        Line("");
        Line("# Cohort dimensions come from trace metadata: fields with few values, proposed from every trace read. 'values'");
        Line("# lists the allowed values (empty: any); traces without the field, or with another value, get the 'missing' value.");
        if (proposal.Cohorts.Count == 0)
        {
            Line("# No metadata field has between 2 and 12 values on most traces; add dimensions by hand, e.g.");
            Line("#   - {name: plan, field: plan, values: [free, pro], missing: unknown}");
            Line("cohorts: []");
        }
        else
        {
            Line("cohorts:");
        }

        foreach (var cohort in proposal.Cohorts)
        {
            Line(string.Create(CultureInfo.InvariantCulture, $"  # '{cohort.Field}' is on {cohort.Traces:N0} of {proposal.Read:N0} traces: ")
                + string.Join(", ", cohort.Values.Select(v => $"{v.Key} {Percent((double)v.Value / cohort.Traces)}")));
            Line("  - name: " + cohort.Name);
            Line("    field: " + Quote(cohort.Field));
            Line("    values: [" + string.Join(", ", cohort.Values.Select(v => Quote(v.Key))) + "]");
            Line("    missing: " + cohort.Missing);
        }

        return text.ToString();
    }

    /// <summary>The proposed description: what the cluster has in common, for the user to rewrite as what users want.</summary>
    public static string Description(ProposedIntent intent)
    {
        ArgumentNullException.ThrowIfNull(intent);
        return intent.Terms.Count == 0
            ? "Proposed from traffic with no distinctive words: describe what these users want."
            : $"Proposed from traffic about {string.Join(", ", intent.Terms.Take(3).Select(t => t.Term))}: describe what these users want.";
    }

    /// <summary>A policy like the starter one with a size that fits a floor of 5 for every proposed intent.</summary>
    public static int PolicySize(int intents) => Math.Max(200, (int)Math.Ceiling(intents * 5 * 1.5 / 50) * 50);

    /// <summary>
    /// One gold case per proposed intent, drawn from its cluster (the trace nearest its centre after its examples).
    /// Graded against the production answer as a borderline reference when the trace has one (review it), else by an
    /// assertion that an answer is not empty; tagged <see cref="StarterTag"/>.
    /// </summary>
    public static string Cases(TaxonomyProposal proposal, DateOnly added)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        var text = new StringBuilder();
        var number = 0;
        foreach (var intent in proposal.Intents)
        {
            var trace = proposal.Sample[intent.StarterCase].Trace;
            var cohort = proposal.Cohorts.ToDictionary(
                c => c.Name,
                c => trace.Metadata.TryGetValue(c.Field, out var v) && c.Values.Any(x => x.Key == v) ? v : c.Missing,
                StringComparer.Ordinal);
            IReadOnlyList<Reference> references = string.IsNullOrWhiteSpace(trace.Output) ? [] : [new Reference(trace.Output, ReferenceGrade.Borderline)];
            IReadOnlyList<Assertion> assertions = references.Count > 0 ? [] :
                [new Assertion("length", null, new Dictionary<string, JsonElement> { ["min"] = JsonSerializer.SerializeToElement(1) })];
            var evalCase = new EvalCase(
                string.Create(CultureInfo.InvariantCulture, $"gold-{++number:0000}"),
                trace.Input,
                references,
                assertions,
                intent.Name,
                cohort,
                null,
                new Provenance(ProvenanceKind.Sampled, trace.Id, "starter case from recal init --from-traces: the production answer is unreviewed; grade it or write the right one"),
                added,
                null,
                Pool.Gold,
                [StarterTag],
                new SourceLocation("cases/gold.jsonl"));
            text.Append(CaseFileWriter.ToJson(evalCase)).Append('\n');
        }

        return text.ToString();
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text, Quoting);

    private static string OneLine(string text)
    {
        var line = string.Join(" ⏎ ", text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return line.Length <= CommentChars ? line : line[..(CommentChars - 1)] + "…";
    }
}
