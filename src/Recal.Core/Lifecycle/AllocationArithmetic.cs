using System.Globalization;

namespace Recal.Lifecycle;

/// <summary>
/// How a draw's total came about (docs/lifecycle.md#sampling): the size shared out by the target weights, what the
/// floors added to strata whose target is below them, and what strata with too few eligible traces could not give.
/// Floors apply per stratum, so the total may be far above the size; this is what says so, with the numbers.
/// </summary>
/// <param name="Size">The size asked for: <c>--size</c>, or the policy's.</param>
/// <param name="Weighted">What the target weights share out of the size (less than it when weight is fixed for strata the window lacks).</param>
/// <param name="Strata">Strata with eligible traces.</param>
/// <param name="Floor">The policy's floor per stratum.</param>
/// <param name="RaisedStrata">Strata whose target is below the floor and are raised to it.</param>
/// <param name="Raised">Cases the floors add: the sum of floor − target over the raised strata.</param>
/// <param name="ShortStrata">Strata with fewer eligible traces than their target or floor: they give all they have.</param>
/// <param name="Short">Cases those strata cannot give.</param>
/// <param name="Allocated">The whole allocation, rounded to whole cases by largest remainder.</param>
public sealed record AllocationArithmetic(int Size, double Weighted, int Strata, int Floor, int RaisedStrata, double Raised, int ShortStrata, double Short, int Allocated)
{
    /// <summary>What the floors alone need: strata × floor.</summary>
    public long FloorsNeed => (long)Strata * Floor;

    /// <summary>The floors alone need more than the size asked for.</summary>
    public bool FloorsExceedSize => FloorsNeed > Size;

    /// <summary>
    /// The arithmetic in words, one line each: the size, the floors, the short strata, and the sum that will be drawn;
    /// the same lines go to the terminal and to <c>recal sample --json</c>.
    /// </summary>
    /// <param name="sizeSource">Where the size came from, e.g. <c>--size</c> or <c>the policy's size</c>.</param>
    public IReadOnlyList<string> Explain(string sizeSource)
    {
        ArgumentNullException.ThrowIfNull(sizeSource);
        var lines = new List<string>();
        var weighted = Math.Abs(Weighted - Size) < 0.05 ? string.Empty
            : $"; the weights share out {Number(Weighted)} of it ({Number(Size - Weighted)} is fixed for strata with no eligible traffic in the window)";
        lines.Add(Invariant($"Size {Size:N0} ({sizeSource}), shared out by the target weights{weighted}."));
        lines.Add(Floor == 0
            ? "No floor: no stratum is raised."
            : RaisedStrata == 0
                ? Invariant($"Floor {Floor} per stratum: {Strata:N0} strata × {Floor} = {FloorsNeed:N0}; every stratum's target is at or above it.")
                : Invariant($"Floor {Floor} per stratum: {Strata:N0} strata × {Floor} = {FloorsNeed:N0}; {(RaisedStrata == Strata ? "all" : Invariant($"{RaisedStrata:N0} of the"))} {Strata:N0} have a smaller target and are raised to it: +{Number(Raised)}."));
        if (ShortStrata > 0)
        {
            lines.Add(Invariant($"{ShortStrata:N0} strata have fewer eligible traces than that and give all they have: −{Number(Short)}."));
        }

        var sum = Number(Weighted) + (RaisedStrata > 0 ? $" + {Number(Raised)}" : string.Empty) + (ShortStrata > 0 ? $" − {Number(Short)}" : string.Empty);
        var exact = Weighted + Raised - Short;
        var rounded = Math.Abs(exact - Allocated) < 0.05 ? string.Empty : Invariant($" → {Allocated:N0}");
        var why = Allocated > Size
            ? Invariant($", {Allocated - Size:N0} more than the size asked for")
              + (FloorsExceedSize
                  ? Invariant($": floors apply per stratum, and {Strata:N0} strata × {Floor} alone need {FloorsNeed:N0} (to draw about {Size:N0}, lower strata.floor or stratify by fewer keys)")
                  : ": what the floors add")
            : Allocated < Size ? Invariant($", {Size - Allocated:N0} fewer than the size asked for: the window has too few eligible traces") : string.Empty;
        lines.Add(Invariant($"To draw: {sum} = {Number(exact)}{rounded} cases{why}."));
        return lines;
    }

    private static string Number(double value) =>
        Math.Abs(value - Math.Round(value)) < 0.05 ? Math.Round(value).ToString("N0", CultureInfo.InvariantCulture) : value.ToString("N1", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
