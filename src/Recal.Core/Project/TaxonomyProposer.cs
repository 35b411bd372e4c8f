using Microsoft.Extensions.AI;
using Recal.Drift;
using Recal.Embeddings;

namespace Recal.Project;

/// <summary>
/// Proposes a taxonomy from a sample of traffic (docs/taxonomy-from-traces.md): the sample is embedded and clustered
/// as blind spots are (<see cref="TextClusterer"/>), each large enough cluster becomes an intent named from its
/// distinctive words, with the traces nearest its centre as examples; metadata fields with few values become cohort
/// dimensions.
/// </summary>
public static class TaxonomyProposer
{
    public static async ValueTask<(TaxonomyProposal? Proposal, string? Problem)> ProposeAsync(
        TraceSample sample,
        IEmbeddingGenerator<string, Embedding<float>> embedder,
        string embedderId,
        TaxonomyProposalOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(embedder);
        ArgumentNullException.ThrowIfNull(options);
        var traces = sample.Traces();
        var cohorts = Cohorts(sample.Fields(), sample.Read, options);
        if (traces.Count == 0)
        {
            return (new TaxonomyProposal(sample.Read, traces, [], 0, ClusterCountSource.TooFew, [], [], cohorts, 0, embedderId), null);
        }

        var texts = traces.Select(t => t.Text).ToList();
        var (embedded, problem) = await EmbeddedTexts.EmbedAsync(texts, embedder, embedderId, cancellationToken).ConfigureAwait(false);
        if (embedded is null)
        {
            return (null, problem);
        }

        var dimensions = embedded.Dimensions;
        var vectors = embedded.Matrix(texts);
        var clustered = TextClusterer.Cluster(vectors, dimensions, options.Intents, options.CountRule, options.Seed);
        var clustering = clustered.KMeans;
        var ones = Enumerable.Repeat(1.0, traces.Count).ToList();
        var terms = new DistinctiveTerms(texts, ones);
        string Key(int i) => traces[i].Key;
        var groups = Enumerable.Range(0, traces.Count)
            .GroupBy(i => clustering.Assignments[i])
            .Where(g => g.Count() >= options.MinIntentTraces)
            .Select(g => g.ToList())
            .OrderByDescending(g => g.Count)
            .ThenBy(g => Key(g[0]), StringComparer.Ordinal)
            .ToList();
        var described = groups.Select(members =>
        {
            var similarity = members.Select(i => clustering.Similarity[i]).ToList();
            var words = terms.Top(members, TaxonomyProposalOptions.Terms);
            var nearest = TextClusterer.Representatives(members, similarity, vectors, dimensions, Key, options.Examples + 1, TaxonomyProposalOptions.ExampleRepeat)
                .Select(r => members[r]).ToList();
            var examples = nearest.Take(options.Examples).ToList();

            // A tight cluster may hold fewer distinct-enough texts than the classifier needs: top up with the next nearest other texts.
            var distinct = new HashSet<string>(examples.Select(i => texts[i]), StringComparer.Ordinal);
            foreach (var r in Enumerable.Range(0, members.Count).OrderByDescending(r => similarity[r]).ThenBy(r => Key(members[r]), StringComparer.Ordinal))
            {
                if (examples.Count >= Math.Min(options.Examples, TaxonomyReader.MinExamples))
                {
                    break;
                }

                if (distinct.Add(texts[members[r]]))
                {
                    examples.Add(members[r]);
                }
            }

            // The next nearest after the examples, or (in a small cluster) the last example.
            var starter = nearest[^1];
            var shown = new HashSet<string>(nearest.Select(i => texts[i]), StringComparer.Ordinal);
            var edge = Enumerable.Range(0, members.Count)
                .OrderBy(r => similarity[r]).ThenBy(r => Key(members[r]), StringComparer.Ordinal)
                .Select(r => members[r])
                .Where(i => shown.Add(texts[i]))
                .Take(options.EdgeExamples)
                .ToList();
            var focus = words.Count == 0 ? 0 : words.Max(t => t.BlindSpotShare);
            return (Members: members, Words: words, Examples: examples, Starter: starter, Edge: edge, Focus: focus,
                Cohesion: similarity.Average(s => Math.Clamp((double)s, -1, 1)));
        }).ToList();
        var names = ProposalNames.Intents([.. described.Select(d => (IReadOnlyList<string>)[.. d.Words.Select(w => w.Term)])]);
        var intents = described.Select((d, n) => new ProposedIntent(
            names[n],
            clustering.Assignments[d.Members[0]],
            d.Members,
            (double)d.Members.Count / traces.Count,
            d.Words,
            d.Focus >= BlindSpotFinder.MinFocus,
            d.Cohesion,
            clustered.ClusterSilhouette.TryGetValue(clustering.Assignments[d.Members[0]], out var s) ? s : null,
            d.Examples,
            d.Starter,
            d.Edge)).ToList();
        var placed = intents.Sum(i => i.Members.Count);
        return (new TaxonomyProposal(
            sample.Read,
            traces,
            clustering.Assignments,
            clustering.K,
            clustered.Source,
            clustered.Choice?.Scores ?? [],
            intents,
            cohorts,
            traces.Count - placed,
            embedderId), null);
    }

    /// <summary>
    /// The metadata fields that make cohort dimensions: between <see cref="TaxonomyProposalOptions.MinCohortValues"/>
    /// and <see cref="TaxonomyProposalOptions.MaxCohortValues"/> distinct values, carried by at least
    /// <see cref="TaxonomyProposalOptions.MinCohortCoverage"/> of the <paramref name="read"/> traces, with at least
    /// <see cref="TaxonomyProposalOptions.MinTracesPerValue"/> traces per value; most widely carried first.
    /// </summary>
    public static IReadOnlyList<ProposedCohort> Cohorts(IReadOnlyList<FieldValues> fields, long read, TaxonomyProposalOptions options)
    {
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(options);
        var taken = new HashSet<string>(StringComparer.Ordinal);
        return [.. fields
            .Where(f => !f.TooMany
                && f.Values.Count >= options.MinCohortValues
                && f.Values.Count <= options.MaxCohortValues
                && read > 0 && f.Traces >= options.MinCohortCoverage * read
                && f.Traces >= (long)options.MinTracesPerValue * f.Values.Count)
            .OrderByDescending(f => f.Traces)
            .ThenBy(f => f.Field, StringComparer.Ordinal)
            .Select(f => new ProposedCohort(
                ProposalNames.Cohort(f.Field, taken),
                f.Field,
                f.Traces,
                f.Values,
                f.Values.Any(v => v.Key == "unknown") ? "missing" : "unknown"))];
    }
}
