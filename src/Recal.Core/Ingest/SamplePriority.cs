using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Recal.Ingest;

/// <summary>
/// A trace's sampling priority under a seed: the first 64 bits (big-endian) of the SHA-256 of the UTF-8 of the seed
/// (invariant digits), U+001F and the trace key. Samples keep the lowest priorities, so they do not depend on the order
/// traces are read in. The store keeps each trace's priority under <see cref="StoredSeed"/> beside it, so a sample under
/// that seed is drawn without reading or hashing any key.
/// </summary>
public static class SamplePriority
{
    /// <summary>The seed whose priorities the store keeps: the seed coverage and the gap timeline sample with by default.</summary>
    public const int StoredSeed = 0;

    [ThreadStatic]
    private static IncrementalHash? _sha256;

    /// <summary>The priority of <paramref name="key"/> under <paramref name="seed"/>.</summary>
    public static ulong Of(int seed, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        _sha256 ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        return Of(_sha256, SeedPrefix(seed), key);
    }

    /// <summary>The UTF-8 of the seed's digits and U+001F, what every key's hash under that seed starts with.</summary>
    public static byte[] SeedPrefix(int seed) =>
        Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{seed}\u001f"));

    /// <summary>The priority of the key whose UTF-8 is <paramref name="keyUtf8"/> under the seed whose <see cref="SeedPrefix"/> is given.</summary>
    /// <param name="sha256">A SHA-256 hash to reuse (a one-shot hash sets up its context every call), left reset.</param>
    public static ulong Of(IncrementalHash sha256, ReadOnlySpan<byte> seedPrefix, ReadOnlySpan<byte> keyUtf8)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        sha256.AppendData(seedPrefix);
        sha256.AppendData(keyUtf8);
        sha256.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt64BigEndian(digest);
    }

    /// <summary>The priority of <paramref name="key"/> under the seed whose <see cref="SeedPrefix"/> is given.</summary>
    /// <param name="sha256">A SHA-256 hash to reuse (a one-shot hash sets up its context every call), left reset.</param>
    public static ulong Of(IncrementalHash sha256, ReadOnlySpan<byte> seedPrefix, string key)
    {
        ArgumentNullException.ThrowIfNull(sha256);
        ArgumentNullException.ThrowIfNull(key);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetMaxByteCount(key.Length);
        var utf8 = length <= 512 ? stackalloc byte[length] : new byte[length];
        sha256.AppendData(seedPrefix);
        sha256.AppendData(utf8[..Encoding.UTF8.GetBytes(key, utf8)]);
        sha256.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt64BigEndian(digest);
    }
}
