using System.Text;

namespace Recal.Ingest;

/// <summary>
/// A small direct-mapped cache from UTF-8 bytes to strings, one per thread: traces repeat the same metadata keys,
/// cohort values and model names millions of times, and reusing the string saves an allocation each time.
/// High-cardinality values (user ids) simply replace each other in their slots.
/// </summary>
internal static class Utf8StringCache
{
    private const int Slots = 1024;
    private const int MaxBytes = 48;

    [ThreadStatic]
    private static (byte[] Bytes, string Text)[]? t_slots;

    /// <summary>The string a JSON reader is on: through the cache when it needs no unescaping.</summary>
    public static string? Get(ref System.Text.Json.Utf8JsonReader reader) =>
        reader.TokenType == System.Text.Json.JsonTokenType.String && !reader.ValueIsEscaped && reader.ValueSpan.Length <= MaxBytes
            ? Get(reader.ValueSpan)
            : reader.GetString();

    public static string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        var slots = t_slots ??= new (byte[], string)[Slots];
        var hash = 2166136261u;
        foreach (var b in utf8)
        {
            hash = (hash ^ b) * 16777619u;
        }

        ref var slot = ref slots[hash & (Slots - 1)];
        if (slot.Bytes is { } bytes && utf8.SequenceEqual(bytes))
        {
            return slot.Text;
        }

        var text = Encoding.UTF8.GetString(utf8);
        slot = (utf8.ToArray(), text);
        return text;
    }
}
