using System.Globalization;
using Recal.Diagnostics;
using Recal.Domain;

namespace Recal.Project;

/// <summary>
/// The one rule for a size below what the floors need (RC1106), for the policy's <c>size</c> and for
/// <c>recal sample --size</c> alike. Floors apply per stratum and win over the size (docs/lifecycle.md#sampling), so
/// such a size is not an error: it is a notice that every draw by the strata holds at least floor × strata cases.
/// </summary>
public static class FloorRule
{
    public const string Code = "RC1106";

    /// <summary>
    /// The strata the taxonomy allows for <c>strata.by</c>: the intents and <c>unknown</c> (traffic the classifier cannot
    /// place is its own stratum), times each cohort dimension's values and its missing value.
    /// </summary>
    public static long StrataOf(StrataPolicy strata, Taxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(strata);
        ArgumentNullException.ThrowIfNull(taxonomy);
        return strata.By.Aggregate(1L, (product, key) => product * Math.Max(1, key == "intent"
            ? taxonomy.Intents.Count + 1
            : taxonomy.Cohorts.FirstOrDefault(c => c.Name == key) is { Values.Count: > 0 } cohort ? cohort.Values.Count + 1 : 1));
    }

    /// <summary>The notice when the floors of the taxonomy's strata need more than <paramref name="size"/>; null when they fit.</summary>
    /// <param name="sizeName">What the size is called where it was given: <c>the size</c> in policy.yaml, <c>--size</c> on the command line.</param>
    public static Diagnostic? Check(SamplingPolicy policy, Taxonomy taxonomy, int size, string sizeName, SourceLocation? location = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(sizeName);
        var strata = StrataOf(policy.Strata, taxonomy);
        var floor = policy.Strata.Floor;
        var need = floor * strata;
        if (need <= size)
        {
            return null;
        }

        return new Diagnostic(
            Severity.Warning,
            Code,
            string.Create(CultureInfo.InvariantCulture, $"a floor of {floor} case(s) for each of {strata:N0} strata needs {need:N0} cases, more than {sizeName} {size:N0}: floors apply per stratum and win over the size, so a draw in which every stratum has {floor} eligible trace(s) holds at least {need:N0} cases, not {size:N0}"),
            location,
            string.Create(CultureInfo.InvariantCulture, $"to draw about {size:N0}, lower strata.floor to at most {size / strata} or stratify by fewer keys; or raise {sizeName} to at least {need:N0}"));
    }
}
