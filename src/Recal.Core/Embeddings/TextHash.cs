using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Recal.Embeddings;

/// <summary>The key a text's embedding is cached under.</summary>
public static class TextHash
{
    /// <summary>
    /// The first 128 bits of the SHA-256 of the text's UTF-8 bytes. Two different texts share a key with probability
    /// about 2⁻¹²⁸ per pair: for ten billion cached texts, about one chance in 10¹⁸ of a single collision.
    /// </summary>
    public static UInt128 Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var length = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (length <= 1024)
        {
            Span<byte> utf8 = stackalloc byte[length];
            SHA256.HashData(utf8[..Encoding.UTF8.GetBytes(text, utf8)], digest);
        }
        else
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        }

        return BinaryPrimitives.ReadUInt128BigEndian(digest);
    }
}
