namespace Recal.Drift;

/// <summary>
/// Overlapping windows cut at every window's bounds: each segment lies inside the same windows all along, so a count
/// over the windows reads each segment once and adds it to every window that holds it.
/// </summary>
internal static class WindowSegments
{
    /// <summary>The segments, oldest first, with the indexes of the windows holding each; stretches in no window are left out.</summary>
    public static IEnumerable<(DateTimeOffset From, DateTimeOffset To, int[] Windows)> Of(IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> windows)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var bounds = windows.SelectMany(w => new[] { w.From, w.To }).Distinct().Order().ToList();
        for (var b = 0; b + 1 < bounds.Count; b++)
        {
            var (from, to) = (bounds[b], bounds[b + 1]);
            var inside = Enumerable.Range(0, windows.Count).Where(i => windows[i].From <= from && to <= windows[i].To).ToArray();
            if (inside.Length > 0)
            {
                yield return (from, to, inside);
            }
        }
    }
}
