using System.Collections;

namespace Recal.Domain;

/// <summary>
/// A set of pools, kept in the order they were first named (a run's pools as the user gave them). Spelled as lower-case
/// names joined by commas (<c>gold,shadow</c>): in the store, in reports, and by <see cref="ToString"/>.
/// Two sets are equal when they hold the same pools, whatever the order.
/// </summary>
public sealed class PoolSet : IReadOnlySet<Pool>, IEquatable<PoolSet>
{
    private readonly Pool[] _pools;

    private PoolSet(Pool[] pools) => _pools = pools;

    /// <summary>The pools given, each once, in the order first given.</summary>
    public static PoolSet Of(IEnumerable<Pool> pools)
    {
        ArgumentNullException.ThrowIfNull(pools);
        return new PoolSet([.. pools.Distinct()]);
    }

    /// <summary>
    /// Reads the comma-separated spelling (<c>gold,shadow</c>; case and spaces around names ignored); an unknown name
    /// throws <see cref="FormatException"/> naming it and the pools there are.
    /// </summary>
    public static PoolSet Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var pools = new List<Pool>();
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Enum.TryParse<Pool>(name, ignoreCase: true, out var pool) || !Enum.IsDefined(pool) || char.IsAsciiDigit(name[0]))
            {
                throw new FormatException($"'{name}' is not a pool; the pools are {string.Join(", ", Enum.GetValues<Pool>().Select(NameOf))}");
            }

            pools.Add(pool);
        }

        return Of(pools);
    }

    /// <summary>The lower-case name of a pool, as the store and reports spell it.</summary>
    public static string NameOf(Pool pool) => pool.ToString().ToLowerInvariant();

    /// <summary>The pools' lower-case names, in order.</summary>
    public IReadOnlyList<string> Names => [.. _pools.Select(NameOf)];

    public int Count => _pools.Length;

    public bool Contains(Pool item) => Array.IndexOf(_pools, item) >= 0;

    public IEnumerator<Pool> GetEnumerator() => ((IEnumerable<Pool>)_pools).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool IsProperSubsetOf(IEnumerable<Pool> other) => ToHashSet().IsProperSubsetOf(other);

    public bool IsProperSupersetOf(IEnumerable<Pool> other) => ToHashSet().IsProperSupersetOf(other);

    public bool IsSubsetOf(IEnumerable<Pool> other) => ToHashSet().IsSubsetOf(other);

    public bool IsSupersetOf(IEnumerable<Pool> other) => ToHashSet().IsSupersetOf(other);

    public bool Overlaps(IEnumerable<Pool> other) => ToHashSet().Overlaps(other);

    public bool SetEquals(IEnumerable<Pool> other) => ToHashSet().SetEquals(other);

    public bool Equals(PoolSet? other) => other is not null && SetEquals(other);

    public override bool Equals(object? obj) => obj is PoolSet other && Equals(other);

    public override int GetHashCode() => _pools.Aggregate(0, (hash, pool) => hash | (1 << (int)pool));

    /// <summary>The comma-separated spelling, e.g. <c>gold,shadow</c>.</summary>
    public override string ToString() => string.Join(',', _pools.Select(NameOf));

    private HashSet<Pool> ToHashSet() => [.. _pools];
}
