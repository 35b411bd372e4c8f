using Recal.Classification;
using Recal.Domain;
using Recal.Storage;

namespace Recal.Drift;

/// <summary>An unlisted metadata value of a cohort dimension and how many of a window's traces carry it.</summary>
public sealed record CohortValueCount(string Value, long Traces);

/// <summary>
/// The values of a cohort dimension's metadata field that taxonomy.yaml does not list, in one traffic window: they are
/// counted as the dimension's missing value, so a mix shown as <c>plan=unknown</c> names what it is made of.
/// </summary>
/// <param name="Dimension">The cohort dimension's name.</param>
/// <param name="Field">The metadata field it reads.</param>
/// <param name="Missing">The value they are counted as (<c>unknown</c> unless the taxonomy says otherwise).</param>
/// <param name="Traces">The window's traces with an unlisted value.</param>
/// <param name="Share">Those traces as a share of the window.</param>
/// <param name="Values">The most frequent unlisted values, most frequent first.</param>
/// <param name="Distinct">Distinct unlisted values seen (at most <see cref="CohortResolver.MaxUnlistedValues"/> are told apart).</param>
public sealed record UnlistedCohort(string Dimension, string Field, string Missing, long Traces, double Share, IReadOnlyList<CohortValueCount> Values, int Distinct);

/// <summary>Finds the unlisted cohort values of a window (docs/drift.md#unlisted-cohort-values).</summary>
public static class UnlistedCohortScan
{
    /// <summary>Values listed per dimension in a report; the rest are counted in <see cref="UnlistedCohort.Distinct"/>.</summary>
    public const int Listed = 10;

    /// <summary>
    /// Reads the window's traces only when one of its cohort dimensions with listed values has traffic in its missing
    /// value (the counts already tell): a window whose cohorts are all listed costs nothing.
    /// </summary>
    public static async ValueTask<IReadOnlyList<UnlistedCohort>> FindAsync(Taxonomy taxonomy, IRecalStore store, DriftWindow window, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(window);
        var suspect = taxonomy.Cohorts.Any(d => d.Values.Count > 0 && window.Cohorts.Any(c =>
            c.Dimension == d.Name && c.Strata.Any(s => s.Stratum == d.Missing && s.TrafficCount > 0)));
        if (!suspect || window.Traces == 0)
        {
            return [];
        }

        var resolver = new CohortResolver(taxonomy);
        await store.ScanTracesAsync(window.From, window.To, trace =>
        {
            // Resolving counts every present value the taxonomy does not list.
            foreach (var _ in resolver.Resolve(trace.Trace.Metadata))
            {
            }
        }, cancellationToken).ConfigureAwait(false);
        return [.. resolver.Unlisted().Select(u => new UnlistedCohort(
            u.Dimension.Name,
            u.Dimension.Field,
            u.Dimension.Missing,
            u.Traces,
            (double)u.Traces / window.Traces,
            [.. u.Values.Take(Listed).Select(v => new CohortValueCount(v.Value, v.Traces))],
            u.Distinct))];
    }
}
