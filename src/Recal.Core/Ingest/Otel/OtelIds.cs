using System.Buffers.Text;

namespace Recal.Ingest.Otel;

/// <summary>Trace and span ids: OTLP/JSON writes them in hex; protobuf's generic JSON mapping (and some exporters) in base64.</summary>
internal static class OtelIds
{
    /// <summary>
    /// The id in lower-case hex, from hex or base64 text of an id of <paramref name="bytes"/> bytes; null when the
    /// text is neither or the id is all zeros (invalid in OTLP).
    /// </summary>
    public static string? FromText(string text, int bytes)
    {
        if (text.Length == bytes * 2 && IsHex(text))
        {
            var lower = text.ToLowerInvariant();
            return IsZero(lower) ? null : lower;
        }

        Span<byte> decoded = stackalloc byte[bytes + 3];
        if (Base64.IsValid(text, out var length) && length == bytes && Convert.TryFromBase64String(text, decoded, out var written) && written == bytes)
        {
            return FromBytes(decoded[..bytes]);
        }

        return null;
    }

    /// <summary><see cref="FromText"/> from the UTF-8 text of a JSON string (without its quotes), with no string for the text.</summary>
    public static string? FromUtf8(ReadOnlySpan<byte> text, int bytes)
    {
        if (text.Length != bytes * 2)
        {
            return text.Length <= 64 ? FromText(System.Text.Encoding.UTF8.GetString(text), bytes) : null;
        }

        Span<byte> decoded = stackalloc byte[bytes];
        for (var i = 0; i < bytes; i++)
        {
            var high = HexDigit(text[2 * i]);
            var low = HexDigit(text[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                return FromText(System.Text.Encoding.UTF8.GetString(text), bytes);
            }

            decoded[i] = (byte)((high << 4) | low);
        }

        return FromBytes(decoded);
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>The id in lower-case hex; null when empty or all zeros.</summary>
    public static string? FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty || !bytes.ContainsAnyExcept((byte)0))
        {
            return null;
        }

        return Convert.ToHexStringLower(bytes);
    }

    private static bool IsHex(string text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsZero(string hex)
    {
        foreach (var c in hex)
        {
            if (c != '0')
            {
                return false;
            }
        }

        return true;
    }
}
