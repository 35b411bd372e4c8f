using Recal.Drift;
using Recal.Embeddings;

namespace Recal.Lifecycle;

/// <summary>The order in which a blind spot's traces are offered for drafts (docs/lifecycle.md#drafts-from-a-blind-spot).</summary>
public static class BlindSpotDraw
{
    /// <summary>
    /// The blind spot's trace keys, the first <paramref name="spread"/> picked by k-means++ seeding over its vectors
    /// (each next trace drawn with probability proportional to its squared distance from those already picked, so the
    /// picks cover the cluster instead of crowding its centre), then the rest in a seeded random order, for when
    /// exclusions and near-duplicates turn picks down. The same blind spot and seed give the same order.
    /// </summary>
    public static IReadOnlyList<string> Rank(BlindSpotMembers members, int spread, int seed)
    {
        ArgumentNullException.ThrowIfNull(members);
        ArgumentOutOfRangeException.ThrowIfNegative(spread);
        var random = new Random(seed);
        var picked = SphericalKMeans.PlusPlus(members.Vectors, members.Dimensions, Math.Min(spread, members.Keys.Count), random);
        var taken = picked.ToHashSet();
        var rest = Enumerable.Range(0, members.Keys.Count).Where(i => !taken.Contains(i)).ToArray();
        random.Shuffle(rest);
        return [.. picked.Concat(rest).Select(i => members.Keys[i])];
    }
}
